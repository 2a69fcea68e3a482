// The Socket.IO v4 peer of the benchmark: the stack the original platform ran on,
// with the same semantics as CoUp's chat — authenticate, join a room, broadcast a
// chat message to everyone in the room (the sender included). It keeps nothing:
// no database, no history, no sequence numbers.
"use strict";

const http = require("node:http");
const { Server } = require("socket.io");

const port = Number(process.env.PORT || 3000);

const httpServer = http.createServer((req, res) => {
  if (req.url === "/healthz") {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok");
    return;
  }
  res.writeHead(404);
  res.end();
});

const io = new Server(httpServer, {
  transports: ["websocket"],
  serveClient: false,
  perMessageDeflate: false,
  maxHttpBufferSize: 64 * 1024,
});

// The original checked a JWT here; the benchmark asks for a token and checks its
// shape, which costs the peer less than a real verification would.
io.use((socket, next) => {
  const token = socket.handshake.auth && socket.handshake.auth.token;
  if (typeof token === "string" && token.length > 0) {
    next();
  } else {
    next(new Error("unauthorized"));
  }
});

io.on("connection", (socket) => {
  socket.on("join", (room, ack) => {
    if (typeof room !== "string") return;
    socket.join(room);
    if (typeof ack === "function") ack({ ok: true });
  });
  socket.on("chat", (msg) => {
    if (!msg || typeof msg.room !== "string" || !socket.rooms.has(msg.room)) return;
    io.to(msg.room).emit("chat", msg);
  });
});

httpServer.listen(port, "127.0.0.1");

const stop = () => io.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
