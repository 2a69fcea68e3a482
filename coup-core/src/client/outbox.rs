//! The outbox: chat messages, task changes and read receipts the user made, kept
//! in the offline cache until the server has them, and sent in order, exactly once.
//!
//! Rules:
//! - Items are sent oldest first. A transient failure (server unreachable, busy,
//!   broken) or an ended session stops the flush and keeps the item and everything
//!   after it for the next flush, so order holds.
//! - Exactly once: a message carries its item's client id as `clientId`, a created
//!   task too, and the server answers a resend with the first result. Marking done
//!   is sent as the absolute state (`isDone`), never as a toggle; deleting a task
//!   that is already gone counts as done; read receipts only ever move forward.
//! - A task created offline can be changed before the server has it: later items
//!   name it by its create item's client id ([`TaskRef::Pending`]). When the
//!   create goes out, the server's id is recorded with the removal of the item (one
//!   transaction), and the later items, sent after it, use that id. If the create
//!   was refused, they fail too (`NOT_FOUND`): their task never existed.
//! - A refusal (the server's 4xx code, e.g. `NOT_FOUND` after a kick) marks the item
//!   failed with the server's code and message; it is never retried, and the items
//!   after it go on. So does the server's internal error the fifth time in a row
//!   (a server that breaks on one item would otherwise block the outbox forever).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::api::{ApiClient, is_transient};
use super::cache::Cache;
use crate::api::chat::{ReadPosition, SendMessage};
use crate::api::tasks::{NewTask, TaskPatch};
use crate::error::{Error, ErrorCode, Result};
use crate::ids::{FileId, MessageId, StudyId, TaskId};
use crate::model::{ChatMessage, Task};

/// A task an outbox item changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum TaskRef {
    /// A task the server has (stored as its plain id).
    Id(TaskId),
    /// A task this outbox is still creating, by its create item's client id.
    #[serde(rename_all = "camelCase")]
    Pending { client_id: String },
}

impl From<TaskId> for TaskRef {
    fn from(id: TaskId) -> Self {
        Self::Id(id)
    }
}

/// Something the user did that the server must learn.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum OutboxAction {
    /// Post a chat message.
    #[serde(rename_all = "camelCase")]
    SendMessage {
        study_id: StudyId,
        content: String,
        file_id: Option<FileId>,
    },
    /// Create a task (its `clientId` is the item's).
    #[serde(rename_all = "camelCase")]
    CreateTask { task: NewTask },
    /// Change a task's fields.
    #[serde(rename_all = "camelCase")]
    UpdateTask { task_id: TaskRef, patch: TaskPatch },
    /// Mark a task done or open.
    #[serde(rename_all = "camelCase")]
    SetTaskDone { task_id: TaskRef, done: bool },
    /// Delete a task.
    #[serde(rename_all = "camelCase")]
    DeleteTask { task_id: TaskRef },
    /// Read a study's chat up to a message.
    #[serde(rename_all = "camelCase")]
    MarkRead {
        study_id: StudyId,
        message_id: MessageId,
    },
}

/// Where an item is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OutboxState {
    /// Waiting to be sent (shown as pending).
    Pending,
    /// Refused by the server; kept to show why, not retried unless the user
    /// asks ([`retry`]) — or dropped ([`discard`]).
    #[serde(rename_all = "camelCase")]
    Failed {
        code: ErrorCode,
        server_code: String,
        message: String,
        /// The server's reason, where it gave one (see `crate::Reason`).
        #[serde(default)]
        reason: Option<String>,
    },
}

/// One stored action.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OutboxItem {
    /// Its place in the outbox: items are sent in this order.
    pub id: i64,
    /// The idempotency key sent with it.
    pub client_id: String,
    pub action: OutboxAction,
    pub state: OutboxState,
    /// Answers the server gave it: without a verdict (busy, broken, session
    /// ended) or the refusal that failed it. Tries that got no answer do not count.
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
}

/// What the server answered to a sent item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Sent {
    /// The stored message.
    #[serde(rename_all = "camelCase")]
    Message { message: ChatMessage },
    /// The created or changed task.
    #[serde(rename_all = "camelCase")]
    Task { task: Task },
    /// The task is gone.
    #[serde(rename_all = "camelCase")]
    TaskDeleted { task_id: TaskId },
    /// The read position now.
    #[serde(rename_all = "camelCase")]
    Read {
        study_id: StudyId,
        position: ReadPosition,
    },
}

/// The outcome of one flush.
#[derive(Debug, Default)]
pub struct FlushReport {
    /// Items the server took, in order, with its answers.
    pub sent: Vec<(OutboxItem, Sent)>,
    /// Items the server refused during this flush.
    pub failed: Vec<OutboxItem>,
    /// Why the flush stopped early (the rest is still pending), if it did.
    pub stopped: Option<Error>,
}

/// A new client id: a random UUID, 32 hex digits.
pub fn new_client_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Stores an action in the outbox; it is sent by the next [`flush`]. A
/// [`TaskRef::Pending`] whose create already went out is stored with the server's
/// id; one that names no create of this outbox is refused (`NOT_FOUND`).
pub fn enqueue(cache: &Cache, action: OutboxAction) -> Result<OutboxItem> {
    let client_id = new_client_id();
    let action = match action {
        OutboxAction::CreateTask { mut task } => {
            task.client_id = Some(client_id.clone());
            OutboxAction::CreateTask { task }
        }
        OutboxAction::UpdateTask { task_id, patch } => OutboxAction::UpdateTask {
            task_id: known(cache, task_id)?,
            patch,
        },
        OutboxAction::SetTaskDone { task_id, done } => OutboxAction::SetTaskDone {
            task_id: known(cache, task_id)?,
            done,
        },
        OutboxAction::DeleteTask { task_id } => OutboxAction::DeleteTask {
            task_id: known(cache, task_id)?,
        },
        other => other,
    };
    let item = cache.outbox_push(&client_id, &action)?;
    apply_locally(cache, &item.action)?;
    Ok(item)
}

/// `task` with the server's id if its create went out already; an error if it
/// names no create of this outbox.
fn known(cache: &Cache, task: TaskRef) -> Result<TaskRef> {
    let TaskRef::Pending { client_id } = &task else {
        return Ok(task);
    };
    if let Some(id) = cache.created_task(client_id)? {
        return Ok(TaskRef::Id(id));
    }
    let creating = cache.outbox()?.iter().any(|item| {
        item.state == OutboxState::Pending
            && matches!(&item.action, OutboxAction::CreateTask { .. })
            && item.client_id == *client_id
    });
    if creating {
        Ok(task)
    } else {
        Err(Error::NotFound("pending task"))
    }
}

/// What the cache shows at once, before the server confirms: done flags and
/// deletions of tasks it holds.
fn apply_locally(cache: &Cache, action: &OutboxAction) -> Result<()> {
    match action {
        OutboxAction::SetTaskDone {
            task_id: TaskRef::Id(task_id),
            done,
        } => {
            if let Some(mut task) = cache.tasks()?.into_iter().find(|t| t.id == *task_id) {
                task.is_done = *done;
                cache.put_task(&task)?;
            }
            Ok(())
        }
        OutboxAction::DeleteTask {
            task_id: TaskRef::Id(task_id),
        } => cache.remove_task(*task_id),
        _ => Ok(()),
    }
}

/// The server's id of `task`. Items go out in order, so a pending task not known
/// by now is one whose create was refused (or dismissed): it never existed.
fn resolve(cache: &Cache, task: &TaskRef) -> Result<TaskId> {
    match task {
        TaskRef::Id(id) => Ok(*id),
        TaskRef::Pending { client_id } => cache
            .created_task(client_id)?
            .ok_or(Error::NotFound("task (its creation failed)")),
    }
}

/// Sends one item.
async fn perform(api: &ApiClient, cache: &Cache, item: &OutboxItem) -> Result<Sent> {
    match &item.action {
        OutboxAction::SendMessage {
            study_id,
            content,
            file_id,
        } => {
            let input = SendMessage {
                content: content.clone(),
                file_id: *file_id,
                client_id: Some(item.client_id.clone()),
            };
            api.send_message(*study_id, &input)
                .await
                .map(|message| Sent::Message { message })
        }
        OutboxAction::CreateTask { task } => {
            api.create_task(task).await.map(|task| Sent::Task { task })
        }
        OutboxAction::UpdateTask { task_id, patch } => {
            let task_id = resolve(cache, task_id)?;
            api.update_task(task_id, patch)
                .await
                .map(|task| Sent::Task { task })
        }
        OutboxAction::SetTaskDone { task_id, done } => {
            let task_id = resolve(cache, task_id)?;
            let patch = TaskPatch {
                is_done: Some(*done),
                ..TaskPatch::default()
            };
            api.update_task(task_id, &patch)
                .await
                .map(|task| Sent::Task { task })
        }
        OutboxAction::DeleteTask { task_id } => {
            let task_id = resolve(cache, task_id)?;
            match api.delete_task(task_id).await {
                Ok(()) => Ok(Sent::TaskDeleted { task_id }),
                // Gone already (e.g. the first attempt's answer was lost): the goal holds.
                Err(e) if e.code() == ErrorCode::NotFound => Ok(Sent::TaskDeleted { task_id }),
                Err(e) => Err(e),
            }
        }
        OutboxAction::MarkRead {
            study_id,
            message_id,
        } => api
            .mark_message_read(*study_id, *message_id)
            .await
            .map(|position| Sent::Read {
                study_id: *study_id,
                position,
            }),
    }
}

/// Whether an error stops the flush (and keeps the item pending) rather than
/// failing the item: the server could not decide, or the session must be renewed.
fn stops_the_flush(error: &Error) -> bool {
    is_transient(error) || error.code() == ErrorCode::Unauthorized
}

/// How many internal errors the server may answer one item with before it is
/// failed: a server that breaks on one input every time must not hold the
/// outbox up forever (unreachable, busy or restarting servers never fail items).
const MAX_BROKEN_ANSWERS: u32 = 5;

/// Whether `error` is the server's internal error and the item, with
/// `attempts` answers before, has had its last chance.
fn broke_too_often(error: &Error, attempts: u32) -> bool {
    matches!(
        error,
        Error::Remote {
            code: ErrorCode::Internal,
            ..
        }
    ) && attempts + 1 >= MAX_BROKEN_ANSWERS
}

/// Records what the server answered in the cache.
fn remember(cache: &Cache, sent: &Sent) -> Result<()> {
    match sent {
        Sent::Message { message } => cache.put_messages(std::slice::from_ref(message)),
        Sent::Task { task } => cache.put_task(task),
        Sent::TaskDeleted { task_id } => cache.remove_task(*task_id),
        Sent::Read { .. } => Ok(()),
    }
}

/// Puts a failed item back in line, to be sent by the next flush (in its
/// original place: items go out by id), as if new: its answers count from zero.
/// Refused for an item that is not failed.
pub fn retry(cache: &Cache, item: i64) -> Result<OutboxItem> {
    let failed = failed_item(cache, item)?;
    cache.outbox_requeue(item)?;
    Ok(OutboxItem {
        state: OutboxState::Pending,
        attempts: 0,
        ..failed
    })
}

/// Drops a failed item: the user gave up on it.
pub fn discard(cache: &Cache, item: i64) -> Result<()> {
    failed_item(cache, item)?;
    cache.outbox_remove(item)
}

fn failed_item(cache: &Cache, item: i64) -> Result<OutboxItem> {
    cache
        .outbox()?
        .into_iter()
        .find(|i| i.id == item && matches!(i.state, OutboxState::Failed { .. }))
        .ok_or(Error::NotFound("failed outbox item"))
}

/// Sends the pending items in order until one stops the flush.
pub async fn flush(api: &ApiClient, cache: &Cache) -> Result<FlushReport> {
    let mut report = FlushReport::default();
    let pending = cache
        .outbox()?
        .into_iter()
        .filter(|item| item.state == OutboxState::Pending);
    for item in pending {
        match perform(api, cache, &item).await {
            Ok(sent) => {
                match (&item.action, &sent) {
                    // Later items may name this task by the item's client id.
                    (OutboxAction::CreateTask { .. }, Sent::Task { task }) => {
                        cache.outbox_created(item.id, &item.client_id, task.id)?;
                    }
                    _ => cache.outbox_remove(item.id)?,
                }
                remember(cache, &sent)?;
                report.sent.push((item, sent));
            }
            Err(error) if stops_the_flush(&error) && !broke_too_often(&error, item.attempts) => {
                // Only an answer is an attempt: being offline for long is no
                // reason to give up on an item.
                if matches!(error, Error::Remote { .. }) {
                    cache.outbox_update(item.id, &OutboxState::Pending)?;
                }
                report.stopped = Some(error);
                break;
            }
            Err(error) => {
                let state = OutboxState::Failed {
                    code: error.code(),
                    server_code: match &error {
                        Error::Remote { server_code, .. } => server_code.clone(),
                        other => other.code().as_str().to_owned(),
                    },
                    message: error.public_message(),
                    reason: error.reason().map(|r| r.as_str().to_owned()).or_else(
                        || match &error {
                            Error::Remote { reason, .. } => reason.clone(),
                            _ => None,
                        },
                    ),
                };
                cache.outbox_update(item.id, &state)?;
                report.failed.push(OutboxItem {
                    state,
                    attempts: item.attempts + 1,
                    ..item
                });
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorDetail;

    fn remote(status: u16, code: &str) -> Error {
        Error::from_remote(
            status,
            ErrorDetail {
                code: code.into(),
                message: "m".into(),
                field: None,
                reason: None,
            },
        )
    }

    #[test]
    fn refusals_fail_the_item_and_everything_else_waits() {
        assert!(stops_the_flush(&Error::transport("connecting", "refused")));
        assert!(stops_the_flush(&remote(503, "UNAVAILABLE")));
        assert!(stops_the_flush(&remote(401, "UNAUTHORIZED")));
        assert!(!stops_the_flush(&remote(404, "NOT_FOUND")));
        assert!(!stops_the_flush(&remote(403, "FORBIDDEN")));
        assert!(!stops_the_flush(&remote(400, "VALIDATION")));
    }

    #[test]
    fn created_tasks_carry_the_item_client_id_and_done_flags_show_at_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = Cache::open(
            &dir.path().join("cache.db"),
            "http://server",
            crate::ids::UserId::new(),
        )
        .expect("cache");
        let task = NewTask {
            title: "t".into(),
            description: None,
            due_at: None,
            priority: crate::model::Priority::Low,
            study_id: None,
            client_id: None,
        };
        let item = enqueue(&cache, OutboxAction::CreateTask { task }).expect("enqueue");
        let OutboxAction::CreateTask { task } = &item.action else {
            panic!("{item:?}");
        };
        assert_eq!(task.client_id.as_deref(), Some(item.client_id.as_str()));
        let now = Utc::now();
        let held = Task {
            id: TaskId::new(),
            user_id: crate::ids::UserId::new(),
            study_id: None,
            title: "held".into(),
            description: None,
            due_at: None,
            priority: crate::model::Priority::Low,
            is_done: false,
            done_at: None,
            created_at: now,
            updated_at: now,
        };
        cache.put_task(&held).expect("put");
        enqueue(
            &cache,
            OutboxAction::SetTaskDone {
                task_id: held.id.into(),
                done: true,
            },
        )
        .expect("enqueue");
        assert!(cache.tasks().expect("tasks")[0].is_done);
        let stored = cache.outbox().expect("outbox");
        assert_eq!(stored.len(), 2);
        assert!(stored.iter().all(|i| i.state == OutboxState::Pending));
        assert_ne!(stored[0].client_id, stored[1].client_id);
    }

    #[test]
    fn pending_tasks_are_named_by_their_create_and_resolved_once_it_went_out() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = Cache::open(
            &dir.path().join("cache.db"),
            "http://server",
            crate::ids::UserId::new(),
        )
        .expect("cache");
        let done = |task_id: TaskRef| OutboxAction::SetTaskDone {
            task_id,
            done: true,
        };
        // No create with that client id: refused at once.
        let unknown = enqueue(
            &cache,
            done(TaskRef::Pending {
                client_id: "nothing".into(),
            }),
        );
        assert_eq!(
            unknown.map(|_| ()).map_err(|e| e.code()),
            Err(ErrorCode::NotFound)
        );
        let task = NewTask {
            title: "t".into(),
            description: None,
            due_at: None,
            priority: crate::model::Priority::Low,
            study_id: None,
            client_id: None,
        };
        let create = enqueue(&cache, OutboxAction::CreateTask { task }).expect("create");
        let pending = TaskRef::Pending {
            client_id: create.client_id.clone(),
        };
        let item = enqueue(&cache, done(pending.clone())).expect("while pending");
        assert!(
            matches!(&item.action, OutboxAction::SetTaskDone { task_id, .. } if *task_id == pending)
        );
        // The create went out: its item is gone, the id known, later names resolve.
        let id = TaskId::new();
        cache
            .outbox_created(create.id, &create.client_id, id)
            .expect("created");
        assert_eq!(cache.outbox().expect("outbox").len(), 1);
        assert_eq!(resolve(&cache, &pending).expect("resolve"), id);
        let late = enqueue(&cache, done(pending)).expect("after");
        assert!(
            matches!(late.action, OutboxAction::SetTaskDone { task_id: TaskRef::Id(t), .. } if t == id)
        );
        // A plain id is stored as before (a bare string), a pending one by client id.
        let json = serde_json::to_value(&late.action).expect("json");
        assert_eq!(json["taskId"], serde_json::json!(id.to_string()));
        let json = serde_json::to_value(&item.action).expect("json");
        assert_eq!(
            json["taskId"]["clientId"],
            serde_json::json!(create.client_id)
        );
    }

    /// An HTTP server that answers every request with the API's 500 body.
    async fn broken_server() -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            while let Ok((mut tcp, _)) = listener.accept().await {
                let mut request = [0u8; 4096];
                let _ = tcp.read(&mut request).await;
                let body = r#"{"error":{"code":"INTERNAL","message":"internal error"}}"#;
                let response = format!(
                    "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tcp.write_all(response.as_bytes()).await;
            }
        });
        base
    }

    #[tokio::test]
    async fn an_item_the_server_keeps_breaking_on_fails_instead_of_blocking_forever() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = Cache::open(
            &dir.path().join("cache.db"),
            "http://server",
            crate::ids::UserId::new(),
        )
        .expect("cache");
        let read = || OutboxAction::MarkRead {
            study_id: StudyId::new(),
            message_id: MessageId::new(),
        };
        enqueue(&cache, read()).expect("enqueue");
        enqueue(&cache, read()).expect("enqueue");
        // Unreachable: no answer, no attempt counted, however often.
        let offline = ApiClient::new("http://127.0.0.1:9").expect("client");
        for _ in 0..MAX_BROKEN_ANSWERS + 1 {
            let report = flush(&offline, &cache).await.expect("flush");
            assert_eq!(
                report.stopped.map(|e| e.code()),
                Some(ErrorCode::Unavailable)
            );
        }
        assert_eq!(cache.outbox().expect("outbox")[0].attempts, 0);
        // Answered with an internal error: retried, then failed, and the next goes on.
        let broken = ApiClient::new(&broken_server().await).expect("client");
        for _ in 1..MAX_BROKEN_ANSWERS {
            let report = flush(&broken, &cache).await.expect("flush");
            assert!(report.failed.is_empty() && report.stopped.is_some());
        }
        let report = flush(&broken, &cache).await.expect("flush");
        assert_eq!(report.failed.len(), 1, "{report:?}");
        let outbox = cache.outbox().expect("outbox");
        assert!(matches!(
            &outbox[0].state,
            OutboxState::Failed {
                code: ErrorCode::Internal,
                ..
            }
        ));
        assert_eq!(outbox[0].attempts, MAX_BROKEN_ANSWERS);
        assert_eq!(outbox[1].state, OutboxState::Pending);
        assert_eq!(outbox[1].attempts, 1, "the next item was tried");
    }
}
