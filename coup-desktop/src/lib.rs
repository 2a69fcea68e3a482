//! CoUp's desktop shell: Tauri 2 around the shared UI (`ui/`), over
//! `coup_core::client`. `main.rs` calls [`run`]; [`app`] builds the app on any
//! Tauri runtime, so tests drive the same commands on the mock runtime.
//!
//! - `commands`: the Tauri commands (thin: parse, call the client, convert).
//! - `state`: `AppState`, registered with `manage` (the signed-in client, the
//!   remembered server, where files are).
//! - `media`: a call's media on coup-core's engine: remote video to the
//!   webview still encoded, audio to the speaker.
//! - `devices`: what a call sends: the microphone (ALSA capture), the camera
//!   (V4L2, or the test pattern), the screen (X11).
//! - `error`: `CommandError`, serialized as `{code, reason, message, status, field}`.
//! - `launch`: the process's age, for the launch-time benchmark.
//! - `tokens`: the OS credential store, or the client's owner-only file.
//! - `desktop_notify`: OS notifications for mentions and join requests while
//!   the window is not focused.
//! - `webview`: the WebKitGTK settings that keep the web process small.
//!
//! Every `AppEvent` of the client is emitted to the webview as the Tauri event
//! [`EVENT`], as it is (camelCase, `type`-tagged).

pub mod commands;
pub mod desktop_notify;
pub mod devices;
pub mod error;
pub mod launch;
pub mod media;
pub mod state;
pub mod tokens;
pub mod webview;

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
            // The launch's steps, against the process's age (BENCHMARKS.md).
            tracing::info!(ms = launch::process_age_ms(), "setup");
            if app.try_state::<AppState>().is_none() {
                let handle = app.handle().clone();
                let emit: state::Emit = Arc::new(move |event| {
                    if let Err(e) = handle.emit(EVENT, event) {
                        tracing::warn!(error = %e, "emitting an app event");
                    }
                    let focused = handle
                        .get_webview_window("main")
                        .and_then(|w| w.is_focused().ok())
                        .unwrap_or(false);
                    if let Some((title, body)) = desktop_notify::os_notification(event, focused) {
                        desktop_notify::show(title, body);
                    }
                });
                app.manage(AppState::new(data_dir(app), emit));
            }
            Ok(())
        })
        .on_page_load(|_, page| {
            tracing::info!(ms = launch::process_age_ms(), event = ?page.event(), "page load");
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::launched,
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
            commands::newer_messages,
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
            commands::update_task,
            commands::delete_task,
            commands::account::me,
            commands::account::update_me,
            commands::account::change_password,
            commands::account::leave_study,
            commands::account::create_report,
            commands::manage::update_study,
            commands::manage::delete_study,
            commands::manage::join_requests,
            commands::manage::approve_member,
            commands::manage::reject_member,
            commands::manage::change_role,
            commands::manage::kick_member,
            commands::manage::invite_code,
            commands::manage::regenerate_invite_code,
            commands::manage::create_notice,
            commands::manage::update_notice,
            commands::manage::pin_notice,
            commands::manage::delete_notice,
            commands::manage::events,
            commands::manage::create_event,
            commands::manage::update_event,
            commands::manage::delete_event,
            commands::files::files,
            commands::files::upload_file,
            commands::files::download_file,
            commands::files::delete_file,
            commands::admin::admin_stats,
            commands::admin::admin_users,
            commands::admin::suspend_user,
            commands::admin::restore_user,
            commands::admin::admin_studies,
            commands::admin::admin_delete_study,
            commands::admin::admin_reports,
            commands::admin::process_report,
            commands::admin::audit_log,
            commands::calls::join_call,
            commands::calls::leave_call,
            commands::calls::set_media,
            commands::calls::request_keyframe,
        ])
}

/// Starts the desktop app.
pub fn run() {
    webview::prepare_environment();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,coup_desktop=info".into()),
        )
        .try_init();
    match app(tauri::Builder::default()).build(tauri::generate_context!()) {
        Ok(app) => {
            webview::tune(&app);
            app.run(|_, _| {});
        }
        Err(e) => {
            eprintln!("coup-desktop: {e}");
            std::process::exit(1);
        }
    }
}
