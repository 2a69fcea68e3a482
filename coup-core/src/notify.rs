//! Notification rules: a pure function from domain events to the notifications they
//! create. Handlers never write notifications by hand; the service runner applies
//! these rules to every operation's events inside the same transaction.
//!
//! One rule holds everywhere: nobody is notified of their own action.

use crate::events::DomainEvent;
use crate::ids::*;
use crate::model::{NotificationKind, ReportAction};

/// A notification to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    /// Who receives it.
    pub user_id: UserId,
    /// What it is about.
    pub kind: NotificationKind,
    /// One line for lists.
    pub title: String,
    /// More detail.
    pub body: String,
    /// The study it concerns.
    pub study_id: Option<StudyId>,
    /// The id of the thing it concerns.
    pub ref_id: Option<String>,
}

/// The notifications an event creates.
pub fn notifications_for(event: &DomainEvent) -> Vec<NewNotification> {
    use DomainEvent::*;
    use NotificationKind as K;
    let mut out = Vec::new();
    let mut to = |user: UserId,
                  kind,
                  title: String,
                  body: String,
                  study: Option<StudyId>,
                  r: Option<String>| {
        out.push(NewNotification {
            user_id: user,
            kind,
            title,
            body,
            study_id: study,
            ref_id: r,
        });
    };
    match event {
        JoinRequested {
            study_id,
            study_name,
            user_id,
            user_name,
            managers,
        } => {
            for m in managers.iter().filter(|m| *m != user_id) {
                to(
                    *m,
                    K::JoinRequest,
                    format!("{user_name} asked to join {study_name}"),
                    "Approve or reject the request in the member list.".into(),
                    Some(*study_id),
                    Some(user_id.to_string()),
                );
            }
        }
        JoinApproved {
            study_id,
            study_name,
            user_id,
            actor,
        } if user_id != actor => {
            to(
                *user_id,
                K::JoinApproved,
                format!("You joined {study_name}"),
                "Your join request was approved.".into(),
                Some(*study_id),
                None,
            );
        }
        JoinRejected {
            study_id,
            study_name,
            user_id,
            actor,
        } if user_id != actor => {
            to(
                *user_id,
                K::JoinRejected,
                format!("Your request to join {study_name} was declined"),
                String::new(),
                Some(*study_id),
                None,
            );
        }
        MemberKicked {
            study_id,
            study_name,
            user_id,
            actor,
        } if user_id != actor => {
            to(
                *user_id,
                K::Kicked,
                format!("You were removed from {study_name}"),
                String::new(),
                Some(*study_id),
                None,
            );
        }
        RoleChanged {
            study_id,
            study_name,
            user_id,
            role,
            actor,
        } if user_id != actor => {
            to(
                *user_id,
                K::RoleChanged,
                format!("You are now {role} of {study_name}"),
                String::new(),
                Some(*study_id),
                None,
            );
        }
        NoticeCreated {
            notice,
            study_name,
            members,
        } => {
            for m in members.iter().filter(|m| **m != notice.author_id) {
                to(
                    *m,
                    K::NewNotice,
                    format!("New notice in {study_name}: {}", notice.title),
                    excerpt(&notice.content),
                    Some(notice.study_id),
                    Some(notice.id.to_string()),
                );
            }
        }
        EventCreated {
            event,
            study_name,
            members,
        } => {
            for m in members.iter().filter(|m| **m != event.creator_id) {
                to(
                    *m,
                    K::NewEvent,
                    format!("New event in {study_name}: {}", event.title),
                    event.start_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                    Some(event.study_id),
                    Some(event.id.to_string()),
                );
            }
        }
        FileUploaded {
            file,
            study_name,
            members,
        } => {
            for m in members.iter().filter(|m| **m != file.uploader_id) {
                to(
                    *m,
                    K::NewFile,
                    format!("New file in {study_name}: {}", file.name),
                    String::new(),
                    Some(file.study_id),
                    Some(file.id.to_string()),
                );
            }
        }
        MessagePosted {
            message,
            study_name,
            mentioned,
            ..
        } => {
            for m in mentioned.iter().filter(|m| **m != message.author_id) {
                to(
                    *m,
                    K::Mention,
                    format!("{} mentioned you in {study_name}", message.author_name),
                    excerpt(&message.content),
                    Some(message.study_id),
                    Some(message.id.to_string()),
                );
            }
        }
        ReportProcessed { report, actor } if report.reporter_id != *actor => {
            let outcome = match report.action {
                Some(ReportAction::Dismiss) | None => "was reviewed and dismissed",
                Some(ReportAction::Warn) => "was reviewed; the user was warned",
                Some(ReportAction::SuspendUser) => "was reviewed; the user was suspended",
                Some(ReportAction::DeleteContent) => "was reviewed; the content was removed",
            };
            to(
                report.reporter_id,
                K::ReportProcessed,
                format!("Your report {outcome}"),
                report.note.clone().unwrap_or_default(),
                None,
                Some(report.id.to_string()),
            );
        }
        UserWarned {
            user_id,
            reason,
            actor,
        } if user_id != actor => {
            to(
                *user_id,
                K::Warning,
                "An administrator warned you".into(),
                reason.clone(),
                None,
                None,
            );
        }
        StudyDeleted {
            study_id,
            study_name,
            actor,
            members,
        } => {
            for m in members.iter().filter(|m| *m != actor) {
                to(
                    *m,
                    K::StudyDeleted,
                    format!("{study_name} was deleted"),
                    String::new(),
                    Some(*study_id),
                    None,
                );
            }
        }
        _ => {}
    }
    out
}

fn excerpt(text: &str) -> String {
    const MAX: usize = 140;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(MAX - 1).collect();
        format!("{cut}…")
    }
}

/// The names a chat message mentions: each `@name` up to the next whitespace or
/// punctuation, without the `@`, de-duplicated. Names are matched against members
/// case-insensitively by the chat service.
pub fn mentioned_names(content: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (i, _) in content.match_indices('@') {
        let preceded_by_word = content[..i]
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric);
        if preceded_by_word {
            continue; // an email address, not a mention
        }
        let name: String = content[i + 1..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-' || *c == '.')
            .collect();
        let name = name.trim_end_matches('.').to_lowercase();
        if !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::model::*;

    fn ids(n: usize) -> Vec<UserId> {
        (0..n).map(|_| UserId::new()).collect()
    }

    fn recipients(event: &DomainEvent) -> Vec<(UserId, NotificationKind)> {
        notifications_for(event)
            .into_iter()
            .map(|n| (n.user_id, n.kind))
            .collect()
    }

    #[test]
    fn join_request_goes_to_managers_but_not_the_requester() {
        let u = ids(3);
        let e = DomainEvent::JoinRequested {
            study_id: StudyId::new(),
            study_name: "Rust".into(),
            user_id: u[2],
            user_name: "lee".into(),
            managers: vec![u[0], u[1], u[2]],
        };
        assert_eq!(
            recipients(&e),
            vec![
                (u[0], NotificationKind::JoinRequest),
                (u[1], NotificationKind::JoinRequest)
            ]
        );
    }

    #[test]
    fn decisions_notify_the_subject_unless_they_acted_themselves() {
        let (s, subject, actor) = (StudyId::new(), UserId::new(), UserId::new());
        let n = "Rust".to_string();
        let cases = [
            (
                DomainEvent::JoinApproved {
                    study_id: s,
                    study_name: n.clone(),
                    user_id: subject,
                    actor,
                },
                NotificationKind::JoinApproved,
            ),
            (
                DomainEvent::JoinRejected {
                    study_id: s,
                    study_name: n.clone(),
                    user_id: subject,
                    actor,
                },
                NotificationKind::JoinRejected,
            ),
            (
                DomainEvent::MemberKicked {
                    study_id: s,
                    study_name: n.clone(),
                    user_id: subject,
                    actor,
                },
                NotificationKind::Kicked,
            ),
            (
                DomainEvent::RoleChanged {
                    study_id: s,
                    study_name: n.clone(),
                    user_id: subject,
                    role: StudyRole::Admin,
                    actor,
                },
                NotificationKind::RoleChanged,
            ),
            (
                DomainEvent::UserWarned {
                    user_id: subject,
                    reason: "spam".into(),
                    actor,
                },
                NotificationKind::Warning,
            ),
        ];
        for (event, kind) in cases {
            assert_eq!(recipients(&event), vec![(subject, kind)], "{event:?}");
            let mut own = event.clone();
            match &mut own {
                DomainEvent::JoinApproved { actor, .. }
                | DomainEvent::JoinRejected { actor, .. }
                | DomainEvent::MemberKicked { actor, .. }
                | DomainEvent::RoleChanged { actor, .. }
                | DomainEvent::UserWarned { actor, .. } => *actor = subject,
                _ => unreachable!(),
            }
            assert!(recipients(&own).is_empty(), "own action notified: {own:?}");
        }
    }

    fn notice(author: UserId) -> Notice {
        Notice {
            id: NoticeId::new(),
            study_id: StudyId::new(),
            author_id: author,
            author_name: "kim".into(),
            title: "Exam".into(),
            content: "Room 301".into(),
            is_pinned: false,
            view_count: 0,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn new_notice_event_and_file_reach_every_member_but_the_author() {
        let u = ids(3);
        let e = DomainEvent::NoticeCreated {
            notice: notice(u[0]),
            study_name: "Rust".into(),
            members: u.clone(),
        };
        assert_eq!(
            recipients(&e),
            vec![
                (u[1], NotificationKind::NewNotice),
                (u[2], NotificationKind::NewNotice)
            ]
        );

        let event = CalendarEvent {
            id: EventId::new(),
            study_id: StudyId::new(),
            creator_id: u[1],
            title: "Mock exam".into(),
            description: None,
            start_at: Utc::now(),
            end_at: Utc::now(),
            all_day: false,
            location: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        let e = DomainEvent::EventCreated {
            event,
            study_name: "Rust".into(),
            members: u.clone(),
        };
        assert_eq!(
            recipients(&e),
            vec![
                (u[0], NotificationKind::NewEvent),
                (u[2], NotificationKind::NewEvent)
            ]
        );

        let file = FileMeta {
            id: FileId::new(),
            study_id: StudyId::new(),
            uploader_id: u[2],
            name: "notes.pdf".into(),
            content_type: "application/pdf".into(),
            size: 10,
            storage_key: "k".into(),
            download_count: 0,
            created_at: Utc::now(),
        };
        let e = DomainEvent::FileUploaded {
            file,
            study_name: "Rust".into(),
            members: u.clone(),
        };
        assert_eq!(
            recipients(&e),
            vec![
                (u[0], NotificationKind::NewFile),
                (u[1], NotificationKind::NewFile)
            ]
        );
    }

    #[test]
    fn mentions_notify_the_named_but_not_a_self_mention() {
        let u = ids(2);
        let message = ChatMessage {
            id: MessageId::new(),
            study_id: StudyId::new(),
            seq: 1,
            author_id: u[0],
            author_name: "kim".into(),
            content: "@lee @kim look".into(),
            file: None,
            client_id: None,
            is_deleted: false,
            created_at: Utc::now(),
        };
        let e = DomainEvent::MessagePosted {
            message,
            change: 1,
            study_name: "Rust".into(),
            mentioned: vec![u[1], u[0]],
        };
        assert_eq!(recipients(&e), vec![(u[1], NotificationKind::Mention)]);
    }

    #[test]
    fn processed_reports_tell_the_reporter() {
        let reporter = UserId::new();
        let admin = UserId::new();
        let report = Report {
            id: ReportId::new(),
            reporter_id: reporter,
            target_type: ReportTarget::User,
            target_id: UserId::new().to_string(),
            reason: "spam".into(),
            status: ReportStatus::Processed,
            action: Some(ReportAction::Warn),
            note: Some("thanks".into()),
            processed_by: Some(admin),
            processed_at: Some(Utc::now()),
            created_at: Utc::now(),
        };
        let n = notifications_for(&DomainEvent::ReportProcessed {
            report: report.clone(),
            actor: admin,
        });
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].user_id, reporter);
        assert!(n[0].title.contains("warned"));
        assert!(
            notifications_for(&DomainEvent::ReportProcessed {
                report,
                actor: reporter
            })
            .is_empty()
        );
    }

    #[test]
    fn study_deletion_tells_members_but_not_the_deleter() {
        let u = ids(3);
        let e = DomainEvent::StudyDeleted {
            study_id: StudyId::new(),
            study_name: "Rust".into(),
            actor: u[0],
            members: u.clone(),
        };
        assert_eq!(recipients(&e).len(), 2);
        assert!(recipients(&e).iter().all(|(id, _)| *id != u[0]));
    }

    #[test]
    fn events_without_rules_notify_nobody() {
        let quiet = [
            DomainEvent::UserSignedUp {
                user_id: UserId::new(),
            },
            DomainEvent::MemberLeft {
                study_id: StudyId::new(),
                user_id: UserId::new(),
            },
            DomainEvent::MessagesRead {
                study_id: StudyId::new(),
                user_id: UserId::new(),
                last_read_seq: 3,
                change: 4,
            },
        ];
        for e in quiet {
            assert!(notifications_for(&e).is_empty());
        }
    }

    #[test]
    fn mention_parsing() {
        assert_eq!(
            mentioned_names("hi @Lee, and @김민수! @lee again"),
            vec!["lee", "김민수"]
        );
        assert!(mentioned_names("mail kim@example.com").is_empty());
        assert_eq!(mentioned_names("@park. ok"), vec!["park"]);
        assert!(mentioned_names("@ alone").is_empty());
    }
}
