"""A local fake of the SMS gateway and the DingTalk / WeCom robots: a threading HTTP server that
records what it received (path, query, headers, JSON body) and answers as told."""

from __future__ import annotations

import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict


@dataclass
class FakeGateway:
    received: list[Received] = field(default_factory=list)
    # Answers to give, in order (status, JSON body); the last one is repeated.
    answers: list[tuple[int, dict]] = field(default_factory=lambda: [(200, {"code": 0, "errcode": 0})])
    server: ThreadingHTTPServer | None = None
    # Answers to GET requests (WeCom's gettoken), in order; the last one is repeated.
    get_answers: list[tuple[int, dict]] = field(default_factory=lambda: [
        (200, {"errcode": 0, "errmsg": "ok", "access_token": "wecom-token-1", "expires_in": 7200})])
    gets: list[Received] = field(default_factory=list)

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, *answers: tuple[int, dict]) -> None:
        self.answers = list(answers)

    def start(self) -> FakeGateway:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                parts = urllib.parse.urlsplit(self.path)
                gateway.received.append(Received(
                    path=parts.path, query=dict(urllib.parse.parse_qsl(parts.query)),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=json.loads(raw.decode() or "{}")))
                index = min(len(gateway.received) - 1, len(gateway.answers) - 1)
                status, body = gateway.answers[index]
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                parts = urllib.parse.urlsplit(self.path)
                gateway.gets.append(Received(path=parts.path, query=dict(urllib.parse.parse_qsl(parts.query)),
                                             headers={k.lower(): v for k, v in self.headers.items()}, body={}))
                status, body = gateway.get_answers[min(len(gateway.gets) - 1, len(gateway.get_answers) - 1)]
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
