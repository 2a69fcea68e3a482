//! CoUp's desktop shell: Tauri 2 around the shared UI (`ui/`), over
//! `coup_core::client`. `main.rs` calls [`run`]; [`app`] builds the app on any
//! Tauri runtime, so tests drive the same commands on the mock runtime.
//!
//! - `commands`: the Tauri commands (thin: parse, call the client, convert).
//! - `state`: `AppState`, registered with `manage` (the signed-in client, the
//!   remembered server, where files are).
//! - `error`: `CommandError`, serialized as `{code, reason, message, status, field}`.
//! - `tokens`: the OS credential store, or the client's owner-only file.
//!
//! Every `AppEvent` of the client is emitted to the webview as the Tauri event
//! [`EVENT`], as it is (camelCase, `type`-tagged).

pub mod commands;
pub mod error;
pub mod state;
pub mod tokens;

use std::path::PathBuf;
use std::sync::Arc;

use tauri::{Emitter, Manager, Runtime};

pub use state::AppState;

/// The Tauri event carrying every `AppEvent`.
pub const EVENT: &str = "coup://event";

/// Where the app keeps its cache, token file and settings:
/// `COUP_DESKTOP_DATA_DIR`, or the platform's app data directory.
fn data_dir<R: Runtime>(app: &tauri::App<R>) -> PathBuf {
    std::env::var_os("COUP_DESKTOP_DATA_DIR")
        .map(PathBuf::from)
        .or_else(|| app.path().app_data_dir().ok())
        .unwrap_or_else(|| PathBuf::from("coup-desktop-data"))
}

/// The app's commands and state on `builder`.
pub fn app<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        .setup(|app| {
            if app.try_state::<AppState>().is_none() {
                let handle = app.handle().clone();
                let emit: state::Emit = Arc::new(move |event| {
                    if let Err(e) = handle.emit(EVENT, event) {
                        tracing::warn!(error = %e, "emitting an app event");
                    }
                });
                app.manage(AppState::new(data_dir(app), emit));
            }
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::restore,
            commands::login,
            commands::signup,
            commands::logout,
            commands::connection_state,
            commands::studies,
            commands::dashboard,
            commands::study,
            commands::follow,
            commands::messages,
            commands::older_messages,
            commands::send_message,
            commands::delete_message,
            commands::mark_read,
            commands::set_typing,
            commands::outbox,
            commands::retry,
            commands::discard,
            commands::members,
            commands::notices,
            commands::calendar,
            commands::tasks,
            commands::create_task,
            commands::set_task_done,
            commands::notifications,
            commands::mark_notification_read,
            commands::mark_all_notifications_read,
            commands::search_studies,
            commands::create_study,
            commands::join_study,
            commands::reconnect,
        ])
}

/// Starts the desktop app.
pub fn run() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,coup_desktop=info".into()),
        )
        .try_init();
    if let Err(e) = app(tauri::Builder::default()).run(tauri::generate_context!()) {
        eprintln!("coup-desktop: {e}");
        std::process::exit(1);
    }
}
