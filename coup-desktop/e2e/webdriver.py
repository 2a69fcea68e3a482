"""A minimal W3C WebDriver client over HTTP (standard library only): enough to
drive the CoUp desktop app through tauri-driver + WebKitWebDriver."""

import base64
import http.client
import json
import time
import urllib.error
import urllib.request

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


class WebDriverError(Exception):
    pass


def _request(method, url, body=None, timeout=60):
    """One WebDriver request. tauri-driver now and then forwards a request on a
    pooled connection WebKitWebDriver has closed, and answers by dropping ours
    (the request never reached the browser; the session lives on): that is
    retried, twice at most."""
    for attempt in range(3):
        try:
            return _request_once(method, url, body, timeout)
        except (ConnectionResetError, http.client.RemoteDisconnected):
            if attempt == 2:
                raise
            time.sleep(0.3)


def _request_once(method, url, body, timeout):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        payload = e.read().decode(errors="replace")
        raise WebDriverError(f"{method} {url}: {e.code} {payload[:500]}") from None


def wait_ready(base, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if _request("GET", f"{base}/status", timeout=2).get("value", {}).get("ready"):
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise WebDriverError("WebDriver never became ready")


class Session:
    def __init__(self, base, application):
        self.base = base
        caps = {"capabilities": {"alwaysMatch": {"tauri:options": {"application": application}}}}
        value = _request("POST", f"{base}/session", caps, timeout=120)["value"]
        self.id = value["sessionId"]
        self.url = f"{base}/session/{self.id}"

    def _cmd(self, method, path, body=None):
        return _request(method, f"{self.url}{path}", body)["value"]

    def quit(self):
        try:
            _request("DELETE", self.url, timeout=20)
        except Exception:
            pass

    def js(self, script, *args):
        return self._cmd("POST", "/execute/sync", {"script": script, "args": list(args)})

    def find(self, css):
        return self._cmd("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def wait(self, predicate_js, *args, timeout=20, what=None):
        """Polls a JS expression (a function body returning a value) until truthy."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            try:
                last = self.js(predicate_js, *args)
                if last:
                    return last
            except WebDriverError as e:
                last = e
            time.sleep(0.2)
        raise WebDriverError(f"timed out waiting for {what or predicate_js} (last: {last})")

    def wait_css(self, css, timeout=20):
        self.wait("return !!document.querySelector(arguments[0]);", css, timeout=timeout, what=css)
        return self.find(css)

    def click(self, css, timeout=20):
        # Screens re-render when fresh data replaces what the cache painted, so
        # the element found can be gone by the click: find it again and retry.
        deadline = time.time() + timeout
        while True:
            el = self.wait_css(css, timeout)
            try:
                self._cmd("POST", f"/element/{el}/click", {})
                return
            except WebDriverError as e:
                if "stale element reference" not in str(e) or time.time() > deadline:
                    raise
                time.sleep(0.1)

    def type(self, css, text, clear=True, timeout=20):
        deadline = time.time() + timeout
        while True:
            el = self.wait_css(css, timeout)
            try:
                if clear:
                    self._cmd("POST", f"/element/{el}/clear", {})
                self._cmd("POST", f"/element/{el}/value", {"text": text})
                return
            except WebDriverError as e:
                if "stale element reference" not in str(e) or time.time() > deadline:
                    raise
                time.sleep(0.1)

    def text(self, css):
        return self.js("const e = document.querySelector(arguments[0]); return e ? e.textContent : null;", css)

    def screenshot(self, path):
        png = base64.b64decode(self._cmd("GET", "/screenshot"))
        with open(path, "wb") as f:
            f.write(png)
