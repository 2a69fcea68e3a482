//! Demo data: a small, believable platform to click through, seeded by the
//! server's `--demo` flag.
//!
//! This is **demo data**. It is only ever seeded when someone explicitly asks for it
//! (`--demo`, a test); no production path calls [`seed`]. It lives in the server,
//! not in `coup-core`, so nothing else that links the core (the bindings, the
//! desktop app) carries it. Everything is created through the real service
//! operations via [`Core`], so every rule is checked, every domain event is raised
//! and every notification is written exactly as if people had done it by hand.
//!
//! The content is data, not code: `data.json` beside this file, embedded at build
//! time and read into the typed records below. People and studies are named by
//! key (`"kim"`) and by name, never by position; a chat line may carry the report
//! someone files about it.
//!
//! What [`seed`] creates:
//!
//! - 10 accounts, all with the password [`DEMO_PASSWORD`]: [`DEMO_EMAIL`] (김민수,
//!   the account to log in with) and [`ADMIN_EMAIL`] (a SYSTEM_ADMIN), plus eight
//!   more. Names are one word so `@mentions` work.
//! - 8 studies (public and private, AUTO and APPROVAL). 김민수 is an active member
//!   of 6: OWNER of 2, ADMIN of 1, MEMBER of 3; one study he owns has a join request
//!   waiting for him.
//! - In each study: members, notices (one pinned), calendar events in the coming
//!   two weeks, and a chat with `@mentions`.
//! - Tasks for 김민수, some tied to studies, some done.
//! - Files, only when a blob store is given (see [`seed`]), written through it
//!   like uploads: to a temporary file, renamed into place when complete.
//! - One report waiting for the admin.
//!
//! Seeding is idempotent: when [`DEMO_EMAIL`] exists, [`seed`] writes nothing. It
//! is not atomic (each step is its own transaction, as in real use), so a seed that
//! fails half way should be retried on a fresh database.

use std::collections::HashMap;
use std::fmt;

use axum::body::Bytes;
use chrono::{DateTime, Duration, DurationRound, Utc};
use coup_core::Core;
use coup_core::error::{Error, Result};
use coup_core::events::{DomainEvent, Outcome};
use coup_core::ids::{MessageId, StudyId, UserId};
use coup_core::model::{JoinPolicy, MemberStatus, PlatformRole, Priority, ReportTarget, StudyRole};
use coup_core::service;
use coup_core::service::accounts::{self, Signup};
use coup_core::service::calendar::NewEvent;
use coup_core::service::chat::SendMessage;
use coup_core::service::files::NewFile;
use coup_core::service::membership::{JoinRequest, RoleChange};
use coup_core::service::notices::NewNotice;
use coup_core::service::reports::NewReport;
use coup_core::service::studies::NewStudy;
use coup_core::service::tasks::NewTask;
use coup_core::store::Tx;
use serde::Deserialize;

use crate::blobs::Blobs;

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "study-together-42";
/// The demo account to log in with (김민수). Its existence marks a seeded database.
pub const DEMO_EMAIL: &str = "kim@example.com";
/// The demo SYSTEM_ADMIN account.
pub const ADMIN_EMAIL: &str = "admin@example.com";

/// What [`seed`] did. The counts are what this call created, so they are all zero
/// when the database was already seeded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedReport {
    /// The demo data was already there; nothing was written.
    pub already_seeded: bool,
    /// Accounts created.
    pub users: usize,
    /// Studies created.
    pub studies: usize,
    /// Chat messages sent.
    pub messages: usize,
    /// Notices posted.
    pub notices: usize,
    /// Calendar events created.
    pub events: usize,
    /// Tasks created.
    pub tasks: usize,
    /// Files stored and registered (zero without a blob directory).
    pub files: usize,
    /// Notifications the operations caused.
    pub notifications: usize,
}

impl fmt::Display for SeedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.already_seeded {
            return write!(
                f,
                "demo data already present ({DEMO_EMAIL} exists); nothing written"
            );
        }
        write!(
            f,
            "demo data: {} users, {} studies, {} messages, {} notices, {} events, {} tasks, {} files, \
             {} notifications; log in as {DEMO_EMAIL} / {DEMO_PASSWORD}",
            self.users,
            self.studies,
            self.messages,
            self.notices,
            self.events,
            self.tasks,
            self.files,
            self.notifications
        )
    }
}

/// The demo's content (`data.json`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Demo {
    users: Vec<UserSpec>,
    studies: Vec<StudySpec>,
    /// 김민수's ([`DEMO_EMAIL`]'s) tasks.
    tasks: Vec<TaskSpec>,
    files: Vec<FileSpec>,
}

/// An account; the others name it by `key`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserSpec {
    key: String,
    email: String,
    /// One word, so `@mentions` find it.
    name: String,
    role: PlatformRole,
}

/// A study and what happens in it; people are named by their key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StudySpec {
    owner: String,
    name: String,
    description: String,
    category: String,
    tags: Vec<String>,
    max_members: u32,
    is_public: bool,
    join_policy: JoinPolicy,
    /// Who joins and ends up ACTIVE (approved by the owner in APPROVAL studies, by
    /// invite code in private ones).
    members: Vec<String>,
    /// Members the owner makes ADMIN.
    admins: Vec<String>,
    /// Who asks to join and is left waiting.
    pending: Vec<PendingSpec>,
    notices: Vec<NoticeSpec>,
    events: Vec<EventSpec>,
    chat: Vec<ChatSpec>,
}

/// A join request left waiting, with its message.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PendingSpec {
    user: String,
    message: String,
}

/// A notice.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoticeSpec {
    author: String,
    title: String,
    content: String,
    pinned: bool,
}

/// A calendar event `day` days from today, starting at `kst_hour` Korean time and
/// lasting `hours` (0 = all day).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventSpec {
    creator: String,
    title: String,
    description: String,
    day: i64,
    kst_hour: i64,
    hours: i64,
    location: String,
}

/// A chat message, and the report someone files about it, if any.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChatSpec {
    author: String,
    text: String,
    #[serde(default)]
    report: Option<ReportSpec>,
}

/// A report about a chat message, left waiting for the admin.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportSpec {
    by: String,
    reason: String,
}

/// A task; `study` is a study's name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskSpec {
    title: String,
    description: String,
    due_in_days: Option<i64>,
    priority: Priority,
    study: Option<String>,
    done: bool,
}

/// A small real file, uploaded to a study (by name) and announced in its chat.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    study: String,
    uploader: String,
    name: String,
    content_type: String,
    contents: String,
}

impl Demo {
    /// The embedded content.
    fn embedded() -> Result<Self> {
        serde_json::from_str(include_str!("data.json"))
            .map_err(|e| Error::failed("demo: reading data.json", e))
    }
}

/// Seeds the demo data unless it is already there (see the module docs).
///
/// With `blobs`, demo files are stored as small real blobs through the server's
/// blob store and registered, so they can be downloaded; that store is async, so
/// call this from a blocking thread of a Tokio runtime (`spawn_blocking`).
/// Without it, files are skipped entirely: metadata without a blob would be a
/// file nobody can download.
pub fn seed(core: &Core, blobs: Option<&Blobs>) -> Result<SeedReport> {
    if core
        .read_blocking(|tx| accounts::credentials_by_email(tx, DEMO_EMAIL))?
        .is_some()
    {
        return Ok(SeedReport {
            already_seeded: true,
            ..SeedReport::default()
        });
    }
    let demo = Demo::embedded()?;
    let mut seeder = Seeder {
        core,
        report: SeedReport::default(),
        users: HashMap::new(),
        studies: HashMap::new(),
        reports: Vec::new(),
    };
    seeder.users(&demo.users)?;
    for spec in &demo.studies {
        let study = seeder.study(spec)?;
        seeder.chat(study, spec)?;
    }
    let kim = demo
        .users
        .iter()
        .find(|u| u.email == DEMO_EMAIL)
        .ok_or_else(|| Error::Internal(format!("the demo data has no {DEMO_EMAIL}")))?;
    seeder.tasks(seeder.user(&kim.key)?, &demo.tasks)?;
    if let Some(blobs) = blobs {
        seeder.files(blobs, &demo.files)?;
    }
    for (reporter, message, reason) in std::mem::take(&mut seeder.reports) {
        seeder.report(reporter, message, reason)?;
    }
    Ok(seeder.report)
}

struct Seeder<'a> {
    core: &'a Core,
    report: SeedReport,
    /// Accounts by key.
    users: HashMap<String, UserId>,
    /// Studies by name.
    studies: HashMap<String, StudyId>,
    /// Reports to file once everything else is there: reporter, message, reason.
    reports: Vec<(UserId, MessageId, String)>,
}

impl Seeder<'_> {
    /// Runs one operation and counts the notifications it caused.
    fn write<T>(&mut self, op: impl FnOnce(&mut dyn Tx) -> Result<Outcome<T>>) -> Result<T> {
        let outcome = self.core.write_blocking(op)?;
        self.count(&outcome.events);
        Ok(outcome.value)
    }

    fn count(&mut self, events: &[DomainEvent]) {
        self.report.notifications += events
            .iter()
            .filter(|e| matches!(e, DomainEvent::NotificationCreated { .. }))
            .count();
    }

    /// The account the data names `key`.
    fn user(&self, key: &str) -> Result<UserId> {
        self.users
            .get(key)
            .copied()
            .ok_or_else(|| Error::Internal(format!("the demo data names no user {key:?}")))
    }

    /// The study the data names `name`.
    fn study_named(&self, name: &str) -> Result<StudyId> {
        self.studies
            .get(name)
            .copied()
            .ok_or_else(|| Error::Internal(format!("the demo data names no study {name:?}")))
    }

    fn users(&mut self, users: &[UserSpec]) -> Result<()> {
        for spec in users {
            let signup = Signup {
                email: spec.email.clone(),
                password: DEMO_PASSWORD.into(),
                name: spec.name.clone(),
            };
            let outcome = self.core.create_user_blocking(&signup, spec.role)?;
            self.count(&outcome.events);
            self.users.insert(spec.key.clone(), outcome.value.id);
            self.report.users += 1;
        }
        Ok(())
    }

    fn study(&mut self, spec: &StudySpec) -> Result<StudyId> {
        let owner = Some(self.user(&spec.owner)?);
        let input = NewStudy {
            name: spec.name.clone(),
            description: spec.description.clone(),
            category: spec.category.clone(),
            tags: spec.tags.clone(),
            max_members: spec.max_members,
            is_public: spec.is_public,
            join_policy: spec.join_policy,
            is_recruiting: true,
        };
        let id = self
            .write(|tx| service::studies::create(tx, owner, input))?
            .id;
        self.studies.insert(spec.name.clone(), id);
        self.report.studies += 1;

        let invite_code = if spec.is_public {
            None
        } else {
            Some(
                self.core
                    .read_blocking(|tx| service::studies::invite_code(tx, owner, id))?
                    .invite_code,
            )
        };
        for m in &spec.members {
            let member = self.user(m)?;
            let join = JoinRequest {
                message: Some("잘 부탁드립니다!".into()),
                invite_code: invite_code.clone(),
            };
            let joined = self.write(|tx| service::membership::join(tx, Some(member), id, join))?;
            if joined.status == MemberStatus::Pending {
                self.write(|tx| service::membership::approve(tx, owner, id, member))?;
            }
        }
        for a in &spec.admins {
            let admin = self.user(a)?;
            let change = RoleChange {
                role: StudyRole::Admin,
            };
            self.write(|tx| service::membership::change_role(tx, owner, id, admin, change))?;
        }
        for pending in &spec.pending {
            let requester = Some(self.user(&pending.user)?);
            let join = JoinRequest {
                message: Some(pending.message.clone()),
                invite_code: None,
            };
            self.write(|tx| service::membership::join(tx, requester, id, join))?;
        }

        for notice in &spec.notices {
            let author = Some(self.user(&notice.author)?);
            let input = NewNotice {
                title: notice.title.clone(),
                content: notice.content.clone(),
                is_pinned: notice.pinned,
            };
            self.write(|tx| service::notices::create(tx, author, id, input))?;
            self.report.notices += 1;
        }

        let today = Utc::now()
            .duration_trunc(Duration::days(1))
            .map_err(|e| Error::failed("demo: dating the events", e))?;
        for event in &spec.events {
            let creator = Some(self.user(&event.creator)?);
            let input = new_event(today, event);
            self.write(|tx| service::calendar::create(tx, creator, id, input))?;
            self.report.events += 1;
        }
        Ok(id)
    }

    fn chat(&mut self, study: StudyId, spec: &StudySpec) -> Result<()> {
        for line in &spec.chat {
            let author = Some(self.user(&line.author)?);
            let send = SendMessage {
                content: line.text.clone(),
                ..SendMessage::default()
            };
            let message = self
                .write(|tx| service::chat::send(tx, author, study, send))?
                .id;
            self.report.messages += 1;
            if let Some(report) = &line.report {
                self.reports
                    .push((self.user(&report.by)?, message, report.reason.clone()));
            }
        }
        Ok(())
    }

    fn tasks(&mut self, kim: UserId, tasks: &[TaskSpec]) -> Result<()> {
        for spec in tasks {
            let study_id = spec
                .study
                .as_deref()
                .map(|name| self.study_named(name))
                .transpose()?;
            let task = NewTask {
                title: spec.title.clone(),
                description: Some(spec.description.clone()).filter(|d| !d.is_empty()),
                due_at: spec.due_in_days.map(|d| Utc::now() + Duration::days(d)),
                priority: spec.priority,
                study_id,
                client_id: None,
            };
            let created = self.write(|tx| service::tasks::create(tx, Some(kim), task))?;
            if spec.done {
                self.write(|tx| service::tasks::toggle(tx, Some(kim), created.id))?;
            }
            self.report.tasks += 1;
        }
        Ok(())
    }

    fn files(&mut self, blobs: &Blobs, files: &[FileSpec]) -> Result<()> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| Error::failed("demo files: finding the Tokio runtime", e))?;
        for spec in files {
            let study = self.study_named(&spec.study)?;
            let uploader = Some(self.user(&spec.uploader)?);
            let storage_key = service::files::new_storage_key();
            let contents = Bytes::from(spec.contents.clone().into_bytes());
            let size = contents.len() as u64;
            let body = futures_util::stream::iter([Ok::<_, std::io::Error>(contents)]);
            runtime
                .block_on(blobs.store(&storage_key, body, size))
                .map_err(|e| Error::failed(format!("demo files: storing {}", spec.name), e))?;
            let input = NewFile {
                name: spec.name.clone(),
                content_type: spec.content_type.clone(),
                size,
                storage_key,
            };
            let file = self.write(|tx| service::files::register(tx, uploader, study, input))?;
            self.report.files += 1;
            let send = SendMessage {
                content: format!("자료 올렸어요: {}", spec.name),
                file_id: Some(file.id),
                client_id: None,
            };
            self.write(|tx| service::chat::send(tx, uploader, study, send))?;
            self.report.messages += 1;
        }
        Ok(())
    }

    fn report(&mut self, reporter: UserId, message: MessageId, reason: String) -> Result<()> {
        let input = NewReport {
            target_type: ReportTarget::Message,
            target_id: message.to_string(),
            reason,
        };
        self.write(|tx| service::reports::create(tx, Some(reporter), input))?;
        Ok(())
    }
}

/// `event` as the calendar takes it: `event.day` days after `today` (midnight
/// UTC), starting at `event.kst_hour` Korean time and lasting `event.hours` (0 =
/// all day).
fn new_event(today: DateTime<Utc>, event: &EventSpec) -> NewEvent {
    let date = today + Duration::days(event.day);
    let (start_at, end_at, all_day) = if event.hours == 0 {
        (date, date + Duration::days(1), true)
    } else {
        let start = date + Duration::hours(event.kst_hour - 9);
        (start, start + Duration::hours(event.hours), false)
    };
    NewEvent {
        title: event.title.clone(),
        description: Some(event.description.clone()).filter(|d| !d.is_empty()),
        start_at,
        end_at,
        all_day,
        location: Some(event.location.clone()).filter(|l| !l.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coup_core::model::{NotificationKind, PageRequest};
    use coup_core::service::accounts::Login;
    use coup_core::service::notifications::NotificationQuery;
    use coup_core::service::studies::MyStudiesQuery;

    fn open() -> (tempfile::TempDir, Core) {
        let dir = tempfile::tempdir().expect("temp dir");
        let core = Core::open_sqlite(dir.path().join("coup.db")).expect("open store");
        (dir, core)
    }

    fn login(core: &Core, email: &str) -> coup_core::model::LoginResult {
        core.login_blocking(&Login {
            email: email.into(),
            password: DEMO_PASSWORD.into(),
        })
        .expect("demo account logs in")
    }

    fn stats(core: &Core) -> coup_core::model::AdminStats {
        let admin = login(core, ADMIN_EMAIL).user.id;
        core.read_blocking(|tx| service::admin::stats(tx, Some(admin)))
            .expect("stats")
    }

    #[test]
    fn seeds_users_studies_and_kims_memberships() {
        let (dir, core) = open();
        let blobs = Blobs::open(dir.path().join("files")).expect("blob store");
        let seeding = core.clone();
        // As `--demo` seeds: on a blocking thread of a runtime.
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let report = runtime
            .block_on(runtime.spawn_blocking(move || seed(&seeding, Some(&blobs))))
            .expect("seeding ran")
            .expect("seed");
        assert!(!report.already_seeded);
        assert_eq!((report.users, report.studies), (10, 8));
        assert!(report.messages > 40 && report.notifications > 0, "{report}");
        assert_eq!(report.files, 3);

        let stats = stats(&core);
        assert_eq!((stats.user_count, stats.study_count), (10, 8));
        assert_eq!(stats.pending_report_count, 1);
        assert_eq!(stats.file_count, 3);

        let kim = login(&core, DEMO_EMAIL);
        assert_eq!(kim.user.name, "김민수");
        let me = Some(kim.user.id);
        let query = MyStudiesQuery {
            page: Some(1),
            limit: Some(100),
            ..MyStudiesQuery::default()
        };
        let mine = core
            .read_blocking(|tx| service::studies::my_studies(tx, me, query))
            .expect("my studies");
        assert_eq!(mine.total, 6);
        assert!(
            mine.items
                .iter()
                .all(|s| s.my_status == Some(MemberStatus::Active))
        );
        let roles = |role| {
            mine.items
                .iter()
                .filter(|s| s.my_role == Some(role))
                .count()
        };
        assert_eq!(
            (
                roles(StudyRole::Owner),
                roles(StudyRole::Admin),
                roles(StudyRole::Member)
            ),
            (2, 1, 3)
        );

        let waiting: u64 = mine
            .items
            .iter()
            .filter(|s| s.my_role == Some(StudyRole::Owner))
            .map(|s| {
                core.read_blocking(|tx| {
                    service::membership::list_join_requests(tx, me, s.id, PageRequest::default())
                })
                .expect("join requests")
                .total
            })
            .sum();
        assert_eq!(waiting, 1);

        let kinds: Vec<_> = core
            .read_blocking(|tx| {
                service::notifications::list(
                    tx,
                    me,
                    NotificationQuery {
                        unread_only: false,
                        page: Some(1),
                        limit: Some(100),
                    },
                )
            })
            .expect("notifications")
            .items
            .into_iter()
            .map(|n| n.kind)
            .collect();
        for kind in [
            NotificationKind::Mention,
            NotificationKind::JoinRequest,
            NotificationKind::RoleChanged,
        ] {
            assert!(
                kinds.contains(&kind),
                "kim has no {kind} notification: {kinds:?}"
            );
        }

        let admin = login(&core, ADMIN_EMAIL);
        assert_eq!(admin.user.role, PlatformRole::SystemAdmin);

        // Stored as uploads are: renamed into place under their keys, no
        // temporary file left behind.
        let keys: Vec<String> = std::fs::read_dir(dir.path().join("files"))
            .expect("files dir")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(keys.len(), 3, "{keys:?}");
        assert!(
            keys.iter().all(|key| service::files::is_storage_key(key)),
            "{keys:?}"
        );
    }

    #[test]
    fn the_data_names_only_people_and_studies_it_has() {
        let demo = Demo::embedded().expect("data.json");
        let people: Vec<&str> = demo.users.iter().map(|u| u.key.as_str()).collect();
        let studies: Vec<&str> = demo.studies.iter().map(|s| s.name.as_str()).collect();
        let named = |key: &str| assert!(people.contains(&key), "no user {key:?}");
        for study in &demo.studies {
            named(&study.owner);
            study
                .members
                .iter()
                .chain(&study.admins)
                .for_each(|k| named(k));
            study.pending.iter().for_each(|p| named(&p.user));
            study.notices.iter().for_each(|n| named(&n.author));
            study.events.iter().for_each(|e| named(&e.creator));
            for line in &study.chat {
                named(&line.author);
                if let Some(report) = &line.report {
                    named(&report.by);
                }
            }
        }
        for file in &demo.files {
            named(&file.uploader);
            assert!(studies.contains(&file.study.as_str()), "{}", file.study);
        }
        for task in &demo.tasks {
            if let Some(study) = &task.study {
                assert!(studies.contains(&study.as_str()), "{study}");
            }
        }
        let role = |email: &str| demo.users.iter().find(|u| u.email == email).map(|u| u.role);
        assert_eq!(role(DEMO_EMAIL), Some(PlatformRole::User));
        assert_eq!(role(ADMIN_EMAIL), Some(PlatformRole::SystemAdmin));
    }

    #[test]
    fn seeding_twice_changes_nothing() {
        let (_dir, core) = open();
        let first = seed(&core, None).expect("seed");
        assert_eq!(first.files, 0);
        let before = stats(&core);
        let second = seed(&core, None).expect("seed again");
        assert!(second.already_seeded);
        assert_eq!(
            second,
            SeedReport {
                already_seeded: true,
                ..SeedReport::default()
            }
        );
        let after = stats(&core);
        assert_eq!(
            (
                after.user_count,
                after.study_count,
                after.message_count,
                after.file_count,
                after.pending_report_count
            ),
            (
                before.user_count,
                before.study_count,
                before.message_count,
                before.file_count,
                before.pending_report_count
            )
        );
        assert_eq!(
            (after.user_count, after.study_count, after.file_count),
            (10, 8, 0)
        );
    }
}
