"""A tiny real SMTP server on 127.0.0.1 for tests, in a background thread (stdlib only:
`smtpd` is gone from Python 3.12).

It speaks enough of RFC 5321 for smtplib (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT)
and keeps every accepted message. It can refuse on purpose: `refuse_connections` answers
`421` at the greeting, `refuse_data` answers `451` after the message was transferred (the
nastiest moment: the client sent everything, the server did not take it). Each counter is
used up one session or message at a time.
"""

from __future__ import annotations

import email
import socketserver
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default


@dataclass
class Received:
    mail_from: str
    rcpt_to: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        msg = email.message_from_bytes(self.data, policy=default)
        assert isinstance(msg, EmailMessage)
        return msg

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        return str(part.get_content())


class SMTPTestServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.messages: list[Received] = []
        self.sessions = 0
        self.refuse_connections = 0
        self.refuse_data = 0
        self._lock = threading.Lock()
        self._server = _Server((host, 0), _Handler)
        self._server.owner = self
        self.host = host
        self.port: int = self._server.server_address[1]
        self.url = f"smtp://{host}:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> SMTPTestServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _take(self, counter: str) -> bool:
        with self._lock:
            left = getattr(self, counter)
            if left:
                setattr(self, counter, left - 1)
            return bool(left)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: SMTPTestServer


class _Handler(socketserver.StreamRequestHandler):
    server: _Server
    timeout = 10

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        owner = self.server.owner
        with owner._lock:
            owner.sessions += 1
        if owner._take("refuse_connections"):
            self.reply("421 127.0.0.1 Service not available, try again later")
            return
        self.reply("220 127.0.0.1 test ESMTP")
        mail_from, rcpt_to = "", []
        while line := self.rfile.readline():
            command = line.decode("ascii", "replace").strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250-127.0.0.1" if verb == "EHLO" else "250 127.0.0.1")
                if verb == "EHLO":
                    self.reply("250 8BITMIME")
            elif verb == "MAIL":
                mail_from, rcpt_to = command.partition(":")[2].strip(), []
                self.reply("250 OK")
            elif verb == "RCPT":
                rcpt_to.append(command.partition(":")[2].strip())
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                if owner._take("refuse_data"):
                    self.reply("451 4.3.0 Temporary failure, try again later")
                else:
                    with owner._lock:
                        owner.messages.append(Received(mail_from, rcpt_to, b"".join(lines)))
                    self.reply("250 OK queued")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            else:
                self.reply("502 Command not implemented")
