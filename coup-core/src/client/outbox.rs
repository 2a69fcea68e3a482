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
//! - A refusal (the server's 4xx code, e.g. `NOT_FOUND` after a kick) marks the item
//!   failed with the server's code and message; it is never retried, and the items
//!   after it go on.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::api::{ApiClient, is_transient};
use super::cache::Cache;
use crate::error::{Error, ErrorCode, Result};
use crate::ids::{FileId, MessageId, StudyId, TaskId};
use crate::model::{ChatMessage, Task};
use crate::service::chat::{ReadPosition, SendMessage};
use crate::service::tasks::{NewTask, TaskPatch};

/// Something the user did that the server must learn.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum OutboxAction {
    /// Post a chat message.
    SendMessage {
        study_id: StudyId,
        content: String,
        file_id: Option<FileId>,
    },
    /// Create a task (its `clientId` is the item's).
    CreateTask { task: NewTask },
    /// Change a task's fields.
    UpdateTask { task_id: TaskId, patch: TaskPatch },
    /// Mark a task done or open.
    SetTaskDone { task_id: TaskId, done: bool },
    /// Delete a task.
    DeleteTask { task_id: TaskId },
    /// Read a study's chat up to a message.
    MarkRead {
        study_id: StudyId,
        message_id: MessageId,
    },
}

/// Where an item is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "state",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase"
)]
pub enum OutboxState {
    /// Waiting to be sent (shown as pending).
    Pending,
    /// Refused by the server; kept to show why, never retried.
    Failed {
        code: ErrorCode,
        server_code: String,
        message: String,
    },
}

/// One stored action.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxItem {
    /// Its place in the outbox: items are sent in this order.
    pub id: i64,
    /// The idempotency key sent with it.
    pub client_id: String,
    pub action: OutboxAction,
    pub state: OutboxState,
    /// Attempts that did not reach a verdict.
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
}

/// What the server answered to a sent item.
#[derive(Debug, Clone, PartialEq)]
pub enum Sent {
    Message(ChatMessage),
    Task(Task),
    TaskDeleted(TaskId),
    Read(StudyId, ReadPosition),
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

/// Stores an action in the outbox; it is sent by the next [`flush`].
pub fn enqueue(cache: &Cache, action: OutboxAction) -> Result<OutboxItem> {
    let client_id = new_client_id();
    let action = match action {
        OutboxAction::CreateTask { mut task } => {
            task.client_id = Some(client_id.clone());
            OutboxAction::CreateTask { task }
        }
        other => other,
    };
    let item = cache.outbox_push(&client_id, &action)?;
    apply_locally(cache, &item.action)?;
    Ok(item)
}

/// What the cache shows at once, before the server confirms: done flags and
/// deletions of tasks it holds.
fn apply_locally(cache: &Cache, action: &OutboxAction) -> Result<()> {
    match action {
        OutboxAction::SetTaskDone { task_id, done } => {
            if let Some(mut task) = cache.tasks()?.into_iter().find(|t| t.id == *task_id) {
                task.is_done = *done;
                cache.put_task(&task)?;
            }
            Ok(())
        }
        OutboxAction::DeleteTask { task_id } => cache.remove_task(*task_id),
        _ => Ok(()),
    }
}

/// Sends one item.
async fn perform(api: &ApiClient, item: &OutboxItem) -> Result<Sent> {
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
            api.send_message(*study_id, &input).await.map(Sent::Message)
        }
        OutboxAction::CreateTask { task } => api.create_task(task).await.map(Sent::Task),
        OutboxAction::UpdateTask { task_id, patch } => {
            api.update_task(*task_id, patch).await.map(Sent::Task)
        }
        OutboxAction::SetTaskDone { task_id, done } => {
            let patch = TaskPatch {
                is_done: Some(*done),
                ..TaskPatch::default()
            };
            api.update_task(*task_id, &patch).await.map(Sent::Task)
        }
        OutboxAction::DeleteTask { task_id } => match api.delete_task(*task_id).await {
            Ok(()) => Ok(Sent::TaskDeleted(*task_id)),
            // Gone already (e.g. the first attempt's answer was lost): the goal holds.
            Err(e) if e.code() == ErrorCode::NotFound => Ok(Sent::TaskDeleted(*task_id)),
            Err(e) => Err(e),
        },
        OutboxAction::MarkRead {
            study_id,
            message_id,
        } => api
            .mark_message_read(*study_id, *message_id)
            .await
            .map(|position| Sent::Read(*study_id, position)),
    }
}

/// Whether an error stops the flush (and keeps the item pending) rather than
/// failing the item: the server could not decide, or the session must be renewed.
fn stops_the_flush(error: &Error) -> bool {
    is_transient(error) || error.code() == ErrorCode::Unauthorized
}

/// Records what the server answered in the cache.
fn remember(cache: &Cache, sent: &Sent) -> Result<()> {
    match sent {
        Sent::Message(message) => cache.put_messages(std::slice::from_ref(message)),
        Sent::Task(task) => cache.put_task(task),
        Sent::TaskDeleted(task) => cache.remove_task(*task),
        Sent::Read(..) => Ok(()),
    }
}

/// Sends the pending items in order until one stops the flush.
pub async fn flush(api: &ApiClient, cache: &Cache) -> Result<FlushReport> {
    let mut report = FlushReport::default();
    let pending = cache
        .outbox()?
        .into_iter()
        .filter(|item| item.state == OutboxState::Pending);
    for item in pending {
        match perform(api, &item).await {
            Ok(sent) => {
                cache.outbox_remove(item.id)?;
                remember(cache, &sent)?;
                report.sent.push((item, sent));
            }
            Err(error) if stops_the_flush(&error) => {
                cache.outbox_update(item.id, &OutboxState::Pending)?;
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
            },
        )
    }

    #[test]
    fn refusals_fail_the_item_and_everything_else_waits() {
        assert!(stops_the_flush(&Error::Transport("refused".into())));
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
                task_id: held.id,
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
}
