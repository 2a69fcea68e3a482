"""The desktop app's memory and launch time (BENCHMARKS.md, "Desktop app").

Against a real coup-server, the app (release build) signed in through its UI:

  1. a study with 1,000 messages: the chat opened and scrolled through to the
     first message and back down; then the PSS summed over the app's processes;
  2. live chat at one message a second from a second user for
     COUP_BENCH_MINUTES minutes (the issue asks 60), PSS and the page's DOM
     node count every 30 s; growth from the first sample after one minute to
     the last; each process's PSS broken down (procs.breakdown_lines) after the
     scrolling and at the end;
  3. launch to the cached dashboard with the server down: the app's own time
     from its process start to the cached dashboard painted (the `launched`
     command, mark `coup:launched`), beside the wall clock from the WebDriver
     session request (which includes WebKitWebDriver starting a session) and the
     page's time from navigation start to the dashboard in the DOM.

Results: stdout and $COUP_E2E_OUT/memory.txt.
"""

import json
import os
import sys
import time
import urllib.request

from procs import breakdown_lines, memory_line
from webdriver import Session, wait_ready

SERVER = os.environ["COUP_E2E_SERVER"]
APP = os.environ["COUP_E2E_APP"]
DRIVER = os.environ["COUP_E2E_DRIVER"]
OUT = os.environ["COUP_E2E_OUT"]
CONTROL = os.environ["COUP_E2E_CONTROL"]
MINUTES = float(os.environ.get("COUP_BENCH_MINUTES", "10"))
HISTORY = int(os.environ.get("COUP_BENCH_HISTORY", "1000"))
LABEL = os.environ.get("COUP_BENCH_LABEL", "release")
PASSWORD = "study-together-42"
RUN = str(int(time.time()))


def api(method, path, body=None, token=None):
    req = urllib.request.Request(
        f"{SERVER}{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
    )
    with urllib.request.urlopen(req, timeout=15) as resp:
        raw = resp.read()
        return json.loads(raw) if raw else None


def record(line):
    print(line, flush=True)
    with open(os.path.join(OUT, "memory.txt"), "a") as f:
        f.write(line + "\n")


def server_control(command):
    path = os.path.join(CONTROL, command)
    open(path, "w").close()
    deadline = time.time() + 60
    while os.path.exists(path):
        if time.time() > deadline:
            raise RuntimeError(f"server {command} not acknowledged")
        time.sleep(0.1)


def sign_in(s, email):
    s.wait_css("#submit", timeout=60)
    s.js("document.querySelector('input[name=server]').value = arguments[0];", SERVER)
    s.type("input[name=email]", email)
    s.type("input[name=password]", PASSWORD)
    s.click("#submit")
    s.wait_css("#dashboard", timeout=30)


def scroll_through(s):
    """Up to the first message (each page loads at the top), then back down."""
    deadline = time.time() + 600
    while not s.js("return (document.querySelector('#history-top')?.textContent ?? '').length > 0 && !document.querySelector('#history-top').textContent.includes('…');"):
        s.js("const m = document.querySelector('#messages'); m.scrollTop = 0; m.dispatchEvent(new Event('scroll'));")
        time.sleep(0.3)
        if time.time() > deadline:
            raise RuntimeError("never reached the first message")
    first = s.js("return document.querySelector('#messages .msg')?.dataset.seq;")
    while s.js("const m = document.querySelector('#messages'); return m.scrollHeight - m.scrollTop - m.clientHeight > 2 || document.querySelector('#messages .msg:last-of-type')?.dataset.seq !== arguments[0];", str(HISTORY)):
        s.js("const m = document.querySelector('#messages'); m.scrollTop = m.scrollHeight; m.dispatchEvent(new Event('scroll'));")
        time.sleep(0.3)
        if time.time() > deadline:
            raise RuntimeError("never came back to the newest message")
    return first


def main():
    wait_ready(DRIVER)
    bob = api("POST", "/api/auth/signup", {"email": f"bob{RUN}@example.com", "password": PASSWORD, "name": "Bob Lee"})
    alice = api("POST", "/api/auth/signup", {"email": f"alice{RUN}@example.com", "password": PASSWORD, "name": "Alice Kim"})
    study = api("POST", "/api/studies", {"name": f"Bench {RUN}", "description": "memory", "category": "Bench", "tags": [],
                                          "maxMembers": 8, "isPublic": True, "joinPolicy": "AUTO"}, token=bob["token"])
    sid = study["id"]
    api("POST", f"/api/studies/{sid}/join", {}, token=alice["token"])
    for i in range(HISTORY):
        api("POST", f"/api/studies/{sid}/chat", {"content": f"history {i + 1}: a message of ordinary length, about what we read this week",
                                                 "clientId": f"b-{RUN}-{i}"}, token=bob["token"])
    record(f"== {LABEL}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, COUP_DESKTOP_WEBKIT={os.environ.get('COUP_DESKTOP_WEBKIT', '(tuned)')}, WEBKIT_DISABLE_COMPOSITING_MODE={os.environ.get('WEBKIT_DISABLE_COMPOSITING_MODE', '(unset)')}")

    s = Session(DRIVER, APP)
    try:
        sign_in(s, f"alice{RUN}@example.com")
        time.sleep(3)
        record(memory_line("signed in, dashboard")[1])
        s.click(f"[data-study='{sid}']")
        s.wait(f"return document.querySelectorAll('#messages .msg').length >= 50;", timeout=60, what="chat")
        time.sleep(3)
        record(memory_line("study chat open (newest 50)")[1])
        first = scroll_through(s)
        nodes = s.js("return document.querySelectorAll('#messages .msg').length;")
        time.sleep(5)
        total, line = memory_line(f"after scrolling through {HISTORY} messages (reached seq {first}, {nodes} in the DOM)")
        record(line)
        for part in breakdown_lines():
            record(part)

        samples = []
        started = time.time()
        sent = 0
        next_sample = started + 60
        while time.time() - started < MINUTES * 60:
            sent += 1
            api("POST", f"/api/studies/{sid}/chat", {"content": f"live {sent} {RUN}", "clientId": f"l-{RUN}-{sent}"}, token=bob["token"])
            if time.time() >= next_sample:
                kib, _ = memory_line("")
                dom = s.js("return document.getElementsByTagName('*').length;")
                samples.append((time.time() - started, kib, dom))
                next_sample += 30
            time.sleep(max(0.0, started + sent - time.time()))
        time.sleep(2)
        shown = s.js("return [...document.querySelectorAll('#messages .msg .content')].some(c => c.textContent === arguments[0]);", f"live {sent} {RUN}")
        nodes = s.js("return document.querySelectorAll('#messages .msg').length;")
        kib, line = memory_line(f"after {MINUTES:g} min of live chat at 1 msg/s ({sent} messages, last shown: {shown}, {nodes} in the DOM)")
        samples.append((time.time() - started, kib, s.js("return document.getElementsByTagName('*').length;")))
        record(line)
        for part in breakdown_lines():
            record(part)
        base = samples[0][1]
        record("samples (s, MiB, DOM elements): " + " ".join(f"{t:.0f}:{k / 1024:.1f}:{d}" for t, k, d in samples))
        record(f"growth from {samples[0][0]:.0f} s to {samples[-1][0]:.0f} s: {(kib - base) / base * 100:+.1f} % ({base / 1024:.1f} -> {kib / 1024:.1f} MiB)")
    finally:
        s.quit()

    server_control("stop")
    time.sleep(1)
    for attempt in range(3):
        started = time.time()
        again = Session(DRIVER, APP)
        try:
            again.wait(f"return document.querySelector(\"[data-study='{sid}']\") !== null;", timeout=30, what="cached dashboard")
            wall = time.time() - started
            again.wait("return performance.getEntriesByName('coup:launched').length > 0;", timeout=10, what="launched mark")
            app, answered = again.js("const m = performance.getEntriesByName('coup:launched')[0]; return [m.detail, m.startTime];")
            page = again.js("const m = performance.getEntriesByName('coup:dashboard')[0]; return m ? m.startTime : null;")
            # The app's age when it answered, less the page's clock then: the time before the page's navigation started.
            record(f"launch to cached dashboard, server down (run {attempt + 1}): {app} ms from the app's process start to the dashboard painted "
                   f"(≈{app - answered:.0f} ms of it before the page's navigation start); "
                   f"{wall:.2f} s wall clock from the WebDriver session request; {page:.0f} ms from navigation start to the dashboard in the DOM")
        finally:
            again.quit()
        time.sleep(1)
    server_control("start")
    return 0


if __name__ == "__main__":
    sys.exit(main())
