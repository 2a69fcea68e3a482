//! WebKitGTK settings that keep the app small (measured: BENCHMARKS.md, "Desktop
//! app memory"). The UI is one local page: no back/forward page cache, the
//! document-viewer cache model (the smallest memory caches), no WebGL, WebAudio
//! or media-stream machinery, the hardware-acceleration policy `Never` (what
//! `WEBKIT_DISABLE_COMPOSITING_MODE=1` does, per view: no compositing buffers).
//!
//! Before GTK starts, [`prepare_environment`] sets what WebKit's processes read
//! from their environment (they inherit the app's; a variable the user set
//! wins). Each measured against the same settings without it, after 1,000
//! messages scrolled through (BENCHMARKS.md):
//! - `WEBKIT_DISABLE_DMABUF_RENDERER=1`: the web process paints into shared
//!   memory the app shows, not into GPU buffers (llvmpipe's, anonymous memory,
//!   where there is no GPU): web process 238 → 121 MiB.
//! - `MALLOC_MMAP_THRESHOLD_=131072`: glibc's initial threshold, fixed (it
//!   otherwise grows with each large block freed, and freed paint buffers then
//!   stay in the web process's heap): heap 56 → 29 MiB.
//! - `JSC_forceMiniVMMode=true`: JavaScriptCore's small-memory mode (its heap
//!   grows less between collections; the JIT stays): web process 121 → 72 MiB.
//!
//! `COUP_DESKTOP_WEBKIT=stock` leaves WebKit's defaults (to measure against);
//! set it before the app starts.

use tauri::Manager;

/// Whether to tune (anything but `COUP_DESKTOP_WEBKIT=stock`).
pub fn tuned() -> bool {
    std::env::var("COUP_DESKTOP_WEBKIT").map_or(true, |v| v != "stock")
}

/// WebKit's environment for the app and the web and network processes it
/// starts (they inherit it). Called first thing in `run`, before any thread
/// starts: nothing reads the environment concurrently.
pub fn prepare_environment() {
    if !tuned() {
        return;
    }
    #[cfg(target_os = "linux")]
    for (name, value) in SMALL_WEBKIT {
        if let Err(e) = webkit2gtk::glib::setenv(name, value, false) {
            eprintln!("coup-desktop: setting {name}: {e}");
        }
    }
}

/// The environment [`prepare_environment`] sets (see the module's doc).
#[cfg(target_os = "linux")]
const SMALL_WEBKIT: [(&str, &str); 3] = [
    ("WEBKIT_DISABLE_DMABUF_RENDERER", "1"),
    ("MALLOC_MMAP_THRESHOLD_", "131072"),
    ("JSC_forceMiniVMMode", "true"),
];

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
