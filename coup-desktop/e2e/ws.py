"""A minimal WebSocket client (RFC 6455, text frames, standard library only)
for the e2e's second user: `hello`, follow a study, send typing."""

import base64
import json
import os
import socket
import struct
import urllib.parse


class Live:
    def __init__(self, server, token):
        url = urllib.parse.urlparse(server)
        self.sock = socket.create_connection((url.hostname, url.port or 80), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (f"GET /ws HTTP/1.1\r\nHost: {url.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            head += chunk
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(f"no upgrade: {head[:200]!r}")
        self.send({"type": "hello", "version": 1, "token": token})

    def send(self, frame):
        data = json.dumps(frame).encode()
        mask = os.urandom(4)
        n = len(data)
        if n < 126:
            header = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 65536:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def follow(self, study_id):
        self.send({"type": "subscribe", "studyId": study_id})

    def typing(self, study_id, on=True):
        self.send({"type": "typing", "studyId": study_id, "typing": on})

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
