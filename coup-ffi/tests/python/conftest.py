"""Fixtures for the coup_ffi Python suite: a real coup-server on a free port with
a temporary data directory (restartable on the same address and data),
fresh accounts, and listeners that hand events from Rust threads to asyncio.

The server binary is $COUP_SERVER_BIN (coup-ffi/ci.sh sets it), or
$CARGO_TARGET_DIR/debug/coup-server.
"""

import asyncio
import itertools
import os
import pathlib
import subprocess
import tempfile
import time
import uuid

import random
import socket

import pytest

import coup_ffi

PASSWORD = "study-together-42"


def server_binary() -> str:
    explicit = os.environ.get("COUP_SERVER_BIN")
    if explicit:
        return explicit
    target = os.environ.get("CARGO_TARGET_DIR") or str(
        pathlib.Path(__file__).resolve().parents[3] / "target"
    )
    return str(pathlib.Path(target) / "debug" / "coup-server")


class Server:
    """One coup-server process; `stop()` and `start()` keep address and data."""

    def __init__(self, data_dir: str, demo: bool = False, restartable: bool = False):
        self.data_dir = data_dir
        self.demo = demo
        # A server that restarts on its address gets a port below the ephemeral
        # range: there, a client's outgoing connection can never hold the port
        # while the server is down (and keep it from listening again).
        self.bind = f"127.0.0.1:{free_low_port()}" if restartable else "127.0.0.1:0"
        self.url = None
        self.process = None
        self.log = open(os.path.join(data_dir, "server.log"), "ab")

    def start(self):
        args = [server_binary(), "--bind", self.bind, "--data-dir", self.data_dir]
        if self.demo:
            args.append("--demo")
        # The server refuses COUP_* variables it does not know (COUP_SERVER_BIN).
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith("COUP_")}
        env["RUST_LOG"] = "warn"
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, env=env)
        line = self.process.stdout.readline().decode().strip()
        if not line.startswith("listening on "):
            self.process.kill()
            raise RuntimeError(f"coup-server did not start: {line!r}")
        self.url = line.removeprefix("listening on ")
        # Restarts bind the same address, so clients reconnect to it.
        self.bind = self.url.removeprefix("http://")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def close(self):
        self.stop()
        self.log.close()


def free_low_port() -> int:
    for _ in range(100):
        port = random.randrange(20000, 32000)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port in 20000-32000")


@pytest.fixture(scope="session")
def demo_server():
    """One server with the demo data, shared by tests that only add to it."""
    with tempfile.TemporaryDirectory(prefix="coup-ffi-demo-") as data:
        server = Server(data, demo=True)
        server.start()
        yield server
        server.close()


@pytest.fixture
def server():
    """A server of this test's own (it may stop and restart it)."""
    with tempfile.TemporaryDirectory(prefix="coup-ffi-srv-") as data:
        server = Server(data, restartable=True)
        server.start()
        yield server
        server.close()


@pytest.fixture
def cache_dir():
    with tempfile.TemporaryDirectory(prefix="coup-ffi-cache-") as path:
        yield path


_names = itertools.count(1)


def options(server: Server, cache_dir: str, name: str = "cache", **extra) -> coup_ffi.ClientOptions:
    return coup_ffi.ClientOptions(
        server=server.url,
        cache_path=os.path.join(cache_dir, f"{name}.db"),
        max_reconnect_delay_ms=500,
        **extra,
    )


async def new_user(server: Server, cache_dir: str, name: str = None, **extra):
    """Signs up a fresh account; returns its client."""
    name = name or f"user{next(_names)}"
    email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
    return await coup_ffi.signup(options(server, cache_dir, name, **extra), email, PASSWORD, name)


class Collector(coup_ffi.EventListener):
    """A listener that queues every event for asyncio (callbacks arrive on Rust
    threads) and keeps them all for counting."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.queue: asyncio.Queue = asyncio.Queue()
        self.events = []

    def on_event(self, event):
        self.events.append(event)
        self.loop.call_soon_threadsafe(self.queue.put_nowait, event)

    async def wait_for(self, predicate, timeout: float = 15.0):
        """The first event from now on that satisfies `predicate`."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no such event within {timeout} s; saw {self.events[-5:]}")
            try:
                event = await asyncio.wait_for(self.queue.get(), left)
            except asyncio.TimeoutError:
                continue
            if predicate(event):
                return event


def listen(client) -> tuple:
    collector = Collector(asyncio.get_running_loop())
    return collector, client.subscribe(collector)


def received(content: str):
    """A predicate: a chat message with this content arrived."""

    def check(event):
        return isinstance(event, coup_ffi.AppEvent.MESSAGE_RECEIVED) and event.message.content == content

    return check


async def eventually(check, timeout: float = 15.0, every: float = 0.1):
    """Polls an async `check` until it returns a truthy value."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s (last: {value!r})")
        await asyncio.sleep(every)


async def study_with(owner, *members, name: str = "ffi study"):
    """A public AUTO study of `owner` joined by `members`; everyone's cache
    refreshed and following it."""
    study = await owner.create_study(
        coup_ffi.NewStudy(
            name=name,
            description="made by the coup_ffi tests",
            category="testing",
            tags=["ffi"],
            max_members=10,
            is_public=True,
            join_policy=coup_ffi.JoinPolicy.AUTO,
            is_recruiting=True,
        )
    )
    for member in members:
        joined = await member.join_study(study.id, None, None)
        assert joined.status == coup_ffi.MemberStatus.ACTIVE
    for client in (owner, *members):
        await client.refresh()
        await client.follow(study.id)
    return study
