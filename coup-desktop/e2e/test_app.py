"""End to end: the real coup-server, the real desktop app under Xvfb through
tauri-driver, and a second client on the server's REST API.

  sign up in the app; a second user's study is found and joined in the app;
  a message sent in the app reaches the second user; one sent by the second
  user appears in the app; the server stops, the app says it is offline, a
  message written offline shows as pending and, when the server is back, is
  delivered exactly once. Screenshots of each main screen go to $OUT.
"""

import json
import os
import subprocess
import sys
import time
import urllib.request

from webdriver import Session, wait_ready

SERVER = os.environ["COUP_E2E_SERVER"]
APP = os.environ["COUP_E2E_APP"]
DRIVER = os.environ.get("COUP_E2E_DRIVER", "http://127.0.0.1:4444")
OUT = os.environ["COUP_E2E_OUT"]
CONTROL = os.environ["COUP_E2E_CONTROL"]  # a FIFO-less control: files run.sh watches
PASSWORD = "study-together-42"
RUN = str(int(time.time()))

passed = 0
failed = 0


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


def server_control(command):
    """Asks run.sh to stop or start the server, and waits until it did."""
    path = os.path.join(CONTROL, command)
    open(path, "w").close()
    deadline = time.time() + 60
    while os.path.exists(path):
        if time.time() > deadline:
            raise RuntimeError(f"server {command} not acknowledged")
        time.sleep(0.1)


CURRENT = {}


def step(name, fn):
    global passed, failed
    started = time.time()
    try:
        fn()
        passed += 1
        print(f"ok   {name} ({time.time() - started:.1f} s)", flush=True)
    except Exception as e:  # noqa: BLE001 - report and stop: later steps depend on this one
        failed += 1
        print(f"FAIL {name}: {e}", flush=True)
        try:
            shot(None, "failure")
            print("page:", CURRENT["session"].js("return document.body.innerText.slice(0, 800);"))
        except Exception:  # noqa: BLE001
            pass
        raise


def shot(_s, name):
    """The X screen (WebKitWebDriver's own screenshot command took the driver down
    now and then): the app window, cropped to its size."""
    time.sleep(0.5)  # let WebKit paint what the DOM just got
    subprocess.run(["/usr/bin/import", "-window", "root", "-crop", "1200x800+0+0", "+repage",
                    os.path.join(OUT, f"{name}.png")], check=True, timeout=30)


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def app_processes():
    """The app and every process under it (WebKit's web and network processes)."""
    parents = {}
    names = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            names[int(entry)] = stat[stat.index("(") + 1:stat.rindex(")")]
            parents[int(entry)] = int(stat[stat.rindex(")") + 2:].split()[1])
        except (OSError, ValueError):
            continue
    roots = [pid for pid, name in names.items() if name == "coup-desktop"]
    found = set(roots)
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in found and pid not in found:
                found.add(pid)
                changed = True
    return sorted((pid, names[pid]) for pid in found)


def measure_memory(label):
    procs = app_processes()
    each = [(name, pss_kib(pid)) for pid, name in procs]
    total = sum(k for _, k in each)
    parts = ", ".join(f"{name} {k / 1024:.0f}" for name, k in each)
    line = f"{label}: {total / 1024:.1f} MiB PSS over {len(procs)} processes ({parts})"
    print(line, flush=True)
    with open(os.path.join(OUT, "measurements.txt"), "a") as f:
        f.write(line + "\n")
    return total


def main():
    wait_ready(DRIVER)
    bob = api("POST", "/api/auth/signup", {"email": f"bob{RUN}@example.com", "password": PASSWORD, "name": "Bob Lee"})
    bob_token = bob["token"]
    study = api(
        "POST",
        "/api/studies",
        {"name": f"Rust Study {RUN}", "description": "Weekly Rust reading group: async, traits, and lifetimes.",
         "category": "Programming", "tags": ["rust"], "maxMembers": 8, "isPublic": True, "joinPolicy": "AUTO"},
        token=bob_token,
    )
    study_id = study["id"]
    alice_email = f"alice{RUN}@example.com"

    s = Session(DRIVER, APP)
    CURRENT["session"] = s
    try:
        def sign_up():
            s.wait_css("#submit", timeout=40)
            time.sleep(1)  # the first paint (a screenshot before it can take the driver down)
            shot(s, "01-sign-in")
            s.click("#toggle-mode")
            s.type("input[name=server]", SERVER)
            s.type("input[name=name]", "Alice Kim")
            s.type("input[name=email]", alice_email)
            s.type("input[name=password]", "password1")
            s.click("#submit")
            # A weak password is refused in words from the server's reason.
            s.wait("return document.querySelector('[role=alert]')?.textContent.includes('too easy to guess') || document.querySelector('[role=alert]')?.textContent.includes('추측');", what="weak-password error")
            shot(s, "02-sign-up-error")
            s.type("input[name=password]", PASSWORD)
            s.click("#submit")
            s.wait_css("#dashboard")
            s.wait("return document.querySelector('#me')?.textContent === 'Alice Kim';", what="signed-in name")
        step("sign up in the app (weak password refused first)", sign_up)

        def find_and_join():
            s.click("#nav-find")
            s.type("#search-keyword", RUN)
            s.js("document.querySelector('form[role=search]').requestSubmit();")
            s.wait("return [...document.querySelectorAll('#results h2')].some(h => h.textContent.includes(arguments[0]));", RUN, what="search result")
            shot(s, "03-find")
            s.click("#results li.card button.primary")
            s.wait("return document.querySelector('#results [role=status]')?.textContent.length > 0;", what="joined message")
            s.click("#nav-dashboard")
            s.wait_css(f"[data-study='{study_id}']")
            shot(s, "04-dashboard")
        step("find the study and join it", find_and_join)

        def chat_both_ways():
            s.click(f"[data-study='{study_id}']")
            s.wait_css("#message-input")
            s.type("#message-input", f"hello from the app {RUN}")
            s.click("#send")
            deadline = time.time() + 20
            while True:
                items = api("GET", f"/api/studies/{study_id}/chat", token=bob_token)["items"]
                if any(m["content"] == f"hello from the app {RUN}" for m in items):
                    break
                if time.time() > deadline:
                    raise AssertionError("the app's message never reached the server")
                time.sleep(0.3)
            api("POST", f"/api/studies/{study_id}/chat", {"content": f"hi Alice, Bob here {RUN}", "clientId": f"bob-{RUN}"}, token=bob_token)
            s.wait("return [...document.querySelectorAll('#messages .msg .content')].some(c => c.textContent === arguments[0]);", f"hi Alice, Bob here {RUN}", what="Bob's message in the app")
            shot(s, "05-chat")
        step("a message from the app reaches a second client, and one from it appears live", chat_both_ways)

        def members():
            s.click("#tab-members")
            s.wait_css("#members li")
            s.wait("return document.querySelectorAll('#members li').length === 2;", what="two members")
            shot(s, "06-members")
            s.click("#tab-chat")
            s.wait_css("#message-input")
        step("members with presence", members)

        def offline_exactly_once():
            server_control("stop")
            s.wait("return document.querySelector('#banner .banner.offline') !== null;", timeout=30, what="offline banner")
            text = f"written offline {RUN}"
            s.type("#message-input", text)
            s.click("#send")
            s.wait("return document.querySelector('#messages .msg.pending') !== null;", what="pending bubble")
            shot(s, "07-offline-pending")
            server_control("start")
            s.js("document.querySelector('#banner button')?.click();")  # "Reconnect now"
            s.wait("return document.querySelector('#banner .banner') === null;", timeout=60, what="back online")
            s.wait("return document.querySelector('#messages .msg.pending') === null && [...document.querySelectorAll('#messages .msg .content')].filter(c => c.textContent === arguments[0]).length === 1;", text, timeout=30, what="offline message delivered in the app")
            time.sleep(2)  # any duplicate would have arrived by now
            items = api("GET", f"/api/studies/{study_id}/chat?limit=100", token=bob_token)["items"]
            count = sum(1 for m in items if m["content"] == text)
            assert count == 1, f"offline message stored {count} times"
            shown = s.js("return [...document.querySelectorAll('#messages .msg .content')].filter(c => c.textContent === arguments[0]).length;", text)
            assert shown == 1, f"offline message shown {shown} times"
            shot(s, "08-delivered")
        step("stop the server, send offline, restart: delivered exactly once", offline_exactly_once)

        def memory_idle():
            measure_memory("signed in, study chat open (debug build)")
        step("memory: signed in with a study open (PSS)", memory_idle)

        def memory_with_history():
            for i in range(200):
                api("POST", f"/api/studies/{study_id}/chat", {"content": f"history {i} {RUN}", "clientId": f"h-{RUN}-{i}"}, token=bob_token)
            s.wait("return [...document.querySelectorAll('#messages .msg .content')].some(c => c.textContent === arguments[0]);", f"history 199 {RUN}", timeout=60, what="200 live messages")
            time.sleep(2)
            measure_memory("after 200 more live messages (debug build)")
        step("memory: the app's processes (PSS)", memory_with_history)

        def korean_and_dark():
            s.js("const l = document.querySelector('#lang'); l.value = 'ko'; l.dispatchEvent(new Event('change'));")
            s.js("const t = document.querySelector('#theme'); t.value = 'dark'; t.dispatchEvent(new Event('change'));")
            s.wait("return document.querySelector('#send')?.textContent === '보내기';", what="Korean texts")
            shot(s, "09-chat-ko-dark")
            s.js("const t = document.querySelector('#theme'); t.value = 'system'; t.dispatchEvent(new Event('change'));")
            s.js("const l = document.querySelector('#lang'); l.value = 'en'; l.dispatchEvent(new Event('change'));")
        step("Korean texts and the dark theme", korean_and_dark)
    finally:
        s.quit()

    def offline_start_from_cache():
        server_control("stop")
        time.sleep(1)
        started = time.time()
        again = Session(DRIVER, APP)
        CURRENT["session"] = again
        try:
            again.wait(f"return document.querySelector(\"[data-study='{study_id}']\") !== null;", timeout=30, what="cached dashboard")
            elapsed = time.time() - started
            line = f"launch to cached dashboard (server down, WebDriver session start included): {elapsed:.2f} s"
            print(line, flush=True)
            with open(os.path.join(OUT, "measurements.txt"), "a") as f:
                f.write(line + "\n")
            again.wait("return document.querySelector('#banner .banner') !== null;", timeout=30, what="offline banner")
            shot(again, "10-offline-start")
        finally:
            again.quit()
            server_control("start")
    step("restart the app with the server down: the cached dashboard, offline", offline_start_from_cache)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # noqa: BLE001
        print(f"{passed} passed, {failed + (0 if failed else 1)} failed ({e})")
        sys.exit(1)
