//! A terminal chat bot built on the CoUp client: it signs in, follows a study live
//! and answers every message that mentions it. It shows the client's moving parts:
//! `Client::login`, `follow`, the app events, and sending through the outbox (a
//! reply written while the server is away goes out once it is back).
//!
//! ```sh
//! cargo run -p coup-server -- --demo          # in one terminal
//! cargo run -p coup-core --features client --example chat_bot -- \
//!     --email kim@example.com --password study-together-42
//! ```
//!
//! Then mention the bot's user (e.g. `@김민수`) in that study's chat.

use std::path::PathBuf;

use clap::Parser;
use coup_core::api::studies::MyStudiesQuery;
use coup_core::client::{AppEvent, Client, ClientConfig, ConnectionState};
use coup_core::ids::StudyId;
use coup_core::notify::mentioned_names;

/// Follows a CoUp study and replies to mentions.
#[derive(Debug, Parser)]
struct Args {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    server: String,
    /// The bot account's email.
    #[arg(long)]
    email: String,
    /// The bot account's password.
    #[arg(long, env = "COUP_BOT_PASSWORD", hide_env_values = true)]
    password: String,
    /// The study to follow (default: the first of the bot's studies).
    #[arg(long)]
    study: Option<StudyId>,
    /// The offline cache file.
    #[arg(long, default_value = "coup-bot-cache.db")]
    cache: PathBuf,
    /// Stop after this many replies (default: run until interrupted).
    #[arg(long)]
    max_replies: Option<u32>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let config = ClientConfig::new(&args.server, &args.cache);
    let client = Client::login(config, &args.email, &args.password).await?;
    let mut events = client.events();
    let me = client.user();
    let study = match args.study {
        Some(study) => study,
        None => client
            .api()
            .my_studies(&MyStudiesQuery::default())
            .await?
            .items
            .first()
            .map(|s| s.id)
            .ok_or("the bot's account is in no study; pass --study")?,
    };
    client.follow(study).await?;
    println!("{} follows study {study}", me.name);
    let my_name = me.name.to_lowercase();
    let mut replies = 0;
    while let Some(event) = events.next().await {
        match event {
            AppEvent::MessageReceived { message } => {
                let mentions_me = mentioned_names(&message.content).contains(&my_name);
                if message.study_id != study || message.author_id == me.id || !mentions_me {
                    continue;
                }
                println!(
                    "#{} {}: {}",
                    message.seq, message.author_name, message.content
                );
                let reply = format!(
                    "@{} 네, 듣고 있어요! (#{}번 메시지를 받았어요)",
                    message.author_name, message.seq
                );
                client.send_message(study, &reply).await?;
                replies += 1;
                if args.max_replies.is_some_and(|max| replies >= max) {
                    break;
                }
            }
            AppEvent::Connection { state } => match state {
                ConnectionState::Online => eprintln!("connected"),
                ConnectionState::Connecting => eprintln!("connecting"),
                ConnectionState::Offline {
                    reason,
                    retry_in_ms,
                } => eprintln!("disconnected ({reason}); retrying in {retry_in_ms} ms"),
                ConnectionState::SignedOut {
                    code,
                    message,
                    reason,
                } => {
                    let why = reason.map(|r| format!(" ({r})")).unwrap_or_default();
                    return Err(
                        format!("the server ended the session: {code} {message}{why}").into(),
                    );
                }
            },
            AppEvent::OutboxSent { .. } => println!("reply sent"),
            AppEvent::OutboxFailed { item } => eprintln!("reply refused: {:?}", item.state),
            _ => {}
        }
    }
    // The last reply may still be in the outbox.
    let report = client.flush().await?;
    if let Some(error) = report.stopped {
        eprintln!(
            "{} replies wait in the outbox: {error}",
            client.outbox().await?.len()
        );
    }
    Ok(())
}
