"""A local stand-in for the SMS gateway and the DingTalk / WeCom robots, for demos and for checking a
configuration: it prints every request it receives (path, DingTalk signature check, JSON body) and
answers success. Point NOTIFY_SMS_URL / NOTIFY_DINGTALK_WEBHOOK / NOTIFY_WECOM_WEBHOOK at it."""

import base64
import hashlib
import hmac
import json
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = "Run a fake SMS gateway / DingTalk / WeCom robot on 127.0.0.1:<port> that prints what it receives."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8025)
        parser.add_argument("--dingtalk-secret", default="", help="check DingTalk signatures with this secret")

    def handle(self, *args, port, dingtalk_secret, **options):
        out = self.stdout

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = min(int(self.headers.get("Content-Length") or 0), 1_000_000)
                body = self.rfile.read(length).decode("utf-8", "replace")
                parts = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parts.query))
                note = ""
                if dingtalk_secret and "sign" in query:
                    expected = base64.b64encode(hmac.new(dingtalk_secret.encode(),
                                                         f"{query.get('timestamp')}\n{dingtalk_secret}".encode(),
                                                         hashlib.sha256).digest()).decode()
                    note = " " + (_("签名正确") if expected == query["sign"] else _("签名错误"))
                try:
                    shown = json.dumps(json.loads(body), ensure_ascii=False)
                except ValueError:
                    shown = body
                out.write(f"POST {parts.path}{note} {shown}")
                answer = json.dumps({"code": 0, "errcode": 0, "errmsg": "ok"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        out.write(f"fake gateway on http://127.0.0.1:{port}/ (Ctrl+C to stop)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
