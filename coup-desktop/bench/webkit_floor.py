"""The floor under the desktop app's memory: an empty WebKitGTK window (GTK 3,
WebKit2GTK 4.1, the app's WebKit settings from src/webview.rs) with a one-line
page, its PSS summed over it and its web and network processes, with the same
breakdown as the app's benchmark (e2e/procs.py). Run under Xvfb by
webkit_floor.sh; WebKit's environment variables (WEBKIT_*, JSC_*, Malloc)
are passed on to its processes as they would be from the app.

    /usr/bin/python3 coup-desktop/bench/webkit_floor.py [SECONDS]
"""

import os
import sys

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("WebKit2", "4.1")
from gi.repository import GLib, Gtk, WebKit2  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from procs import breakdown_lines, pss_kib, process_table, tree  # noqa: E402

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 8


def measure():
    parents, names = process_table()
    processes = tree([os.getpid()], parents, names)
    each = [(name, pss_kib(pid)) for pid, name in processes]
    total = sum(k for _, k in each)
    print(f"empty WebKitGTK window: {total / 1024:.1f} MiB PSS over {len(processes)} processes ("
          + ", ".join(f"{name} {k / 1024:.0f}" for name, k in each) + ")")
    for line in breakdown_lines(processes):
        print(line)
    Gtk.main_quit()
    return False


def main():
    context = WebKit2.WebContext.get_default()
    view = WebKit2.WebView.new_with_context(context)
    if os.environ.get("COUP_DESKTOP_WEBKIT") != "stock":
        context.set_cache_model(WebKit2.CacheModel.DOCUMENT_VIEWER)
        settings = view.get_settings()
        settings.set_enable_page_cache(False)
        settings.set_enable_webgl(False)
        settings.set_enable_webaudio(False)
        settings.set_enable_media_stream(False)
        settings.set_enable_smooth_scrolling(False)
        settings.set_hardware_acceleration_policy(WebKit2.HardwareAccelerationPolicy.NEVER)
    window = Gtk.Window(title="floor")
    window.set_default_size(1200, 800)
    window.add(view)
    window.show_all()
    view.load_html("<!doctype html><p>CoUp</p>", "http://localhost/")
    GLib.timeout_add(int(SECONDS * 1000), measure)
    Gtk.main()


if __name__ == "__main__":
    main()
