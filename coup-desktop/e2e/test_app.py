"""End to end: the real coup-server, the real desktop app under Xvfb through
tauri-driver, and a second client on the server's REST API.

  sign up in the app; a second user's study is found and joined in the app;
  a message sent in the app reaches the second user; one sent by the second
  user appears in the app, with their typing indicator (over the WebSocket)
  and read receipt; a file is uploaded and downloaded; the server stops, the
  app says it is offline, two messages and a task toggle made offline are
  delivered exactly once when it is back; a study created in the app gets a
  join request that is approved in the app, its settings edited, found by tag,
  and deleted there; a message reported from the chat; the app starts from its
  cache with the server down; the app is in a call with examples/call_peer (the
  peer's video decoded in a canvas, the camera toggle seen at the peer); an
  admin suspends the user whose app is open and the app
  signs out saying why; the admin screens. Screenshots go to $OUT.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from procs import memory_line
from webdriver import Session, wait_ready
from ws import Live

SERVER = os.environ["COUP_E2E_SERVER"]
APP = os.environ["COUP_E2E_APP"]
DRIVER = os.environ.get("COUP_E2E_DRIVER", "http://127.0.0.1:4444")
OUT = os.environ["COUP_E2E_OUT"]
CONTROL = os.environ["COUP_E2E_CONTROL"]  # a FIFO-less control: files run.sh watches
WORK = os.environ["COUP_E2E_WORK"]
ADMIN_EMAIL = os.environ["COUP_E2E_ADMIN_EMAIL"]
ADMIN_PASSWORD = os.environ["COUP_E2E_ADMIN_PASSWORD"]
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


CALL_PEER = os.environ["COUP_E2E_CALL_PEER_BIN"]

# The canvas's size and, over a grid of its pixels, the spread of the
# brightness (a blank canvas has none) and its sum (changes frame to frame).
CANVAS_PIXELS = """
const c = document.querySelector(arguments[0]);
const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
let min = 255, max = 0, sum = 0;
for (let y = 0; y < c.height; y += 4) for (let x = 0; x < c.width; x += 4) {
  const i = (y * c.width + x) * 4, v = (d[i] + d[i + 1] + d[i + 2]) / 3;
  min = Math.min(min, v); max = Math.max(max, v); sum += v;
}
return {size: [c.width, c.height], spread: max - min, sum: Math.round(sum),
        frames: Number(c.dataset.frames), lost: Number(c.dataset.lost)};
"""


class CallPeer:
    """examples/call_peer in a study's call (as in the browser suite: the test
    pattern at 320x240 and a tone, media on loopback), its JSON reports read
    as they come."""

    def __init__(self, args):
        self.reports = []
        self.joined = threading.Event()
        self.child = subprocess.Popen(
            [CALL_PEER, "--server", SERVER, "--password", PASSWORD, "--loopback", "--width", "320", "--height", "240",
             "--fps", "15", "--kbps", "400", "--seconds", "120", "--every", "1",
             "--cache", os.path.join(WORK, "peer-cache.db"), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "RUST_LOG": "warn"})
        threading.Thread(target=self._read_reports, daemon=True).start()
        threading.Thread(target=self._read_log, daemon=True).start()
        if not self.joined.wait(30):
            self.stop()
            raise AssertionError("call_peer did not join in 30 s")

    def _read_reports(self):
        for line in self.child.stdout:
            self.reports.append(json.loads(line))

    def _read_log(self):
        for line in self.child.stderr:
            if "joined the call" in line:
                self.joined.set()
            elif os.environ.get("COUP_E2E_PEER_LOGS"):
                print("call_peer:", line.rstrip(), flush=True)

    def track(self, user_id, track):
        tracks = self.reports[-1]["tracks"] if self.reports else []
        return next((t for t in tracks if t["userId"] == user_id and t["track"] == track), None)

    def wait(self, predicate, what, timeout=30):
        deadline = time.time() + timeout
        while not predicate():
            if time.time() > deadline:
                raise AssertionError(f"{what}: call_peer's last report {self.reports[-1] if self.reports else None}")
            time.sleep(0.5)

    def stop(self):
        if self.child.poll() is None:
            self.child.send_signal(signal.SIGINT)
            try:
                self.child.wait(15)
            except subprocess.TimeoutExpired:
                self.child.kill()


def measure_memory(label):
    total, line = memory_line(label)
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

    owned = {}  # the study Alice creates (approve_join_request) and its member's token
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

        def typing_and_read_receipt():
            live = Live(SERVER, bob_token)
            try:
                live.follow(study_id)
                time.sleep(0.5)
                live.typing(study_id, True)
                s.wait("return document.querySelector('#typing')?.textContent.includes('Bob Lee');", what="Bob's typing indicator")
                shot(s, "05b-typing")
                text = f"did you read chapter 2? {RUN}"
                s.type("#message-input", text)
                s.click("#send")
                deadline = time.time() + 20
                while True:
                    items = api("GET", f"/api/studies/{study_id}/chat", token=bob_token)["items"]
                    mine = next((m for m in items if m["content"] == text), None)
                    if mine:
                        break
                    assert time.time() < deadline, "the app's message never reached the server"
                    time.sleep(0.3)
                api("POST", f"/api/studies/{study_id}/chat/{mine['id']}/read", token=bob_token)
                try:
                    s.wait("return [...document.querySelectorAll('#messages .msg.mine')].some(m => m.querySelector('.content')?.textContent === arguments[0] && m.querySelector('.read-by')?.textContent === 'Read by 1');",
                           text, what="read by 1 on Alice's message")
                except Exception:
                    print("own messages:", s.js("return [...document.querySelectorAll('#messages .msg.mine')].map(m => m.outerHTML).join('\\n');"))
                    raise
            finally:
                live.close()
        step("the second user's typing indicator and read receipt show in the app", typing_and_read_receipt)

        def upload_and_download():
            path = os.path.join(WORK, f"notes-{RUN}.bin")
            payload = os.urandom(3 * 1024 * 1024 + 17)
            with open(path, "wb") as f:
                f.write(payload)
            s.click("#tab-files")
            s.wait_css("#file-input")
            # Every text the progress line shows (each update adds a text node).
            s.js("""window.coupProgress = [];
                    new MutationObserver((records) => { for (const r of records) for (const n of r.addedNodes) window.coupProgress.push(n.textContent); })
                      .observe(document.querySelector('#file-progress-text'), { childList: true });""")
            s.type("#file-input", path, clear=False)
            s.wait("return [...document.querySelectorAll('#files [data-file] strong')].some(e => e.textContent === arguments[0]);", os.path.basename(path), timeout=60, what="uploaded file listed")
            shown = s.js("return window.coupProgress;")
            assert len(set(shown)) >= 3, f"the progress bar moved through {shown}"
            sent, total = shown[-1].split(" / ")
            assert sent == total == "3.0 MB", shown[-1]
            assert s.js("return document.querySelector('#file-progress').parentElement.hidden;"), "the progress bar goes away when done"
            listed = api("GET", f"/api/studies/{study_id}/files", token=bob_token)["items"]
            meta = next(f for f in listed if f["name"] == os.path.basename(path))
            assert meta["size"] == len(payload), f"server has {meta['size']} bytes"
            shot(s, "06a-files")
            s.js("document.querySelector(`[data-file='${arguments[0]}'] button[data-action=download]`).click();", meta["id"])
            s.wait("return document.querySelector('#status')?.textContent.includes('Saved to');", timeout=60, what="download saved")
            saved = os.path.join(WORK, "downloads", os.path.basename(path))
            with open(saved, "rb") as f:
                assert f.read() == payload, "the downloaded file differs"
            s.click("#tab-chat")
            s.wait_css("#message-input")
        step("upload a file (3 MB) and download it again, byte for byte", upload_and_download)

        def members():
            s.click("#tab-members")
            s.wait_css("#members li")
            s.wait("return document.querySelectorAll('#members li').length === 2;", what="two members")
            shot(s, "06-members")
            s.click("#tab-chat")
            s.wait_css("#message-input")
        step("members with presence", members)

        def offline_exactly_once():
            task_title = f"read chapter 3 {RUN}"
            s.click("#tab-tasks")
            s.type("#task-title", task_title)
            s.click("#add-task")
            s.wait("return [...document.querySelectorAll('#tasks li label')].some(l => l.textContent === arguments[0]);", task_title, what="task added")
            alice_token = api("POST", "/api/auth/login", {"email": f"alice{RUN}@example.com", "password": PASSWORD})["token"]
            deadline = time.time() + 20
            while not any(t["title"] == task_title for t in api("GET", "/api/tasks", token=alice_token)["items"]):
                assert time.time() < deadline, "the task never reached the server"
                time.sleep(0.3)
            s.click("#tab-chat")
            s.wait_css("#message-input")
            server_control("stop")
            s.wait("return document.querySelector('#banner .banner.offline') !== null;", timeout=30, what="offline banner")
            texts = [f"written offline {RUN}", f"and a second one {RUN}"]
            for text in texts:
                s.type("#message-input", text)
                s.click("#send")
            s.wait("return document.querySelectorAll('#messages .msg.pending').length === 2;", what="two pending bubbles")
            shot(s, "07-offline-pending")
            s.click("#tab-tasks")
            s.wait("return [...document.querySelectorAll('#tasks li label')].some(l => l.textContent === arguments[0]);", task_title, what="task listed offline")
            s.js("const li = [...document.querySelectorAll('#tasks li')].find(l => l.querySelector('label')?.textContent === arguments[0]); li.querySelector('input[type=checkbox]').click();", task_title)
            s.wait("return [...document.querySelectorAll('#tasks li.done label')].some(l => l.textContent === arguments[0]);", task_title, what="task done offline")
            shot(s, "07b-offline-task")
            s.click("#tab-chat")
            s.wait_css("#message-input")
            server_control("start")
            s.js("document.querySelector('#banner button')?.click();")  # "Reconnect now"
            s.wait("return document.querySelector('#banner .banner') === null;", timeout=60, what="back online")
            for text in texts:
                s.wait("return document.querySelector('#messages .msg.pending') === null && [...document.querySelectorAll('#messages .msg .content')].filter(c => c.textContent === arguments[0]).length === 1;", text, timeout=30, what="offline message delivered in the app")
            time.sleep(2)  # any duplicate would have arrived by now
            items = api("GET", f"/api/studies/{study_id}/chat?limit=100", token=bob_token)["items"]
            stored = [m["content"] for m in items if m["content"] in texts]
            assert stored == texts, f"offline messages stored as {stored} (each once, in order expected)"
            for text in texts:
                shown = s.js("return [...document.querySelectorAll('#messages .msg .content')].filter(c => c.textContent === arguments[0]).length;", text)
                assert shown == 1, f"offline message shown {shown} times"
            tasks = [t for t in api("GET", "/api/tasks", token=alice_token)["items"] if t["title"] == task_title]
            assert len(tasks) == 1 and tasks[0]["isDone"], f"task after reconnecting: {tasks}"
            shot(s, "08-delivered")
        step("stop the server, send two messages and toggle a task offline, restart: each delivered exactly once", offline_exactly_once)

        def approve_join_request():
            s.click("#nav-find")
            s.wait_css("#find")
            name = f"Private Algorithms {RUN}"
            s.js("""const f = document.querySelector('form[aria-labelledby=create-title]');
                    const set = (i, v) => { f.querySelectorAll('input, textarea')[i].value = v; };
                    set(0, arguments[0]); set(1, 'Graphs and dynamic programming, every Thursday.'); set(2, 'Algorithms');
                    document.querySelector('#new-approval').checked = true;""", name)
            s.js("document.querySelector('form[aria-labelledby=create-title]').requestSubmit();")
            s.wait_css("#message-input", timeout=30)
            s.wait("return document.querySelector('#study h1')?.textContent === arguments[0];", name, what="new study open")
            found = api("GET", f"/api/studies?keyword={urllib.parse.quote(name)}", token=bob_token)["items"]
            sid = found[0]["id"]
            carol = api("POST", "/api/auth/signup", {"email": f"carol{RUN}@example.com", "password": PASSWORD, "name": "Carol Park"})
            api("POST", f"/api/studies/{sid}/join", {"message": "I solved 300 problems on Baekjoon"}, token=carol["token"])
            s.click("#tab-members")
            s.wait_css(f"[data-request='{carol['user']['id']}']", timeout=30)
            shot(s, "06b-join-request")
            s.js("document.querySelector(`[data-request='${arguments[0]}'] button.primary`).click();", carol["user"]["id"])
            s.wait(f"return document.querySelector(\"#members [data-user='{carol['user']['id']}']\") !== null;", timeout=30, what="Carol among the members")
            members = api("GET", f"/api/studies/{sid}/members", token=carol["token"])["items"]
            assert any(m["userId"] == carol["user"]["id"] and m["status"] == "ACTIVE" for m in members), members
            shot(s, "06c-members-owner")
            owned.update(study_id=sid, member_token=carol["token"])
        step("create a study that needs approval in the app; approve a join request there", approve_join_request)

        def notices_and_calendar():
            s.click("#tab-notices")
            s.type("#notice-title", "First meeting")
            s.type("#notice-content", "Thursday 19:00 in room 302. Bring your laptop.")
            s.js("document.querySelector('#notice-pin').checked = true; document.querySelector('#notice-title').form.requestSubmit();")
            s.wait("return [...document.querySelectorAll('#notices h2')].some(h => h.textContent.includes('First meeting'));", timeout=30, what="notice posted")
            shot(s, "11-notices")
            s.click("#tab-calendar")
            s.wait_css("#calendar table.month", timeout=30)
            s.click("#new-event")
            s.type("#event-title", "Graph algorithms session")
            s.type("#event-location", "Room 302")
            s.click("#event-save")
            s.wait("return [...document.querySelectorAll('#calendar .chip')].some(c => c.textContent.includes('Graph algorithms'));", timeout=30, what="event in the month view")
            shot(s, "12-calendar")
        step("post a pinned notice and add a calendar event as the owner", notices_and_calendar)

        def settings_report_and_delete():
            sid, carol_token = owned["study_id"], owned["member_token"]
            # The owner renames the study and changes its tags in the app.
            s.click("#tab-about")
            renamed = f"Graph Algorithms {RUN}"
            s.type("#study-name", renamed)
            s.type("#study-tags", f"graphs, dp{RUN}, graphs")
            s.click("#save-study")
            s.wait("return document.querySelector('#study h1')?.textContent === arguments[0];", renamed, timeout=30, what="the renamed study's title")
            seen = api("GET", f"/api/studies/{sid}", token=carol_token)
            assert (seen["name"], sorted(seen["tags"])) == (renamed, [f"dp{RUN}", "graphs"]), seen
            shot(s, "12b-study-settings")
            # Found by its new tag, and only it.
            s.click("#nav-find")
            s.type("#search-tag", f"#dp{RUN}")
            s.js("document.querySelector('form[role=search]').requestSubmit();")
            s.wait("const h = [...document.querySelectorAll('#results h2')]; return h.length === 1 && h[0].textContent === arguments[0];", renamed, what="the one study with that tag")
            # A message of Bob's is reported from the chat; the admins get it.
            s.click("#nav-dashboard")
            s.click(f"[data-study='{study_id}']")
            s.wait_css("#messages li.msg:not(.mine) button[data-action=report]", timeout=30)
            s.js("[...document.querySelectorAll('#messages li.msg:not(.mine) button[data-action=report]')].pop().click();")
            s.js("document.querySelector('#chat-report form').requestSubmit();")
            assert s.js("return document.querySelector('#chat-report form') !== null;"), "an empty reason is not sent"
            s.type("#chat-report textarea", "Links to a paid answer sheet")
            s.js("document.querySelector('#chat-report form').requestSubmit();")
            s.wait("return document.querySelector('#chat-report form') === null;", timeout=30, what="report sent")
            admin = api("POST", "/api/auth/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})["token"]
            reports = api("GET", "/api/admin/reports?targetType=MESSAGE&limit=100", token=admin)["items"]
            assert any(r["reason"] == "Links to a paid answer sheet" for r in reports), reports
            # The owner deletes the renamed study: it is gone for its member too.
            s.click("#nav-dashboard")
            s.click(f"[data-study='{sid}']")
            s.click("#tab-about")
            s.click("#delete-study")
            s.click("#study [data-confirm=yes]")
            s.wait_css("#dashboard", timeout=30)
            s.wait("return document.querySelector(arguments[0]) === null;", f"[data-study='{sid}']", timeout=30, what="the deleted study off the dashboard")
            try:
                api("GET", f"/api/studies/{sid}", token=carol_token)
                raise AssertionError("the deleted study still answers")
            except urllib.error.HTTPError as e:
                assert e.code == 404, e.code
        step("the owner edits the study's settings, finds it by tag, reports a message, and deletes the study", settings_report_and_delete)

        def call_with_a_peer():
            bob_id = bob["user"]["id"]
            alice_id = api("POST", "/api/auth/login", {"email": alice_email, "password": PASSWORD})["user"]["id"]
            peer = CallPeer(["--email", f"bob{RUN}@example.com", "--study", study_id])
            try:
                s.click("#nav-dashboard")
                s.click(f"[data-study='{study_id}']")
                s.click("#tab-call")
                s.click("#call-join")
                s.wait_css("#call-leave", timeout=30)
                # Bob's pattern, decoded by WebCodecs into his camera's canvas.
                canvas = f"#call-videos canvas[data-participant='{bob_id}'][data-track='camera']"
                s.wait("return Number(document.querySelector(arguments[0])?.dataset.frames ?? 0) >= 10;", canvas, timeout=40, what="decoded frames in Bob's canvas")
                first = s.js(CANVAS_PIXELS, canvas)
                assert first["size"] == [320, 240], f"canvas size {first['size']}"
                # The pattern moves. Should a frame be lost meanwhile, the picture
                # waits for a keyframe (asked for, and periodic every 2 s).
                deadline = time.monotonic() + 8
                while True:
                    time.sleep(0.5)
                    second = s.js(CANVAS_PIXELS, canvas)
                    if second["sum"] != first["sum"] or time.monotonic() > deadline:
                        break
                assert first["spread"] > 60 and second["spread"] > 60, f"a blank canvas: {first}, {second}"
                assert first["sum"] != second["sum"], f"the canvas does not change over time: {first}, then {second}"
                # The audio output says what it is (no sound card here).
                assert s.js("return document.querySelector('#call-audio') !== null;")
                shot(s, "16-call")
                # What Bob receives from the app: its camera (the test pattern).
                alice = lambda: peer.track(alice_id, "camera")  # noqa: E731
                peer.wait(lambda: alice() and alice()["frames"] >= 30, "Bob receives the app's camera")
                s.click("#call-camera")
                s.wait("return document.querySelector('#call-camera')?.getAttribute('aria-pressed') === 'false';", what="camera toggled off")
                peer.wait(lambda: alice() and alice()["ended"] >= 1, "the app's camera ended at Bob")
                stopped = alice()["frames"]
                time.sleep(2)
                assert alice()["frames"] <= stopped + 2, f"frames still arrive with the camera off: {alice()}"
                s.click("#call-camera")
                s.wait("return document.querySelector('#call-camera')?.getAttribute('aria-pressed') === 'true';", what="camera toggled on")
                peer.wait(lambda: alice()["started"] >= 2 and alice()["frames"] >= stopped + 30, "the app's camera back at Bob")
                s.click("#call-leave")
                s.wait_css("#call-join", timeout=30)
                s.wait("return document.querySelector('#call-videos canvas') === null;", what="canvases removed on leaving")
            finally:
                peer.stop()
            s.click("#tab-chat")
            s.wait_css("#message-input")
        step("a call with a headless peer: its video decoded in the app's canvas; the camera toggle ends and restarts what it receives", call_with_a_peer)

        def memory_idle():
            s.click("#nav-dashboard")
            s.click(f"[data-study='{study_id}']")
            s.wait_css("#message-input")
            time.sleep(2)
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

    def suspended_while_open():
        third = Session(DRIVER, APP)
        CURRENT["session"] = third
        try:
            third.wait(f"return document.querySelector(\"[data-study='{study_id}']\") !== null;", timeout=30, what="dashboard")
            third.wait("return document.querySelector('#banner .banner') === null;", timeout=60, what="online")
            admin = api("POST", "/api/auth/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})["token"]
            alice = api("GET", f"/api/admin/users?keyword=alice{RUN}", token=admin)["items"][0]
            api("POST", f"/api/admin/users/{alice['id']}/suspend", {"reason": "spam in three studies"}, token=admin)
            third.wait("return document.querySelector('#submit') !== null && document.querySelector('[role=alert]')?.textContent.includes('You were signed out: This account is suspended.');", timeout=30, what="signed out with a message")
            shot(third, "13-suspended")
            # The admin's screens, in the same app.
            third.type("input[name=email]", ADMIN_EMAIL)
            third.type("input[name=password]", ADMIN_PASSWORD)
            third.click("#submit")
            third.click("#nav-admin", timeout=30)
            third.wait("return document.querySelectorAll('#admin-stats dd').length === 7;", what="admin stats")
            shot(third, "14-admin-stats")
            third.click("#admin-tab-users")
            third.type("#admin-user-search", f"alice{RUN}")
            third.js("document.querySelector('#admin-user-search').form.requestSubmit();")
            third.wait(f"return document.querySelector(\"[data-user='{alice['id']}']\")?.textContent.includes('spam in three studies');", what="Alice suspended, with the reason")
            shot(third, "15-admin-users")
            third.js(f"document.querySelector(\"[data-user='{alice['id']}'] button\").click();")
            third.wait(f"return document.querySelector(\"[data-user='{alice['id']}']\")?.textContent.includes('Active');", what="Alice restored")
            assert api("GET", f"/api/admin/users?keyword=alice{RUN}", token=admin)["items"][0]["status"] == "ACTIVE"
            third.click("#admin-tab-audit")
            third.wait("return document.querySelectorAll('#audit-log tbody tr').length >= 2;", what="audit log entries")
            shot(third, "16-admin-audit")
        finally:
            third.quit()
    step("an admin suspends the user whose app is open: it signs out saying why; admin screens restore her", suspended_while_open)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # noqa: BLE001
        print(f"{passed} passed, {failed + (0 if failed else 1)} failed ({e})")
        sys.exit(1)
