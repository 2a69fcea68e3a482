// The coup-ffi Kotlin suite: the generated Kotlin bindings on the JVM (JNA)
// against a real coup-server — the core scenarios of the Python suite, and the
// round-trip time of a Kotlin call to the server and back. Run by run.sh.

import uniffi.coup_ffi.*
import kotlinx.coroutines.*
import java.io.File
import java.util.Collections
import java.util.UUID
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlin.system.exitProcess

val PASSWORD = "study-together-42"
val serverBin: String = System.getenv("COUP_SERVER_BIN") ?: error("set COUP_SERVER_BIN")

/** One coup-server process; stop() and start() keep its address and data. */
/** A port below the ephemeral range (32768+): while a restartable server is down,
 *  no client's outgoing connection can take its port and keep it from listening. */
fun freeLowPort(): Int {
    repeat(100) {
        val port = (20000 until 32000).random()
        try {
            java.net.ServerSocket(port, 1, java.net.InetAddress.getByName("127.0.0.1")).close()
            return port
        } catch (e: java.io.IOException) {
        }
    }
    error("no free port in 20000-32000")
}

class Server(private val demo: Boolean = false) {
    val dataDir: File = kotlin.io.path.createTempDirectory("coup-ffi-kt-").toFile()
    private var bind = if (demo) "127.0.0.1:0" else "127.0.0.1:${freeLowPort()}"
    lateinit var url: String
    private var process: Process? = null

    fun start(): Server {
        val args = mutableListOf(serverBin, "--bind", bind, "--data-dir", dataDir.path)
        if (demo) args += "--demo"
        val builder = ProcessBuilder(args).redirectError(ProcessBuilder.Redirect.appendTo(File(dataDir, "server.log")))
        // The server refuses COUP_* variables it does not know (COUP_SERVER_BIN).
        builder.environment().keys.removeIf { it.uppercase().startsWith("COUP_") }
        builder.environment()["RUST_LOG"] = "warn"
        val started = builder.start()
        val line = started.inputStream.bufferedReader().readLine() ?: error("coup-server exited")
        check(line.startsWith("listening on ")) { "coup-server said $line" }
        url = line.removePrefix("listening on ")
        bind = url.removePrefix("http://")
        process = started
        return this
    }

    fun stop() {
        process?.let {
            it.destroy()
            if (!it.waitFor(15, TimeUnit.SECONDS)) it.destroyForcibly().waitFor()
        }
        process = null
    }

    fun close() {
        stop()
        dataDir.deleteRecursively()
    }
}

val cacheRoot: File = kotlin.io.path.createTempDirectory("coup-ffi-kt-cache-").toFile()

fun options(server: Server, name: String, store: SessionStore? = null) = ClientOptions(
    server = server.url,
    cachePath = File(cacheRoot, "$name.db").path,
    sessionStore = store,
    extraRootsPem = null,
    maxReconnectDelayMs = 500uL,
)

suspend fun newUser(server: Server, name: String, store: SessionStore? = null): CoupClient {
    val unique = "$name-${UUID.randomUUID().toString().take(8)}"
    return signup(options(server, unique, store), "$unique@example.com", PASSWORD, name)
}

/** Collects events delivered on Rust threads; tests wait on them. */
class Collector : EventListener {
    private val queue = LinkedBlockingQueue<AppEvent>()
    val events: MutableList<AppEvent> = Collections.synchronizedList(mutableListOf())

    override fun onEvent(event: AppEvent) {
        events.add(event)
        queue.add(event)
    }

    fun waitFor(timeoutMs: Long = 15_000, predicate: (AppEvent) -> Boolean): AppEvent {
        val deadline = System.currentTimeMillis() + timeoutMs
        while (true) {
            val left = deadline - System.currentTimeMillis()
            if (left <= 0) throw AssertionError("no such event in $timeoutMs ms; last: ${events.takeLast(5)}")
            val event = queue.poll(left, TimeUnit.MILLISECONDS) ?: continue
            if (predicate(event)) return event
        }
    }
}

fun received(text: String): (AppEvent) -> Boolean =
    { it is AppEvent.MessageReceived && it.message.content == text }

/** Handles stay referenced for the whole run: a collected handle cancels its
 *  listener (that is the contract), which would make tests flaky. */
val handles = Collections.synchronizedList(mutableListOf<ListenerHandle>())

fun listen(client: CoupClient): Pair<Collector, ListenerHandle> {
    val collector = Collector()
    return collector to client.subscribe(collector).also { handles += it }
}

suspend fun studyWith(owner: CoupClient, vararg members: CoupClient, name: String = "kotlin study"): Study {
    val study = owner.createStudy(
        NewStudy(
            name = name, description = "made by the Kotlin suite", category = "testing",
            tags = listOf("ffi"), maxMembers = 10u, isPublic = true,
            joinPolicy = JoinPolicy.AUTO, isRecruiting = true,
        )
    )
    for (member in members) check(member.joinStudy(study.id, null, null).status == MemberStatus.ACTIVE)
    for (client in listOf(owner, *members)) {
        client.refresh()
        client.follow(study.id)
    }
    return study
}

suspend fun eventually(timeoutMs: Long = 15_000, check: suspend () -> Boolean) {
    val deadline = System.currentTimeMillis() + timeoutMs
    while (!check()) {
        if (System.currentTimeMillis() > deadline) throw AssertionError("not true within $timeoutMs ms")
        delay(100)
    }
}

inline fun <reified T : Throwable> assertThrows(block: () -> Unit): T {
    try {
        block()
    } catch (e: Throwable) {
        if (e is T) return e
        throw AssertionError("expected ${T::class.simpleName}, got $e", e)
    }
    throw AssertionError("expected ${T::class.simpleName}, nothing thrown")
}

class MemoryStore : SessionStore {
    val tokens = Collections.synchronizedMap(mutableMapOf<Pair<String, String>, String>())
    override fun load(server: String, account: String): String? = tokens[server to account]
    override fun save(server: String, account: String, token: String) { tokens[server to account] = token }
    override fun delete(server: String, account: String) { tokens.remove(server to account) }
}

// ------------------------------------------------------------------ tests

val results = mutableListOf<Pair<String, Throwable?>>()
val benchmarks = mutableListOf<String>()

val only: String? = System.getenv("COUP_FFI_TEST_ONLY") // run only tests whose name has this

fun test(name: String, body: suspend () -> Unit) {
    if (only != null && !name.contains(only)) return
    val started = System.nanoTime()
    val failure = try {
        runBlocking { withTimeout(120_000) { body() } }
        null
    } catch (e: Throwable) {
        e
    }
    val ms = (System.nanoTime() - started) / 1_000_000
    results += name to failure
    if (failure == null) println("PASS $name ($ms ms)") else {
        println("FAIL $name ($ms ms): $failure")
        failure.printStackTrace()
    }
}

val demo = Server(demo = true).start()

test("sign in and list studies") {
    val kim = login(options(demo, "kim"), "kim@example.com", PASSWORD)
    check(kim.user().email == "kim@example.com")
    kim.refresh()
    val mine = kim.studies()
    check(mine.size >= 6) { mine.map { it.name } }
    check(mine.all { it.id.length == 36 && it.createdAt.endsWith("Z") })
    val page = kim.searchStudies(StudyQuery(limit = 5u))
    check(page.total >= 8uL && page.items.size == 5)
    check(kim.members(mine[0].id).any { it.userId == kim.user().id })
}

test("two clients exchange messages live through listeners") {
    val server = Server().start()
    try {
        val alice = newUser(server, "alice")
        val bob = newUser(server, "bob")
        val study = studyWith(alice, bob)
        val (aliceEvents, _) = listen(alice)
        val (bobEvents, _) = listen(bob)
        val item = alice.sendMessage(study.id, "안녕 bob")
        check(item.state is OutboxState.Pending)
        val got = bobEvents.waitFor(predicate = received("안녕 bob")) as AppEvent.MessageReceived
        check(got.message.authorId == alice.user().id && got.message.clientId == item.clientId)
        bob.sendMessage(study.id, "hi alice")
        aliceEvents.waitFor(predicate = received("hi alice"))
        check(bob.messages(study.id, 10u).map { it.content }.takeLast(2) == listOf("안녕 bob", "hi alice"))
    } finally {
        server.close()
    }
}

test("a message sent while the server is down waits in the outbox and arrives once") {
    val server = Server().start()
    try {
        val alice = newUser(server, "alice")
        val bob = newUser(server, "bob")
        val study = studyWith(alice, bob)
        val (bobEvents, _) = listen(bob)
        val (aliceEvents, _) = listen(alice)
        alice.sendMessage(study.id, "before")
        bobEvents.waitFor(predicate = received("before"))

        server.stop()
        aliceEvents.waitFor { it is AppEvent.Connection && it.state is ConnectionState.Offline }
        val item = alice.sendMessage(study.id, "while away")
        delay(1000)
        val waiting = alice.outbox()
        check(waiting.map { it.id } == listOf(item.id) && waiting[0].state is OutboxState.Pending)

        server.start()
        bobEvents.waitFor(30_000, received("while away"))
        eventually(30_000) { alice.outbox().isEmpty() }
        delay(1500)
        check(bobEvents.events.count(received("while away")) == 1)
        check(bob.history(study.id, null, 50u).items.count { it.content == "while away" } == 1)
    } finally {
        server.close()
    }
}

test("offline restore reads the cache, tokens in the app's store") {
    val server = Server().start()
    try {
        val store = MemoryStore()
        val name = "restorer-${UUID.randomUUID().toString().take(8)}"
        val alice = signup(options(server, name, store), "$name@example.com", PASSWORD, "alice")
        val study = studyWith(alice, name = "offline study")
        val (events, handle) = listen(alice)
        alice.sendMessage(study.id, "kept")
        events.waitFor { it is AppEvent.OutboxSent }
        val me = alice.user()
        check(store.tokens.keys == setOf(server.url to me.id))
        handle.close()
        alice.close()

        server.stop()
        check(savedAccounts(options(server, name, store)).map { it.id } == listOf(me.id))
        val restored = restore(options(server, name, store)) ?: error("no session restored")
        check(restored.user().id == me.id)
        check(restored.connectionState() !is ConnectionState.Online)
        check(restored.studies().map { it.name } == listOf("offline study"))
        check("kept" in restored.messages(study.id, 10u).map { it.content })
        restored.close()
    } finally {
        server.close()
    }
}

test("errors arrive as typed exceptions with code and reason") {
    val wrong = assertThrows<CoupException.Unauthorized> {
        runBlocking { login(options(demo, "wrong"), "kim@example.com", "not-the-password-1") }
    }
    check(wrong.code == "UNAUTHORIZED" && wrong.reason == "WRONG_CREDENTIALS" && wrong.httpStatus.toInt() == 401) { wrong }
    val taken = assertThrows<CoupException.Conflict> {
        runBlocking { signup(options(demo, "taken"), "kim@example.com", PASSWORD, "kim") }
    }
    check(taken.reason == "EMAIL_TAKEN" && taken.httpStatus.toInt() == 409)
    val kim = login(options(demo, "kim2"), "kim@example.com", PASSWORD)
    val badId = assertThrows<CoupException.Validation> { runBlocking { kim.study("not-an-id") } }
    check(badId.field == "studyId" && badId.httpStatus.toInt() == 0)
    val missing = assertThrows<CoupException> { runBlocking { kim.study("00000000-0000-4000-8000-000000000000") } }
    check(missing is CoupException.NotFound && missing.code == "NOT_FOUND")
    check((missing.message ?: "").isNotEmpty())
}

test("a cancelled listener gets no more callbacks") {
    val server = Server().start()
    try {
        val alice = newUser(server, "alice")
        val bob = newUser(server, "bob")
        val study = studyWith(alice, bob)
        val (cancelled, handle) = listen(bob)
        val (kept, _) = listen(bob)
        alice.sendMessage(study.id, "one")
        cancelled.waitFor(predicate = received("one"))
        kept.waitFor(predicate = received("one"))
        handle.cancel()
        check(handle.isCancelled())
        val seen = cancelled.events.size
        alice.sendMessage(study.id, "two")
        alice.sendMessage(study.id, "three")
        kept.waitFor(predicate = received("three"))
        delay(500)
        check(cancelled.events.size == seen)
    } finally {
        server.close()
    }
}

test("call signaling reaches the other participant") {
    val server = Server().start()
    try {
        val alice = newUser(server, "alice")
        val bob = newUser(server, "bob")
        val study = studyWith(alice, bob)
        val (aliceEvents, _) = listen(alice)
        val (bobEvents, _) = listen(bob)
        eventually { alice.connectionState() is ConnectionState.Online && bob.connectionState() is ConnectionState.Online }
        alice.joinCall(study.id, MediaState(mic = true, camera = false, screen = false))
        bob.joinCall(study.id, MediaState(mic = true, camera = true, screen = false))
        aliceEvents.waitFor { it is AppEvent.CallParticipantJoined && it.participant.userId == bob.user().id }
        bob.sendSignal(study.id, alice.user().id, Signal.Offer("v=0 offer"))
        val offer = aliceEvents.waitFor { it is AppEvent.CallSignal } as AppEvent.CallSignal
        check(offer.fromUserId == bob.user().id && (offer.signal as Signal.Offer).sdp == "v=0 offer")
        alice.sendSignal(study.id, bob.user().id, Signal.Answer("v=0 answer"))
        bobEvents.waitFor { it is AppEvent.CallSignal && it.signal is Signal.Answer }
        bob.leaveCall(study.id)
        aliceEvents.waitFor { it is AppEvent.CallParticipantLeft && it.userId == bob.user().id }
    } finally {
        server.close()
    }
}

test("200 concurrent calls") {
    val kim = login(options(demo, "kim3"), "kim@example.com", PASSWORD)
    kim.refresh()
    val answers = coroutineScope {
        (0 until 200).map { i ->
            async(Dispatchers.Default) {
                when (i % 3) {
                    0 -> kim.studies().size
                    1 -> kim.searchStudies(StudyQuery(limit = 3u)).items.size
                    else -> if (kim.me().id == kim.user().id) 1 else 0
                }
            }
        }.awaitAll()
    }
    check(answers.size == 200 && answers.all { it > 0 })
}

fun percentile(sorted: List<Double>, p: Double) = sorted[((sorted.size - 1) * p).toInt()]

test("round trip: a Kotlin call to the server and back") {
    val kim = login(options(demo, "kim4"), "kim@example.com", PASSWORD)
    for ((label, call) in listOf<Pair<String, suspend () -> Unit>>(
        "serverReady() (GET /readyz)" to { kim.serverReady() },
        "me() (GET /api/users/me, authenticated)" to { kim.me() },
    )) {
        repeat(10) { call() } // warm up: connection pool, JIT
        val times = (1..100).map {
            val t = System.nanoTime()
            call()
            (System.nanoTime() - t) / 1e6
        }.sorted()
        val line = "BENCH %s: median %.2f ms, p90 %.2f ms, min %.2f ms over 100 calls".format(
            label, percentile(times, 0.5), percentile(times, 0.9), times.first())
        println(line)
        benchmarks += line
    }
}

demo.close()
cacheRoot.deleteRecursively()
val failed = results.count { it.second != null }
println("${results.size - failed} passed, $failed failed")
exitProcess(if (failed == 0) 0 else 1)
