//! A walk through CoUp's core, embedded: two people, one study, a join request,
//! a chat with a mention, read receipts and a deleted message.
//!
//! ```text
//! cargo run -p coup-core --example walkthrough [DB_FILE]
//! ```
//!
//! Without `DB_FILE` it uses a fresh SQLite file in the system's temp directory.
//! With one that already has the two accounts, it logs them in instead.

use std::collections::HashMap;
use std::path::PathBuf;

use coup_core::ids::UserId;
use coup_core::model::{JoinPolicy, LoginResult, NotificationKind, PageRequest};
use coup_core::service::accounts::{Login, Signup};
use coup_core::service::chat::{self, ChatQuery, SendMessage};
use coup_core::service::membership::{self, JoinRequest};
use coup_core::service::notifications::{self, NotificationQuery};
use coup_core::service::studies::{self, NewStudy};
use coup_core::{Core, DomainEvent, ErrorCode, Result};

/// Display names of the people in the story, by id.
type Names = HashMap<UserId, String>;

#[tokio::main]
async fn main() -> Result<()> {
    let path = std::env::args_os()
        .nth(1)
        .map_or_else(default_path, PathBuf::from);
    println!("CoUp core walkthrough — SQLite store at {}", path.display());
    let core = Core::open_sqlite(&path)?;

    step(1, "Two people sign up");
    let minsu = account(&core, "minsu@example.com", "Minsu").await?;
    let seoyeon = account(&core, "seoyeon@example.com", "Seoyeon").await?;
    let (m, s) = (minsu.user.id, seoyeon.user.id);
    let names: Names = [(m, minsu.user.name.clone()), (s, seoyeon.user.name.clone())].into();

    step(2, "Minsu creates a study that needs approval to join");
    let created = core
        .write(move |tx| {
            studies::create(
                tx,
                Some(m),
                NewStudy {
                    name: "Rust 입문 스터디".into(),
                    description: "Reading the Rust book together, one chapter a week.".into(),
                    category: "프로그래밍".into(),
                    tags: vec!["rust".into(), "book".into()],
                    max_members: 10,
                    is_public: true,
                    join_policy: JoinPolicy::Approval,
                    is_recruiting: true,
                },
            )
        })
        .await?;
    let study = created.value.id;
    println!(
        "  \"{}\" ({}), join policy {}, {} member(s), Minsu is {}",
        created.value.name,
        study,
        created.value.join_policy,
        created.value.member_count,
        created.value.my_role.map_or("-", |r| r.as_str())
    );
    show(&created.events, &names);

    step(3, "Seoyeon asks to join");
    let join = JoinRequest {
        message: Some("안녕하세요! Rust 처음인데 함께하고 싶어요.".into()),
        invite_code: None,
    };
    let joined = core
        .write(move |tx| membership::join(tx, Some(s), study, join))
        .await?;
    println!("  her membership is now {}", joined.value.status);
    show(&joined.events, &names);

    step(4, "Minsu sees the join request");
    latest_notification(&core, m, "Minsu", NotificationKind::JoinRequest).await?;
    let requests = core
        .read(move |tx| membership::list_join_requests(tx, Some(m), study, PageRequest::default()))
        .await?;
    for r in &requests.items {
        println!(
            "  waiting: {} — \"{}\"",
            r.name,
            r.message.as_deref().unwrap_or("")
        );
    }

    step(5, "Minsu approves; Seoyeon is told");
    let approved = core
        .write(move |tx| membership::approve(tx, Some(m), study, s))
        .await?;
    println!(
        "  Seoyeon is now {} {}",
        approved.value.status, approved.value.role
    );
    show(&approved.events, &names);
    latest_notification(&core, s, "Seoyeon", NotificationKind::JoinApproved).await?;

    step(
        6,
        "They chat; every message gets the study's next sequence number",
    );
    let lines = [
        (m, "환영해요! This week: chapters 1–3."),
        (s, "Thanks @Minsu! Is the meetup on Friday?"),
        (m, "Yes, Friday 8pm at the usual café."),
        (s, "Great, see you there."),
        (s, "Oops, wrong chat, ignore that 🙈"),
    ];
    let mut sent = Vec::new();
    for (author, text) in lines {
        let input = SendMessage {
            content: text.into(),
            ..SendMessage::default()
        };
        let out = core
            .write(move |tx| chat::send(tx, Some(author), study, input))
            .await?;
        println!(
            "  #{} {}: {}",
            out.value.seq, out.value.author_name, out.value.content
        );
        show(&out.events, &names);
        sent.push(out.value);
    }

    step(7, "Minsu sees the mention");
    latest_notification(&core, m, "Minsu", NotificationKind::Mention).await?;

    step(8, "Unread counts (own messages never count)");
    unread(&core, m, "Minsu").await?;
    unread(&core, s, "Seoyeon").await?;
    let read_up_to = sent[3].seq;
    let marked = core
        .write(move |tx| chat::mark_read(tx, Some(m), study, read_up_to))
        .await?;
    println!("  Minsu reads up to #{}", marked.value);
    show(&marked.events, &names);
    unread(&core, m, "Minsu").await?;

    step(
        9,
        "Seoyeon deletes her last message; it stays as a tombstone",
    );
    let gone = sent[4].id;
    let deleted = core
        .write(move |tx| chat::delete(tx, Some(s), study, gone))
        .await?;
    show(&deleted.events, &names);
    let page = core
        .read(move |tx| chat::list(tx, Some(m), study, ChatQuery::default()))
        .await?;
    for msg in &page.items {
        if msg.is_deleted {
            println!("  #{} (deleted)", msg.seq);
        } else {
            println!("  #{} {}: {}", msg.seq, msg.author_name, msg.content);
        }
    }
    unread(&core, m, "Minsu").await?;

    println!("\nDone. The database is at {}", path.display());
    Ok(())
}

/// A fresh database file in the temp directory.
fn default_path() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!(
        "coup-walkthrough-{}-{nanos}.db",
        std::process::id()
    ))
}

/// Signs a person up, or logs them in when the database already knows them.
async fn account(core: &Core, email: &str, name: &str) -> Result<LoginResult> {
    let signup = Signup {
        email: email.into(),
        password: "study-together-42".into(),
        name: name.into(),
    };
    match core.signup(signup).await {
        Ok(out) => {
            println!("  {name} signed up as {email} (id {})", out.value.user.id);
            for e in &out.events {
                println!("    event: {}", kind(e));
            }
            Ok(out.value)
        }
        Err(e) if e.code() == ErrorCode::Conflict => {
            let login = core
                .login(Login {
                    email: email.into(),
                    password: "study-together-42".into(),
                })
                .await?;
            println!("  {name} already exists; logged in (id {})", login.user.id);
            Ok(login)
        }
        Err(e) => Err(e),
    }
}

fn step(n: u32, title: &str) {
    println!("\n{n}. {title}");
}

/// Prints a person's newest notification of a kind, and their unread total.
async fn latest_notification(
    core: &Core,
    user: UserId,
    who: &str,
    kind: NotificationKind,
) -> Result<()> {
    let query = NotificationQuery {
        unread_only: true,
        page: Some(1),
        limit: Some(100),
    };
    let page = core
        .read(move |tx| notifications::list(tx, Some(user), query))
        .await?;
    match page.items.iter().find(|n| n.kind == kind) {
        Some(n) if n.body.is_empty() => println!("  {who}'s notification [{}] {}", n.kind, n.title),
        Some(n) => println!(
            "  {who}'s notification [{}] {} — {}",
            n.kind, n.title, n.body
        ),
        None => println!("  {who} has no {kind} notification (unexpected!)"),
    }
    println!("  {who} has {} unread notification(s)", page.unread_count);
    Ok(())
}

async fn unread(core: &Core, user: UserId, who: &str) -> Result<()> {
    let counts = core
        .read(move |tx| chat::unread_counts(tx, Some(user)))
        .await?;
    for c in counts {
        println!("  {who}: {} unread in \"{}\"", c.unread, c.study_name);
    }
    Ok(())
}

/// One line per event an operation returned.
fn show(events: &[DomainEvent], names: &Names) {
    let name = |id: &UserId| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let list = |ids: &[UserId]| ids.iter().map(name).collect::<Vec<_>>().join(", ");
    for e in events {
        let detail = match e {
            DomainEvent::StudyCreated { study } => {
                format!("\"{}\" by {}", study.name, study.owner_name)
            }
            DomainEvent::JoinRequested {
                user_name,
                managers,
                ..
            } => {
                format!("{user_name} asks; managers to decide: {}", list(managers))
            }
            DomainEvent::JoinApproved { user_id, actor, .. } => {
                format!("{} approved by {}", name(user_id), name(actor))
            }
            DomainEvent::MessagePosted {
                message, mentioned, ..
            } if mentioned.is_empty() => {
                format!("seq {} by {}", message.seq, message.author_name)
            }
            DomainEvent::MessagePosted {
                message, mentioned, ..
            } => {
                format!(
                    "seq {} by {}, mentions {}",
                    message.seq,
                    message.author_name,
                    list(mentioned)
                )
            }
            DomainEvent::MessagesRead {
                user_id,
                last_read_seq,
                ..
            } => {
                format!("{} has read up to seq {last_read_seq}", name(user_id))
            }
            DomainEvent::MessageDeleted { seq, actor, .. } => {
                format!("seq {seq} deleted by {}", name(actor))
            }
            DomainEvent::NotificationCreated { notification: n } => {
                format!("to {}: [{}] {}", name(&n.user_id), n.kind, n.title)
            }
            _ => String::new(),
        };
        println!(
            "    event: {}{}{detail}",
            kind(e),
            if detail.is_empty() { "" } else { " — " }
        );
    }
}

/// An event's wire name (its serde tag).
fn kind(e: &DomainEvent) -> String {
    serde_json::to_value(e)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}
