//! Chat: gap-free sequences under concurrent writers, idempotent sends, cursor
//! pages both ways, soft delete, read receipts, unread counts and mentions.

mod common;

use std::collections::BTreeSet;

use common::{code, core};
use coup_core::DomainEvent;
use coup_core::model::*;
use coup_core::service::{chat, files, notifications};

fn send(
    t: &common::TestCore,
    who: coup_core::ids::UserId,
    s: coup_core::ids::StudyId,
    text: &str,
) -> ChatMessage {
    t.w(|tx| {
        chat::send(
            tx,
            Some(who),
            s,
            chat::SendMessage {
                content: text.into(),
                ..Default::default()
            },
        )
    })
    .expect("send")
}

#[test]
fn sequences_stay_gap_free_and_unique_under_concurrent_writers() {
    let t = core();
    let owner = t.user("owner");
    let s = t.study(owner, "Busy", true, JoinPolicy::Auto);
    let other = t.study(owner, "Other", true, JoinPolicy::Auto);
    let writers: Vec<_> = (0..6).map(|i| t.user(&format!("w{i}"))).collect();
    for w in &writers {
        t.member(s, owner, *w);
        t.member(other, owner, *w);
    }
    const PER_WRITER: usize = 40;
    std::thread::scope(|scope| {
        for (i, w) in writers.iter().enumerate() {
            let core = t.core.clone();
            let w = *w;
            scope.spawn(move || {
                for n in 0..PER_WRITER {
                    let target = if n % 4 == 0 { other } else { s };
                    core.write_blocking(|tx| {
                        chat::send(
                            tx,
                            Some(w),
                            target,
                            chat::SendMessage {
                                content: format!("{i}-{n}"),
                                ..Default::default()
                            },
                        )
                    })
                    .expect("send");
                }
            });
        }
    });
    for (study, expected) in [
        (s, writers.len() * PER_WRITER * 3 / 4),
        (other, writers.len() * PER_WRITER / 4),
    ] {
        let mut seqs = Vec::new();
        let mut after = 0;
        loop {
            let page = t
                .r(|tx| {
                    chat::list(
                        tx,
                        Some(owner),
                        study,
                        chat::ChatQuery {
                            after: Some(after),
                            ..Default::default()
                        },
                    )
                })
                .expect("page");
            seqs.extend(page.items.iter().map(|m| m.seq));
            match page.items.last() {
                Some(last) if page.has_newer => after = last.seq,
                _ => break,
            }
        }
        assert_eq!(seqs.len(), expected);
        assert_eq!(
            seqs,
            (1..=expected as i64).collect::<Vec<_>>(),
            "strictly increasing, no gaps, no duplicates"
        );
        let unique: BTreeSet<_> = seqs.iter().collect();
        assert_eq!(unique.len(), seqs.len());
    }
}

#[test]
fn a_refused_send_does_not_use_up_a_sequence_number() {
    let t = core();
    let owner = t.user("owner");
    let s = t.study(owner, "S", true, JoinPolicy::Auto);
    assert_eq!(send(&t, owner, s, "one").seq, 1);
    let before = t.snapshot();
    for bad in ["", "   ", &"x".repeat(4001)] {
        let r = t.w(|tx| {
            chat::send(
                tx,
                Some(owner),
                s,
                chat::SendMessage {
                    content: bad.to_string(),
                    ..Default::default()
                },
            )
        });
        assert_eq!(code(&r), "VALIDATION");
    }
    let foreign_file = coup_core::ids::FileId::new();
    let r = t.w(|tx| {
        chat::send(
            tx,
            Some(owner),
            s,
            chat::SendMessage {
                content: "x".into(),
                file_id: Some(foreign_file),
                client_id: None,
            },
        )
    });
    assert_eq!(code(&r), "VALIDATION");
    let r = t.w(|tx| {
        chat::send(
            tx,
            Some(owner),
            s,
            chat::SendMessage {
                content: "x".into(),
                file_id: None,
                client_id: Some("with space".into()),
            },
        )
    });
    assert_eq!(code(&r), "VALIDATION");
    assert_eq!(t.snapshot(), before);
    assert_eq!(send(&t, owner, s, "two").seq, 2);
    assert_eq!(
        send(&t, owner, s, &"가".repeat(4000)).seq,
        3,
        "4,000 characters, not bytes, are allowed"
    );
}

#[test]
fn resending_with_the_same_client_id_returns_the_first_message() {
    let t = core();
    let owner = t.user("owner");
    let s = t.study(owner, "S", true, JoinPolicy::Auto);
    let input = chat::SendMessage {
        content: "once".into(),
        file_id: None,
        client_id: Some("c-1".into()),
    };
    let first = t
        .write_blocking(|tx| chat::send(tx, Some(owner), s, input.clone()))
        .expect("first");
    let again = t
        .write_blocking(|tx| chat::send(tx, Some(owner), s, input.clone()))
        .expect("again");
    assert_eq!(first.value.id, again.value.id);
    assert_eq!(again.value.seq, 1);
    assert!(
        again.events.is_empty(),
        "a duplicate is not announced twice"
    );
    assert_eq!(
        t.r(|tx| chat::list(tx, Some(owner), s, Default::default()))
            .expect("list")
            .items
            .len(),
        1
    );
    // The same client id from another author is a different message.
    let lee = t.user("lee");
    t.member(s, owner, lee);
    let theirs = t
        .w(|tx| chat::send(tx, Some(lee), s, input))
        .expect("other author");
    assert_eq!(theirs.seq, 2);
}

#[test]
fn cursor_pages_in_both_directions() {
    let t = core();
    let owner = t.user("owner");
    let s = t.study(owner, "S", true, JoinPolicy::Auto);
    for i in 1..=25 {
        send(&t, owner, s, &format!("m{i}"));
    }
    let latest = t
        .r(|tx| {
            chat::list(
                tx,
                Some(owner),
                s,
                chat::ChatQuery {
                    limit: Some(10),
                    ..Default::default()
                },
            )
        })
        .expect("latest");
    assert_eq!(
        latest.items.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (16..=25).collect::<Vec<_>>()
    );
    assert!(latest.has_older && !latest.has_newer);
    let older = t
        .r(|tx| {
            chat::list(
                tx,
                Some(owner),
                s,
                chat::ChatQuery {
                    before: Some(16),
                    limit: Some(10),
                    after: None,
                },
            )
        })
        .expect("older");
    assert_eq!(older.items.first().map(|m| m.seq), Some(6));
    assert_eq!(older.items.last().map(|m| m.seq), Some(15));
    assert!(older.has_older && older.has_newer);
    let newer = t
        .r(|tx| {
            chat::list(
                tx,
                Some(owner),
                s,
                chat::ChatQuery {
                    after: Some(20),
                    limit: Some(3),
                    before: None,
                },
            )
        })
        .expect("newer");
    assert_eq!(
        newer.items.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![21, 22, 23]
    );
    assert!(newer.has_older && newer.has_newer);
    let end = t
        .r(|tx| {
            chat::list(
                tx,
                Some(owner),
                s,
                chat::ChatQuery {
                    after: Some(25),
                    ..Default::default()
                },
            )
        })
        .expect("end");
    assert!(end.items.is_empty() && end.has_older && !end.has_newer);
    let both = t.r(|tx| {
        chat::list(
            tx,
            Some(owner),
            s,
            chat::ChatQuery {
                after: Some(1),
                before: Some(5),
                limit: None,
            },
        )
    });
    assert_eq!(code(&both), "VALIDATION");
    // A page size out of range is refused, not clamped.
    for limit in [0, 101] {
        let out_of_range = t.r(|tx| {
            chat::list(
                tx,
                Some(owner),
                s,
                chat::ChatQuery {
                    limit: Some(limit),
                    ..Default::default()
                },
            )
        });
        assert_eq!(code(&out_of_range), "VALIDATION", "limit {limit}");
    }
}

#[test]
fn deleted_messages_become_tombstones_and_cannot_be_read() {
    let t = core();
    let owner = t.user("owner");
    let s = t.study(owner, "S", true, JoinPolicy::Auto);
    let lee = t.user("lee");
    t.member(s, owner, lee);
    let m = send(&t, lee, s, "oops");
    send(&t, lee, s, "after");
    let out = t
        .write_blocking(|tx| chat::delete(tx, Some(lee), s, m.id))
        .expect("author deletes");
    assert!(matches!(
        out.events[0],
        DomainEvent::MessageDeleted { seq: 1, .. }
    ));
    assert_eq!(
        code(&t.r(|tx| chat::get(tx, Some(owner), s, m.id))),
        "NOT_FOUND"
    );
    assert_eq!(
        code(&t.w(|tx| chat::delete(tx, Some(owner), s, m.id))),
        "NOT_FOUND",
        "deleting twice"
    );
    let page = t
        .r(|tx| chat::list(tx, Some(owner), s, Default::default()))
        .expect("list");
    assert_eq!(page.items.len(), 2, "the tombstone keeps its place");
    assert!(page.items[0].is_deleted && page.items[0].content.is_empty());
    assert_eq!(page.items[1].content, "after");
}

#[test]
fn read_receipts_and_unread_counts() {
    let t = core();
    let owner = t.user("owner");
    let s = t.study(owner, "S", true, JoinPolicy::Auto);
    let lee = t.user("lee");
    t.member(s, owner, lee);
    for i in 0..5 {
        send(&t, owner, s, &format!("m{i}"));
    }
    send(&t, lee, s, "mine");
    let unread = |u| t.r(|tx| chat::unread_counts(tx, Some(u))).expect("unread")[0].unread;
    assert_eq!(unread(lee), 0, "sending marks everything before as read");
    assert_eq!(unread(owner), 1, "own messages never count");
    let out = t
        .write_blocking(|tx| chat::mark_read(tx, Some(owner), s, 6))
        .expect("read");
    assert!(matches!(
        out.events[0],
        DomainEvent::MessagesRead {
            last_read_seq: 6,
            ..
        }
    ));
    assert_eq!(unread(owner), 0);
    let back = t
        .write_blocking(|tx| chat::mark_read(tx, Some(owner), s, 2))
        .expect("read older");
    assert_eq!(back.value, 6, "read positions only move forward");
    assert!(back.events.is_empty());
    assert_eq!(
        code(&t.w(|tx| chat::mark_read(tx, Some(owner), s, 99))),
        "VALIDATION"
    );
    assert_eq!(
        code(&t.w(|tx| chat::mark_read(tx, Some(owner), s, -1))),
        "VALIDATION"
    );
}

#[test]
fn mentions_notify_members_by_name_but_not_outsiders_or_self() {
    let t = core();
    let owner = t.user("owner");
    let s = t.study(owner, "S", true, JoinPolicy::Auto);
    let lee = t.user("lee");
    let park = t.user("park");
    t.member(s, owner, lee);
    send(&t, owner, s, "@Lee @park @owner see kim@example.com");
    let mentions = |u| {
        t.r(|tx| notifications::list(tx, Some(u), Default::default()))
            .expect("list")
            .items
            .iter()
            .filter(|n| n.kind == NotificationKind::Mention)
            .count()
    };
    assert_eq!(mentions(lee), 1);
    assert_eq!(mentions(park), 0, "not a member");
    assert_eq!(mentions(owner), 0, "not for a self-mention");
    let emile = t.user("Émile");
    t.member(s, owner, emile);
    send(&t, owner, s, "@émile welcome");
    assert_eq!(mentions(emile), 1, "case folding is Unicode-aware");
    let hedgehog = t.user("ЁжИк");
    t.member(s, owner, hedgehog);
    send(&t, owner, s, "@ёЖиК привет");
    assert_eq!(mentions(hedgehog), 1, "mixed-case Cyrillic too");
}

#[test]
fn attachments_must_belong_to_the_same_study() {
    let t = core();
    let owner = t.user("owner");
    let s = t.study(owner, "S", true, JoinPolicy::Auto);
    let other = t.study(owner, "Other", true, JoinPolicy::Auto);
    let file = t
        .w(|tx| {
            files::register(
                tx,
                Some(owner),
                other,
                files::NewFile {
                    name: "a.txt".into(),
                    content_type: "text/plain".into(),
                    size: 3,
                    storage_key: files::new_storage_key(),
                },
            )
        })
        .expect("file");
    let r = t.w(|tx| {
        chat::send(
            tx,
            Some(owner),
            s,
            chat::SendMessage {
                content: String::new(),
                file_id: Some(file.id),
                client_id: None,
            },
        )
    });
    assert_eq!(code(&r), "VALIDATION");
    let ok = t
        .w(|tx| {
            chat::send(
                tx,
                Some(owner),
                other,
                chat::SendMessage {
                    content: String::new(),
                    file_id: Some(file.id),
                    client_id: None,
                },
            )
        })
        .expect("attachment without text");
    assert_eq!(ok.file.map(|f| f.name).as_deref(), Some("a.txt"));
}

/// Records the sequence numbers of published chat messages.
struct SeqRecorder(std::sync::Mutex<Vec<i64>>);

impl coup_core::EventSink for SeqRecorder {
    fn publish(&self, events: &[DomainEvent]) {
        for e in events {
            if let DomainEvent::MessagePosted { message, .. } = e {
                self.0.lock().expect("lock").push(message.seq);
            }
        }
    }
}

#[test]
fn events_are_published_after_commit_in_commit_order() {
    let (store, scratch) = common::store();
    let recorder = std::sync::Arc::new(SeqRecorder(std::sync::Mutex::new(Vec::new())));
    let core = coup_core::Core::new(store, Default::default()).with_event_sink(recorder.clone());
    let t = common::TestCore::wrap(core, scratch);
    let owner = t.user("owner");
    let s = t.study(owner, "S", true, JoinPolicy::Auto);
    let writers: Vec<_> = (0..4).map(|i| t.user(&format!("w{i}"))).collect();
    for w in &writers {
        t.member(s, owner, *w);
    }
    std::thread::scope(|scope| {
        for w in &writers {
            let core = t.core.clone();
            let w = *w;
            scope.spawn(move || {
                for n in 0..25 {
                    core.write_blocking(|tx| {
                        chat::send(
                            tx,
                            Some(w),
                            s,
                            chat::SendMessage {
                                content: format!("{n}"),
                                ..Default::default()
                            },
                        )
                    })
                    .expect("send");
                }
            });
        }
    });
    let seen = recorder.0.lock().expect("lock").clone();
    assert_eq!(
        seen,
        (1..=100).collect::<Vec<_>>(),
        "published once each, in sequence order"
    );
    let refused = t.w(|tx| {
        chat::send(
            tx,
            Some(owner),
            s,
            chat::SendMessage {
                content: String::new(),
                ..Default::default()
            },
        )
    });
    assert!(refused.is_err());
    assert_eq!(
        recorder.0.lock().expect("lock").len(),
        100,
        "a refused operation publishes nothing"
    );
}
