"""coup_ffi from Python, against a real coup-server: the way an app uses it."""

import asyncio
import gc

import pytest

import coup_ffi
from conftest import (
    PASSWORD,
    eventually,
    listen,
    new_user,
    options,
    received,
    study_with,
)

AppEvent = coup_ffi.AppEvent


async def test_sign_in_and_list_studies(demo_server, cache_dir):
    kim = await coup_ffi.login(options(demo_server, cache_dir), "kim@example.com", PASSWORD)
    assert kim.user().email == "kim@example.com"
    assert kim.user().created_at.endswith("Z"), "times are RFC 3339 UTC"

    # The cache fills as the client connects; refresh waits for it.
    await kim.refresh()
    mine = await kim.studies()
    assert len(mine) >= 6, [s.name for s in mine]
    assert all(s.my_status == coup_ffi.MemberStatus.ACTIVE for s in mine)
    assert all(isinstance(s.id, str) and len(s.id) == 36 for s in mine), "ids are UUID strings"

    # REST search, with and without a keyword.
    everything = await kim.search_studies(coup_ffi.StudyQuery(limit=5))
    assert everything.total >= 8 and len(everything.items) == 5
    rust = await kim.search_studies(coup_ffi.StudyQuery(keyword="rust", sort=coup_ffi.StudySort.NAME))
    assert all("rust" in (s.name + s.description + " ".join(s.tags)).lower() for s in rust.items)

    # Cached reads of a study.
    first = mine[0]
    members = await kim.members(first.id)
    assert any(m.user_id == kim.user().id for m in members)
    await kim.notices(first.id)
    await kim.calendar(first.id)
    assert (await kim.me()).id == kim.user().id
    await kim.server_ready()


async def test_two_clients_exchange_messages_live(server, cache_dir):
    alice = await new_user(server, cache_dir, "alice")
    bob = await new_user(server, cache_dir, "bob")
    study = await study_with(alice, bob)
    alice_events, alice_handle = listen(alice)
    bob_events, bob_handle = listen(bob)

    item = await alice.send_message(study.id, "hello bob 👋")
    assert isinstance(item.state, coup_ffi.OutboxState.PENDING)
    got = await bob_events.wait_for(received("hello bob 👋"))
    assert got.message.author_id == alice.user().id
    assert got.message.client_id == item.client_id, "the outbox item's id is the message's client id"
    await alice_events.wait_for(lambda e: isinstance(e, AppEvent.OUTBOX_SENT) and e.item.id == item.id)

    await bob.send_message(study.id, "hi alice")
    reply = await alice_events.wait_for(received("hi alice"))
    assert reply.message.seq > got.message.seq

    # Typing and read receipts travel live too.
    bob.set_typing(study.id, True)
    typing = await alice_events.wait_for(lambda e: isinstance(e, AppEvent.TYPING))
    assert typing.user_id == bob.user().id and typing.typing
    await alice.mark_read(study.id, reply.message.id)
    receipt = await bob_events.wait_for(
        lambda e: isinstance(e, AppEvent.READ_RECEIPT) and e.user_id == alice.user().id
    )
    assert receipt.last_read_seq == reply.message.seq

    # Both caches hold both messages, in order.
    cached = [m.content for m in await bob.messages(study.id, 50)]
    assert cached[-2:] == ["hello bob 👋", "hi alice"]
    alice_handle.cancel()
    bob_handle.cancel()


async def test_message_sent_while_server_is_down_arrives_exactly_once(server, cache_dir):
    alice = await new_user(server, cache_dir, "alice")
    bob = await new_user(server, cache_dir, "bob")
    study = await study_with(alice, bob)
    bob_events, _bob_handle = listen(bob)
    alice_events, _alice_handle = listen(alice)
    await alice.send_message(study.id, "before")
    await bob_events.wait_for(received("before"))

    server.stop()
    await alice_events.wait_for(lambda e: isinstance(e, AppEvent.CONNECTION)
                                and isinstance(e.state, coup_ffi.ConnectionState.OFFLINE))
    item = await alice.send_message(study.id, "while you were away")
    await asyncio.sleep(1.0)  # retries fail meanwhile
    waiting = await alice.outbox()
    assert [i.id for i in waiting] == [item.id]
    assert isinstance(waiting[0].state, coup_ffi.OutboxState.PENDING)

    server.start()
    await bob_events.wait_for(received("while you were away"), timeout=30)
    await eventually(lambda: _empty(alice.outbox()), timeout=30)
    await asyncio.sleep(1.5)  # anything doubled would have arrived by now
    copies = [e for e in bob_events.events if received("while you were away")(e)]
    assert len(copies) == 1, copies
    history = await bob.history(study.id, None, 50)
    assert [m.content for m in history.items].count("while you were away") == 1


async def _empty(pending):
    return len(await pending) == 0


async def test_offline_restore_reads_the_cache(server, cache_dir):
    store = MemoryStore()
    alice = await new_user(server, cache_dir, "alice", session_store=store)
    study = await study_with(alice, name="offline study")
    events, handle = listen(alice)
    await alice.send_message(study.id, "kept for later")
    await events.wait_for(lambda e: isinstance(e, AppEvent.OUTBOX_SENT))
    me = alice.user()
    assert list(store.tokens) == [(server.url, me.id)], "the token went to the app's store"
    handle.cancel()
    del alice, handle, events
    gc.collect()

    server.stop()
    accounts = await coup_ffi.saved_accounts(options(server, cache_dir, "alice", session_store=store))
    assert [a.id for a in accounts] == [me.id]
    restored = await coup_ffi.restore(options(server, cache_dir, "alice", session_store=store))
    assert restored is not None and restored.user().id == me.id
    assert not isinstance(restored.connection_state(), coup_ffi.ConnectionState.ONLINE)
    assert [s.name for s in await restored.studies()] == ["offline study"]
    assert "kept for later" in [m.content for m in await restored.messages(study.id, 10)]
    again = await coup_ffi.restore_account(
        options(server, cache_dir, "alice", session_store=store), me.id
    )
    assert again is not None

    # Nothing saved for another cache: no client.
    assert await coup_ffi.restore(options(server, cache_dir, "nobody")) is None


async def test_errors_arrive_as_typed_exceptions(demo_server, server, cache_dir):
    with pytest.raises(coup_ffi.CoupError.Unauthorized) as wrong:
        await coup_ffi.login(options(demo_server, cache_dir), "kim@example.com", "not-the-password-1")
    assert wrong.value.code == "UNAUTHORIZED"
    assert wrong.value.reason == "WRONG_CREDENTIALS"
    assert wrong.value.http_status == 401
    assert wrong.value.error_message, "words for people"

    with pytest.raises(coup_ffi.CoupError.Conflict) as taken:
        await coup_ffi.signup(options(demo_server, cache_dir), "kim@example.com", PASSWORD, "kim")
    assert (taken.value.code, taken.value.reason, taken.value.http_status) == ("CONFLICT", "EMAIL_TAKEN", 409)

    with pytest.raises(coup_ffi.CoupError.Validation) as weak:
        await coup_ffi.signup(options(demo_server, cache_dir), "weak@example.com", "password1", "weak")
    assert weak.value.reason == "WEAK_PASSWORD" and weak.value.field == "password"

    kim = await coup_ffi.login(options(demo_server, cache_dir, "kim"), "kim@example.com", PASSWORD)
    with pytest.raises(coup_ffi.CoupError.Validation) as bad_id:
        await kim.study("not-an-id")
    assert bad_id.value.http_status == 0 and bad_id.value.field == "studyId"
    with pytest.raises(coup_ffi.CoupError.NotFound) as missing:
        await kim.study("00000000-0000-4000-8000-000000000000")
    assert missing.value.http_status == 404
    # Every variant is a CoupError.
    with pytest.raises(coup_ffi.CoupError):
        await kim.join_study("00000000-0000-4000-8000-000000000000", None, None)

    # An unreachable server is UNAVAILABLE, with no HTTP status.
    server.stop()
    with pytest.raises(coup_ffi.CoupError.Unavailable) as down:
        await coup_ffi.login(options(server, cache_dir, "down"), "kim@example.com", PASSWORD)
    assert down.value.http_status == 0

    # A session store that throws: the sign-in fails with INTERNAL, not a crash.
    server.start()
    with pytest.raises(coup_ffi.CoupError.Internal):
        await new_user(server, cache_dir, "broken", session_store=BrokenStore())


async def test_cancelling_a_listener_stops_its_callbacks(server, cache_dir):
    alice = await new_user(server, cache_dir, "alice")
    bob = await new_user(server, cache_dir, "bob")
    study = await study_with(alice, bob)
    cancelled, cancelled_handle = listen(bob)
    kept, _kept_handle = listen(bob)

    await alice.send_message(study.id, "one")
    await cancelled.wait_for(received("one"))
    await kept.wait_for(received("one"))
    cancelled_handle.cancel()
    assert cancelled_handle.is_cancelled()
    seen = len(cancelled.events)

    for text in ("two", "three"):
        await alice.send_message(study.id, text)
    await kept.wait_for(received("three"))
    await asyncio.sleep(0.5)
    assert len(cancelled.events) == seen, cancelled.events[seen:]
    cancelled_handle.cancel()  # again is fine


async def test_call_signaling(server, cache_dir):
    alice = await new_user(server, cache_dir, "alice")
    bob = await new_user(server, cache_dir, "bob")
    study = await study_with(alice, bob)
    alice_events, _a = listen(alice)
    bob_events, _b = listen(bob)
    for client, events in ((alice, alice_events), (bob, bob_events)):
        if not isinstance(client.connection_state(), coup_ffi.ConnectionState.ONLINE):
            await events.wait_for(lambda e: isinstance(e, AppEvent.CONNECTION)
                                  and isinstance(e.state, coup_ffi.ConnectionState.ONLINE))

    call = await alice.join_call(study.id, coup_ffi.MediaState(mic=True))
    assert [p.user_id for p in call.participants] == [alice.user().id]
    joined = await bob.join_call(study.id, coup_ffi.MediaState(mic=True, camera=True))
    assert {p.user_id for p in joined.participants} == {alice.user().id, bob.user().id}
    seen = await alice_events.wait_for(lambda e: isinstance(e, AppEvent.CALL_PARTICIPANT_JOINED)
                                       and e.participant.user_id == bob.user().id)
    assert seen.participant.media.camera

    # The newcomer offers; the other answers; candidates trickle.
    await bob.send_signal(study.id, alice.user().id, coup_ffi.Signal.OFFER(sdp="v=0 offer"))
    offer = await alice_events.wait_for(lambda e: isinstance(e, AppEvent.CALL_SIGNAL))
    assert offer.from_user_id == bob.user().id
    assert isinstance(offer.signal, coup_ffi.Signal.OFFER) and offer.signal.sdp == "v=0 offer"
    await alice.send_signal(study.id, bob.user().id, coup_ffi.Signal.ANSWER(sdp="v=0 answer"))
    await bob_events.wait_for(lambda e: isinstance(e, AppEvent.CALL_SIGNAL)
                              and isinstance(e.signal, coup_ffi.Signal.ANSWER))
    await alice.send_signal(study.id, bob.user().id, coup_ffi.Signal.ICE_CANDIDATE(
        candidate="candidate:1 1 UDP 1 127.0.0.1 5000 typ host", sdp_mid="0", sdp_m_line_index=0))
    ice = await bob_events.wait_for(lambda e: isinstance(e, AppEvent.CALL_SIGNAL)
                                    and isinstance(e.signal, coup_ffi.Signal.ICE_CANDIDATE))
    assert ice.signal.sdp_m_line_index == 0

    await bob.set_media(study.id, coup_ffi.MediaState(mic=False, camera=True))
    media = await alice_events.wait_for(lambda e: isinstance(e, AppEvent.CALL_MEDIA)
                                        and e.user_id == bob.user().id)
    assert not media.media.mic
    await bob.leave_call(study.id)
    await alice_events.wait_for(lambda e: isinstance(e, AppEvent.CALL_PARTICIPANT_LEFT)
                                and e.user_id == bob.user().id)


async def test_tasks_and_notifications_through_the_outbox(server, cache_dir):
    alice = await new_user(server, cache_dir, "alice")
    events, _handle = listen(alice)
    created = await alice.create_task(coup_ffi.NewTask(
        title="read chapter 3", priority=coup_ffi.Priority.HIGH, due_at="2030-01-02T09:00:00+09:00"))
    pending = coup_ffi.TaskRef.PENDING(client_id=created.client_id)
    await alice.set_task_done(pending, True)
    await eventually(lambda: _empty(alice.outbox()))
    tasks = await alice.tasks()
    assert [(t.title, t.is_done, t.due_at) for t in tasks] == [
        ("read chapter 3", True, "2030-01-02T00:00:00.000Z")]
    await alice.delete_task(coup_ffi.TaskRef.ID(id=tasks[0].id))
    await eventually(lambda: _empty(alice.outbox()))
    assert await alice.tasks() == []
    assert isinstance(await alice.notifications(), list)
    assert await alice.mark_all_notifications_read() == 0


async def test_two_hundred_concurrent_calls(demo_server, cache_dir):
    kim = await coup_ffi.login(options(demo_server, cache_dir), "kim@example.com", PASSWORD)
    await kim.refresh()
    calls = []
    for i in range(200):
        if i % 4 == 0:
            calls.append(kim.studies())
        elif i % 4 == 1:
            calls.append(kim.search_studies(coup_ffi.StudyQuery(limit=3)))
        elif i % 4 == 2:
            calls.append(kim.me())
        else:
            calls.append(kim.notifications())
    results = await asyncio.wait_for(asyncio.gather(*calls), timeout=60)
    assert len(results) == 200
    assert all(len(r) >= 6 for r in results[0::4])
    assert all(r.id == kim.user().id for r in results[2::4])


class MemoryStore(coup_ffi.SessionStore):
    """A stand-in for Keystore/Keychain."""

    def __init__(self):
        self.tokens = {}

    def load(self, server, account):
        return self.tokens.get((server, account))

    def save(self, server, account, token):
        self.tokens[(server, account)] = token

    def delete(self, server, account):
        self.tokens.pop((server, account), None)


class BrokenStore(coup_ffi.SessionStore):
    def load(self, server, account):
        raise RuntimeError("keystore locked")

    def save(self, server, account, token):
        raise RuntimeError("keystore locked")

    def delete(self, server, account):
        raise RuntimeError("keystore locked")


async def test_a_listener_that_throws_keeps_receiving(server, cache_dir):
    alice = await new_user(server, cache_dir, "alice")
    bob = await new_user(server, cache_dir, "bob")
    study = await study_with(alice, bob)
    loop = asyncio.get_running_loop()
    seen = asyncio.Queue()

    class Throwing(coup_ffi.EventListener):
        def on_event(self, event):
            if isinstance(event, AppEvent.MESSAGE_RECEIVED):
                loop.call_soon_threadsafe(seen.put_nowait, event.message.content)
                raise RuntimeError("the app's bug")

    handle = bob.subscribe(Throwing())
    await alice.send_message(study.id, "first")
    await alice.send_message(study.id, "second")
    got = [await asyncio.wait_for(seen.get(), 15) for _ in range(2)]
    assert got == ["first", "second"]
    handle.cancel()


EXIT_SCRIPT = """
import asyncio, sys, uuid, coup_ffi

class Quiet(coup_ffi.EventListener):
    def on_event(self, event):
        pass

class Store(coup_ffi.SessionStore):
    def __init__(self): self.tokens = {}
    def load(self, server, account): return self.tokens.get((server, account))
    def save(self, server, account, token): self.tokens[(server, account)] = token
    def delete(self, server, account): self.tokens.pop((server, account), None)

async def main():
    options = coup_ffi.ClientOptions(server=sys.argv[1], cache_path=sys.argv[2], session_store=Store())
    email = f"exit-{uuid.uuid4().hex[:12]}@example.com"
    client = await coup_ffi.signup(options, email, "study-together-42", "exit")
    handle = client.subscribe(Quiet())
    await client.refresh()
    handle.cancel()
    # The README's rule for Python: settle before the interpreter exits (the
    # thread that woke the last await may still be returning from Python).
    await asyncio.sleep(0.1)

asyncio.run(main())
"""


async def test_a_python_process_exits_cleanly_right_after_using_a_client(demo_server, cache_dir):
    # Dropping a client and its listener just before the interpreter exits must not
    # call into Python from a Rust thread during shutdown (that aborts the process):
    # listener objects and session stores are released on the app's thread, and
    # cancel() waits for a callback in progress.
    import subprocess
    import sys

    for run in range(4):
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", EXIT_SCRIPT, demo_server.url, f"{cache_dir}/exit-{run}.db"],
            capture_output=True,
            timeout=60,
        )
        assert done.returncode == 0, (done.returncode, done.stderr.decode()[-2000:])
