//! Study content and administration: search, notices, calendar, tasks, files,
//! reports, admin actions with the audit log, and the dashboard.

mod common;

use chrono::{Duration, Utc};
use common::{code, core};
use coup_core::model::*;
use coup_core::service::*;
use coup_core::validate::FILE_MAX_BYTES;

#[test]
fn study_search_filters_sorts_and_pages() {
    let t = core();
    let owner = t.user("owner");
    for (name, category, tag, recruiting) in [
        ("Rust 100%", "프로그래밍", "rust", true),
        ("토익 스터디", "어학", "toeic", true),
        ("Go basics", "프로그래밍", "go", false),
    ] {
        let mut s = common::new_study(name, true, JoinPolicy::Auto);
        s.category = category.into();
        s.tags = vec![tag.into()];
        s.is_recruiting = recruiting;
        t.w(|tx| studies::create(tx, Some(owner), s))
            .expect("study");
    }
    let q = |query: studies::StudyQuery| t.r(|tx| studies::list(tx, None, query)).expect("list");
    let names = |p: Page<Study>| p.items.into_iter().map(|s| s.name).collect::<Vec<_>>();
    assert_eq!(q(Default::default()).total, 3);
    assert_eq!(
        names(q(studies::StudyQuery {
            keyword: Some("RUST".into()),
            ..Default::default()
        })),
        vec!["Rust 100%"]
    );
    assert_eq!(
        q(studies::StudyQuery {
            keyword: Some("%".into()),
            ..Default::default()
        })
        .total,
        1,
        "LIKE wildcards are literal"
    );
    assert_eq!(
        names(q(studies::StudyQuery {
            keyword: Some("토익".into()),
            ..Default::default()
        })),
        vec!["토익 스터디"]
    );
    assert_eq!(
        q(studies::StudyQuery {
            category: Some("프로그래밍".into()),
            ..Default::default()
        })
        .total,
        2
    );
    assert_eq!(
        names(q(studies::StudyQuery {
            tag: Some("GO".into()),
            ..Default::default()
        })),
        vec!["Go basics"]
    );
    assert_eq!(
        q(studies::StudyQuery {
            recruiting: Some(true),
            ..Default::default()
        })
        .total,
        2
    );
    assert_eq!(
        names(q(studies::StudyQuery {
            sort: Some(StudySort::Name),
            ..Default::default()
        })),
        vec!["Go basics", "Rust 100%", "토익 스터디"]
    );
    let page2 = q(studies::StudyQuery {
        sort: Some(StudySort::Name),
        page: Some(2),
        limit: Some(2),
        ..Default::default()
    });
    assert_eq!(
        (page2.total, page2.page, page2.limit, page2.items.len()),
        (3, 2, 2, 1)
    );
    let capped = q(studies::StudyQuery {
        page: Some(1),
        limit: Some(10_000),
        ..Default::default()
    });
    assert_eq!(capped.limit, PageRequest::MAX_LIMIT);
    let bad = t.r(|tx| {
        studies::list(
            tx,
            None,
            studies::StudyQuery {
                keyword: Some("k".repeat(101)),
                ..Default::default()
            },
        )
    });
    assert_eq!(code(&bad), "VALIDATION");
}

/// Searches fold case by one rule on every store: Unicode lower case, so
/// accented Latin and Cyrillic match whatever their case (SQLite's own
/// `lower()` folds ASCII only; PostgreSQL's folds Unicode).
#[test]
fn searches_fold_case_alike_on_every_store() {
    let t = core();
    let owner = t.user("owner");
    for name in ["Éclair au chocolat", "ПрИвЕт Мир", "plain"] {
        t.w(|tx| {
            studies::create(
                tx,
                Some(owner),
                common::new_study(name, true, JoinPolicy::Auto),
            )
        })
        .expect("study");
    }
    let found = |keyword: &str| {
        t.r(|tx| {
            studies::list(
                tx,
                None,
                studies::StudyQuery {
                    keyword: Some(keyword.into()),
                    ..Default::default()
                },
            )
        })
        .expect("list")
        .items
        .into_iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
    };
    for keyword in ["éclair", "ÉCLAIR", "Éclair", "éCLAIR AU"] {
        assert_eq!(found(keyword), vec!["Éclair au chocolat"], "{keyword}");
    }
    for keyword in ["привет", "ПРИВЕТ", "пРиВеТ мИр", "мир"] {
        assert_eq!(found(keyword), vec!["ПрИвЕт Мир"], "{keyword}");
    }
    let admin = t.user_with_role("Élodie", PlatformRole::SystemAdmin);
    t.user("Ёжик Иванов");
    let users = |keyword: &str| {
        t.r(|tx| {
            admin::list_users(
                tx,
                Some(admin),
                admin::UserQuery {
                    keyword: Some(keyword.into()),
                    ..Default::default()
                },
            )
        })
        .expect("users")
        .items
        .into_iter()
        .map(|u| u.name)
        .collect::<Vec<_>>()
    };
    assert_eq!(users("élodie"), vec!["Élodie"]);
    assert_eq!(users("ЁЖИК"), vec!["Ёжик Иванов"]);
    assert_eq!(users("иванов"), vec!["Ёжик Иванов"]);
    let admin_studies = |keyword: &str| {
        t.r(|tx| {
            admin::list_studies(
                tx,
                Some(admin),
                admin::AdminStudyQuery {
                    keyword: Some(keyword.into()),
                    ..Default::default()
                },
            )
        })
        .expect("admin studies")
        .items
        .into_iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
    };
    assert_eq!(admin_studies("ÉCLAIR"), vec!["Éclair au chocolat"]);
    assert_eq!(admin_studies("пРиВеТ"), vec!["ПрИвЕт Мир"]);
    // LIKE's own characters are searched for as text, not as wildcards.
    assert!(found("%").is_empty() && found("_").is_empty());
}

#[test]
fn study_input_is_validated_and_refusals_change_nothing() {
    let t = core();
    let owner = t.user("owner");
    let before = t.snapshot();
    let base = common::new_study("Valid", true, JoinPolicy::Auto);
    for (input, field) in [
        (
            studies::NewStudy {
                name: String::new(),
                ..base.clone()
            },
            "name",
        ),
        (
            studies::NewStudy {
                name: "n".repeat(51),
                ..base.clone()
            },
            "name",
        ),
        (
            studies::NewStudy {
                category: " ".into(),
                ..base.clone()
            },
            "category",
        ),
        (
            studies::NewStudy {
                max_members: 1,
                ..base.clone()
            },
            "maxMembers",
        ),
        (
            studies::NewStudy {
                max_members: 100_000,
                ..base.clone()
            },
            "maxMembers",
        ),
        (
            studies::NewStudy {
                tags: vec!["two words".into()],
                ..base.clone()
            },
            "tags",
        ),
        (
            studies::NewStudy {
                description: "d".repeat(2001),
                ..base.clone()
            },
            "description",
        ),
    ] {
        let err = t
            .w(|tx| studies::create(tx, Some(owner), input))
            .expect_err("refused");
        assert_eq!(err.field(), Some(field));
    }
    assert_eq!(t.snapshot(), before);
    let s = t
        .w(|tx| studies::create(tx, Some(owner), base))
        .expect("valid")
        .id;
    let empty = t.w(|tx| studies::update(tx, Some(owner), s, Default::default()));
    assert_eq!(code(&empty), "VALIDATION");
    let unknown = t.r(|tx| studies::get(tx, Some(owner), coup_core::ids::StudyId::new()));
    assert_eq!(code(&unknown), "NOT_FOUND");
}

#[test]
fn notices_pin_first_and_count_views() {
    let t = core();
    let owner = t.user("owner");
    let s = t.study(owner, "S", true, JoinPolicy::Auto);
    let lee = t.user("lee");
    t.member(s, owner, lee);
    let new = |title: &str, pinned| notices::NewNotice {
        title: title.into(),
        content: "body".into(),
        is_pinned: pinned,
    };
    let first = t
        .w(|tx| notices::create(tx, Some(owner), s, new("first", false)))
        .expect("first");
    t.w(|tx| notices::create(tx, Some(owner), s, new("second", false)))
        .expect("second");
    t.w(|tx| {
        notices::pin(
            tx,
            Some(owner),
            s,
            first.id,
            notices::Pin {
                is_pinned: Some(true),
            },
        )
    })
    .expect("pin");
    let list = t
        .r(|tx| notices::list(tx, Some(lee), s, PageRequest::default()))
        .expect("list");
    assert_eq!(
        list.items
            .iter()
            .map(|n| n.title.as_str())
            .collect::<Vec<_>>(),
        vec!["first", "second"]
    );
    for _ in 0..3 {
        t.w(|tx| notices::view(tx, Some(lee), s, first.id).map(coup_core::Outcome::quiet))
            .expect("view");
    }
    let viewed = t
        .w(|tx| notices::view(tx, Some(lee), s, first.id).map(coup_core::Outcome::quiet))
        .expect("view");
    assert_eq!(viewed.view_count, 4);
    let other = t.study(owner, "Other", true, JoinPolicy::Auto);
    let cross =
        t.w(|tx| notices::view(tx, Some(owner), other, first.id).map(coup_core::Outcome::quiet));
    assert_eq!(
        code(&cross),
        "NOT_FOUND",
        "a notice is only found in its own study"
    );
    let bad = t.w(|tx| notices::create(tx, Some(owner), s, new("", false)));
    assert_eq!(bad.expect_err("empty").field(), Some("title"));
    t.w(|tx| notices::delete(tx, Some(owner), s, first.id))
        .expect("delete");
    assert_eq!(
        code(&t.w(|tx| notices::delete(tx, Some(owner), s, first.id))),
        "NOT_FOUND"
    );
}

#[test]
fn calendar_ranges_and_validation() {
    let t = core();
    let owner = t.user("owner");
    let s = t.study(owner, "S", true, JoinPolicy::Auto);
    let now = Utc::now();
    let event = |title: &str, start: chrono::DateTime<Utc>, hours| calendar::NewEvent {
        title: title.into(),
        description: None,
        start_at: start,
        end_at: start + Duration::hours(hours),
        all_day: false,
        location: None,
    };
    t.w(|tx| {
        calendar::create(
            tx,
            Some(owner),
            s,
            event("soon", now + Duration::days(1), 2),
        )
    })
    .expect("soon");
    t.w(|tx| {
        calendar::create(
            tx,
            Some(owner),
            s,
            event("later", now + Duration::days(40), 2),
        )
    })
    .expect("later");
    t.w(|tx| {
        calendar::create(
            tx,
            Some(owner),
            s,
            event("spanning", now - Duration::days(1), 72),
        )
    })
    .expect("spanning");
    let range = calendar::Range {
        from: now,
        to: now + Duration::days(7),
    };
    let titles: Vec<_> = t
        .r(|tx| calendar::list(tx, Some(owner), s, range))
        .expect("list")
        .into_iter()
        .map(|e| e.title)
        .collect();
    assert_eq!(
        titles,
        vec!["spanning", "soon"],
        "events overlapping the range, by start"
    );
    let backwards = t.w(|tx| calendar::create(tx, Some(owner), s, event("bad", now, -1)));
    assert_eq!(
        backwards.expect_err("end before start").field(),
        Some("endAt")
    );
    let inverted = t.r(|tx| {
        calendar::list(
            tx,
            Some(owner),
            s,
            calendar::Range {
                from: now,
                to: now - Duration::days(1),
            },
        )
    });
    assert_eq!(code(&inverted), "VALIDATION");
    let huge = t.r(|tx| {
        calendar::list(
            tx,
            Some(owner),
            s,
            calendar::Range {
                from: now,
                to: now + Duration::days(400),
            },
        )
    });
    assert_eq!(code(&huge), "VALIDATION");
}

#[test]
fn tasks_are_private_filtered_and_toggle() {
    let t = core();
    let kim = t.user("kim");
    let s = t.study(kim, "S", true, JoinPolicy::Auto);
    let other = t.study(t.user("owner"), "Not mine", true, JoinPolicy::Auto);
    let task = |title: &str, study, due| tasks::NewTask {
        title: title.into(),
        description: None,
        due_at: due,
        priority: Priority::High,
        study_id: study,
        client_id: None,
    };
    let a = t
        .w(|tx| {
            tasks::create(
                tx,
                Some(kim),
                task("a", Some(s), Some(Utc::now() + Duration::days(2))),
            )
        })
        .expect("a");
    t.w(|tx| tasks::create(tx, Some(kim), task("b", None, None)))
        .expect("b");
    let foreign = t.w(|tx| tasks::create(tx, Some(kim), task("c", Some(other), None)));
    assert_eq!(code(&foreign), "FORBIDDEN", "only studies you are in");
    let toggled = t
        .w(|tx| tasks::toggle(tx, Some(kim), a.id))
        .expect("toggle");
    assert!(toggled.is_done && toggled.done_at.is_some());
    let list = |q: tasks::TaskQuery| t.r(|tx| tasks::list(tx, Some(kim), q)).expect("list");
    assert_eq!(
        list(tasks::TaskQuery {
            is_done: Some(false),
            ..Default::default()
        })
        .total,
        1
    );
    assert_eq!(
        list(tasks::TaskQuery {
            study_id: Some(s),
            ..Default::default()
        })
        .total,
        1
    );
    let back = t
        .w(|tx| tasks::toggle(tx, Some(kim), a.id))
        .expect("toggle back");
    assert!(!back.is_done && back.done_at.is_none());
    let lee = t.user("lee");
    assert_eq!(
        code(&t.r(|tx| tasks::get(tx, Some(lee), a.id))),
        "NOT_FOUND"
    );
    assert_eq!(list(Default::default()).total, 2);
}

#[test]
fn a_task_created_again_with_its_client_id_is_the_first_task() {
    let t = core();
    let kim = t.user("kim");
    let lee = t.user("lee");
    let task = |title: &str, client_id: &str| tasks::NewTask {
        title: title.into(),
        description: None,
        due_at: None,
        priority: Priority::Low,
        study_id: None,
        client_id: Some(client_id.into()),
    };
    let first = t
        .w(|tx| tasks::create(tx, Some(kim), task("offline", "c-1")))
        .expect("first");
    let again = t
        .w(|tx| tasks::create(tx, Some(kim), task("offline (resent)", "c-1")))
        .expect("again");
    assert_eq!(again, first, "the resend returns the first task");
    // Client ids are per user: another user's key does not collide.
    let theirs = t
        .w(|tx| tasks::create(tx, Some(lee), task("theirs", "c-1")))
        .expect("lee");
    assert_ne!(theirs.id, first.id);
    let count = |user| {
        t.r(|tx| tasks::list(tx, Some(user), Default::default()))
            .expect("list")
            .total
    };
    assert_eq!((count(kim), count(lee)), (1, 1));
    let bad = t.w(|tx| tasks::create(tx, Some(kim), task("bad", "has space")));
    assert_eq!(code(&bad), "VALIDATION");
}

#[test]
fn files_limit_size_sanitise_names_count_downloads_and_give_back_the_blob_key() {
    let t = core();
    let owner = t.user("owner");
    let s = t.study(owner, "S", true, JoinPolicy::Auto);
    let new = |name: &str, size| files::NewFile {
        name: name.into(),
        content_type: String::new(),
        size,
        storage_key: files::new_storage_key(),
    };
    let before = t.snapshot();
    let big = t.w(|tx| files::register(tx, Some(owner), s, new("big.bin", FILE_MAX_BYTES + 1)));
    assert_eq!(code(&big), "PAYLOAD_TOO_LARGE");
    assert_eq!(
        code(&t.w(|tx| files::register(tx, Some(owner), s, new("..", 1)))),
        "VALIDATION"
    );
    assert_eq!(t.snapshot(), before);
    let f = t
        .w(|tx| {
            files::register(
                tx,
                Some(owner),
                s,
                new("../../스터디 자료.pdf", FILE_MAX_BYTES),
            )
        })
        .expect("exactly 50 MB");
    assert_eq!(f.name, "스터디 자료.pdf");
    assert_eq!(f.content_type, "application/octet-stream");
    assert!(files::is_storage_key(&f.storage_key));
    for _ in 0..2 {
        t.w(|tx| files::download(tx, Some(owner), s, f.id).map(coup_core::Outcome::quiet))
            .expect("download");
    }
    let listed = t
        .r(|tx| files::list(tx, Some(owner), s, PageRequest::default()))
        .expect("list");
    assert_eq!(listed.items[0].download_count, 2);
    let deleted = t
        .w(|tx| files::delete(tx, Some(owner), s, f.id))
        .expect("delete");
    assert_eq!(deleted.storage_key, f.storage_key);
    assert_eq!(
        code(&t.w(|tx| files::download(tx, Some(owner), s, f.id).map(coup_core::Outcome::quiet))),
        "NOT_FOUND"
    );
}

#[test]
fn reports_and_their_processing_are_audited_and_reported_back() {
    let t = core();
    let owner = t.user("owner");
    let s = t.study(owner, "S", true, JoinPolicy::Auto);
    let (lee, troll) = (t.user("lee"), t.user("troll"));
    t.member(s, owner, lee);
    t.member(s, owner, troll);
    let admin_id = t.user_with_role("boss", PlatformRole::Admin);
    let m = t
        .w(|tx| {
            chat::send(
                tx,
                Some(troll),
                s,
                chat::SendMessage {
                    content: "spam".into(),
                    ..Default::default()
                },
            )
        })
        .expect("msg");
    let report = |target_type, target_id: String| reports::NewReport {
        target_type,
        target_id,
        reason: "spam".into(),
    };
    let before = t.snapshot();
    assert_eq!(
        code(&t.w(|tx| reports::create(
            tx,
            Some(lee),
            report(ReportTarget::User, lee.to_string())
        ))),
        "VALIDATION"
    );
    assert_eq!(
        code(&t.w(|tx| reports::create(tx, Some(lee), report(ReportTarget::User, "nope".into())))),
        "VALIDATION"
    );
    assert_eq!(
        code(&t.w(|tx| reports::create(
            tx,
            Some(lee),
            report(
                ReportTarget::User,
                coup_core::ids::UserId::new().to_string()
            )
        ))),
        "NOT_FOUND"
    );
    assert_eq!(t.snapshot(), before);
    let on_message = t
        .w(|tx| {
            reports::create(
                tx,
                Some(lee),
                report(ReportTarget::Message, m.id.to_string()),
            )
        })
        .expect("report message");
    assert_eq!(
        code(&t.w(|tx| reports::create(
            tx,
            Some(lee),
            report(ReportTarget::Message, m.id.to_string())
        ))),
        "CONFLICT"
    );
    let outsider = t.user("outsider");
    let hidden = t.w(|tx| {
        reports::create(
            tx,
            Some(outsider),
            report(ReportTarget::Message, m.id.to_string()),
        )
    });
    assert_ne!(
        code(&hidden),
        "OK",
        "only members can report a message they can see"
    );
    let on_user = t
        .w(|tx| reports::create(tx, Some(lee), report(ReportTarget::User, troll.to_string())))
        .expect("report user");

    let bad = t.w(|tx| {
        admin::process_report(
            tx,
            Some(admin_id),
            on_user.id,
            admin::ProcessReport {
                action: ReportAction::DeleteContent,
                note: None,
            },
        )
    });
    assert_eq!(code(&bad), "VALIDATION", "a user has no content to delete");
    let done = t
        .w(|tx| {
            admin::process_report(
                tx,
                Some(admin_id),
                on_message.id,
                admin::ProcessReport {
                    action: ReportAction::DeleteContent,
                    note: Some("removed".into()),
                },
            )
        })
        .expect("delete content");
    assert_eq!(done.status, ReportStatus::Processed);
    assert_eq!(
        code(&t.r(|tx| chat::get(tx, Some(lee), s, m.id))),
        "NOT_FOUND"
    );
    let again = t.w(|tx| {
        admin::process_report(
            tx,
            Some(admin_id),
            on_message.id,
            admin::ProcessReport {
                action: ReportAction::Dismiss,
                note: None,
            },
        )
    });
    assert_eq!(code(&again), "CONFLICT");
    t.w(|tx| {
        admin::process_report(
            tx,
            Some(admin_id),
            on_user.id,
            admin::ProcessReport {
                action: ReportAction::SuspendUser,
                note: None,
            },
        )
    })
    .expect("suspend");
    assert_eq!(
        t.r(|tx| admin::user_detail(tx, Some(admin_id), troll))
            .expect("detail")
            .user
            .status,
        UserStatus::Suspended
    );
    let lee_kinds: Vec<_> = t
        .r(|tx| notifications::list(tx, Some(lee), Default::default()))
        .expect("list")
        .items
        .into_iter()
        .map(|n| n.kind)
        .collect();
    assert_eq!(
        lee_kinds
            .iter()
            .filter(|k| **k == NotificationKind::ReportProcessed)
            .count(),
        2
    );
    let audit = t
        .r(|tx| admin::audit_log(tx, Some(admin_id), PageRequest::default()))
        .expect("audit");
    let actions: Vec<_> = audit.items.iter().map(|a| a.action).collect();
    for expected in [
        AuditAction::DeleteMessage,
        AuditAction::ProcessReport,
        AuditAction::SuspendUser,
    ] {
        assert!(
            actions.contains(&expected),
            "{expected:?} audited: {actions:?}"
        );
    }
    let stats = t.r(|tx| admin::stats(tx, Some(admin_id))).expect("stats");
    assert_eq!(
        (stats.suspended_user_count, stats.pending_report_count),
        (1, 0)
    );
    // ADMINs cannot suspend ADMINs; nobody suspends themself.
    let peer = t.user_with_role("peer", PlatformRole::Admin);
    let s1 = t.w(|tx| {
        admin::suspend(
            tx,
            Some(admin_id),
            peer,
            admin::Suspension {
                reason: "x".into(),
                until: None,
            },
        )
    });
    assert_eq!(code(&s1), "FORBIDDEN");
    let s2 = t.w(|tx| {
        admin::suspend(
            tx,
            Some(admin_id),
            admin_id,
            admin::Suspension {
                reason: "x".into(),
                until: None,
            },
        )
    });
    assert_eq!(code(&s2), "CONFLICT");
}

#[test]
fn admin_study_deletion_hides_the_study_and_tells_members() {
    let t = core();
    let owner = t.user("owner");
    let s = t.study(owner, "S", true, JoinPolicy::Auto);
    let lee = t.user("lee");
    t.member(s, owner, lee);
    let boss = t.user_with_role("boss", PlatformRole::SystemAdmin);
    t.w(|tx| admin::delete_study(tx, Some(boss), s, Some("abandoned".into())))
        .expect("delete");
    assert_eq!(code(&t.r(|tx| studies::get(tx, Some(lee), s))), "NOT_FOUND");
    assert_eq!(
        t.r(|tx| studies::list(tx, Some(lee), Default::default()))
            .expect("list")
            .total,
        0
    );
    let detail = t
        .r(|tx| admin::study_detail(tx, Some(boss), s))
        .expect("admins still see it");
    assert!(detail.deleted_at.is_some());
    let all = t
        .r(|tx| {
            admin::list_studies(
                tx,
                Some(boss),
                admin::AdminStudyQuery {
                    include_deleted: true,
                    ..Default::default()
                },
            )
        })
        .expect("list");
    assert_eq!(all.total, 1);
    for user in [owner, lee] {
        let kinds: Vec<_> = t
            .r(|tx| notifications::list(tx, Some(user), Default::default()))
            .expect("n")
            .items
            .into_iter()
            .map(|n| n.kind)
            .collect();
        assert!(kinds.contains(&NotificationKind::StudyDeleted));
    }
    assert_eq!(
        code(&t.w(|tx| admin::delete_study(tx, Some(boss), s, None))),
        "NOT_FOUND",
        "deleting twice"
    );
}

#[test]
fn dashboard_aggregates_the_callers_world() {
    let t = core();
    let kim = t.user("kim");
    let lee = t.user("lee");
    let s = t.study(lee, "S", true, JoinPolicy::Auto);
    t.member(s, lee, kim);
    let mine = t.study(kim, "Mine", true, JoinPolicy::Approval);
    let applicant = t.user("applicant");
    t.w(|tx| membership::join(tx, Some(applicant), mine, Default::default()))
        .expect("request");
    t.w(|tx| {
        notices::create(
            tx,
            Some(lee),
            s,
            notices::NewNotice {
                title: "n".into(),
                content: "c".into(),
                is_pinned: false,
            },
        )
    })
    .expect("notice");
    let start = Utc::now() + Duration::days(1);
    t.w(|tx| {
        calendar::create(
            tx,
            Some(lee),
            s,
            calendar::NewEvent {
                title: "e".into(),
                description: None,
                start_at: start,
                end_at: start,
                all_day: true,
                location: None,
            },
        )
    })
    .expect("event");
    for i in 0..3 {
        t.w(|tx| {
            chat::send(
                tx,
                Some(lee),
                s,
                chat::SendMessage {
                    content: format!("m{i}"),
                    ..Default::default()
                },
            )
        })
        .expect("msg");
    }
    t.w(|tx| {
        tasks::create(
            tx,
            Some(kim),
            tasks::NewTask {
                title: "t".into(),
                description: None,
                due_at: Some(start),
                priority: Priority::Low,
                study_id: None,
                client_id: None,
            },
        )
    })
    .expect("task");
    let d = t
        .r(|tx| dashboard::dashboard(tx, Some(kim)))
        .expect("dashboard");
    assert_eq!(d.stats.study_count, 2);
    assert_eq!(d.stats.owned_study_count, 1);
    assert_eq!(d.stats.open_task_count, 1);
    assert_eq!(d.stats.unread_message_count, 3);
    assert_eq!(
        d.stats.unread_notification_count, 3,
        "join request, notice and event"
    );
    assert_eq!(d.upcoming_events.len(), 1);
    assert_eq!(d.recent_notices.len(), 1);
    assert_eq!(d.due_tasks.len(), 1);
    assert_eq!(d.my_studies.len(), 2);
    let all_read = t
        .w(|tx| notifications::mark_all_read(tx, Some(kim)))
        .expect("mark all");
    assert_eq!(all_read, 3);
    assert_eq!(
        t.r(|tx| dashboard::dashboard(tx, Some(kim)))
            .expect("again")
            .stats
            .unread_notification_count,
        0
    );
}
