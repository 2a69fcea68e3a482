//! WebKitGTK settings that keep the app small (measured: BENCHMARKS.md, "Desktop
//! app memory"). The UI is one local page: no back/forward page cache, the
//! document-viewer cache model (the smallest memory caches), no WebGL, WebAudio
//! or media-stream machinery, the hardware-acceleration policy `Never` (what
//! `WEBKIT_DISABLE_COMPOSITING_MODE=1` does, per view: no compositing buffers).
//!
//! `COUP_DESKTOP_WEBKIT=stock` leaves WebKit's defaults (to measure against);
//! set it before the app starts.

use tauri::Manager;

/// Whether to tune (anything but `COUP_DESKTOP_WEBKIT=stock`).
pub fn tuned() -> bool {
    std::env::var("COUP_DESKTOP_WEBKIT").map_or(true, |v| v != "stock")
}

/// Tunes the main window's web view (the real runtime only).
pub fn tune(app: &tauri::App<tauri::Wry>) {
    if !tuned() {
        return;
    }
    let Some(window) = app.get_webview_window("main") else {
        return;
    };
    let applied = window.with_webview(|webview| {
        #[cfg(target_os = "linux")]
        {
            use webkit2gtk::{
                CacheModel, HardwareAccelerationPolicy, SettingsExt, WebContextExt, WebViewExt,
            };
            let view = webview.inner();
            if let Some(context) = view.context() {
                context.set_cache_model(CacheModel::DocumentViewer);
            }
            if let Some(settings) = WebViewExt::settings(&view) {
                settings.set_enable_page_cache(false);
                settings.set_enable_webgl(false);
                settings.set_enable_webaudio(false);
                settings.set_enable_media_stream(false);
                settings.set_enable_smooth_scrolling(false);
                settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = webview;
    });
    if let Err(e) = applied {
        tracing::warn!(error = %e, "tuning the web view");
    }
}
