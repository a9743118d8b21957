"""Local stand-ins for the providers, on loopback: two SMS APIs and an SMTP server.

Each fake SMS server speaks enough of its provider's HTTP API for the provider's own SDK to
send to it (the adapters' endpoint pointed at 127.0.0.1): it checks the request's signature
with the keys it was given, as the provider does, records what it was asked to send, and can
be told to refuse the next requests the way its provider refuses (throttled, bad number).
The SMTP server is aiosmtpd's, collecting what it receives.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

ACCESS_KEY_ID = "LTAI-test-key-id"
ACCESS_KEY_SECRET = "test-secret-of-at-least-some-length"


@dataclass
class Sent:
    """One text the fake accepted: the number, the template id, its parameters."""

    phone: str
    template_id: str
    sign_name: str
    params: dict[str, str] | list[str]


@dataclass
class FakeSms:
    """What a fake SMS server saw, and the refusals it is told to give next."""

    port: int = 0
    sent: list[Sent] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)  # provider codes, one per next request
    requests: int = 0
    bad_signatures: int = 0

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _aliyun_signature_ok(method: str, path: str, headers: dict[str, str], secret: str) -> bool:
    """Alibaba Cloud's ACS3-HMAC-SHA256 signature (its V3 request signing)."""
    authorization = headers.get("authorization", "")
    if not authorization.startswith("ACS3-HMAC-SHA256 "):
        return False
    fields = dict(
        part.strip().split("=", 1)
        for part in authorization.removeprefix("ACS3-HMAC-SHA256 ").split(",")
    )
    if fields.get("Credential") != ACCESS_KEY_ID:
        return False
    parts = urlsplit(path)
    query = sorted(parse_qsl(parts.query, keep_blank_values=True))
    canonical_query = "&".join(
        f"{quote(key, safe='-_.~')}={quote(value, safe='-_.~')}" for key, value in query
    )
    signed = fields["SignedHeaders"].split(";")
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in signed)
    canonical = "\n".join(
        [
            method,
            parts.path or "/",
            canonical_query,
            canonical_headers,
            fields["SignedHeaders"],
            headers.get("x-acs-content-sha256", ""),
        ]
    )
    to_sign = "ACS3-HMAC-SHA256\n" + _sha256(canonical.encode("utf-8"))
    expected = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields.get("Signature", ""))


def _tencent_signature_ok(headers: dict[str, str], body: bytes, secret: str) -> bool:
    """Tencent Cloud's TC3-HMAC-SHA256 signature."""
    authorization = headers.get("authorization", "")
    if not authorization.startswith("TC3-HMAC-SHA256 "):
        return False
    fields = dict(
        part.strip().split("=", 1)
        for part in authorization.removeprefix("TC3-HMAC-SHA256 ").split(",")
    )
    key_id, date, service, _ = fields.get("Credential", "///").split("/", 3)
    if key_id != ACCESS_KEY_ID:
        return False
    signed = fields["SignedHeaders"].split(";")
    canonical_headers = "".join(
        f"{name}:{headers.get(name, '').strip().lower()}\n" for name in signed
    )
    canonical = "\n".join(
        ["POST", "/", "", canonical_headers, fields["SignedHeaders"], _sha256(body)]
    )
    timestamp = headers.get("x-tc-timestamp", "")
    scope = f"{date}/{service}/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{_sha256(canonical.encode('utf-8'))}"
    key = _hmac(_hmac(_hmac(("TC3" + secret).encode(), date), service), "tc3_request")
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields.get("Signature", ""))


def _answer(handler: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
    data = json.dumps(payload).encode("utf-8")
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def _aliyun_handler(state: FakeSms) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            state.requests += 1
            request_id = f"fake-{state.requests}"
            if headers.get("x-acs-action") != "SendSms":
                _answer(self, 404, {"Code": "InvalidAction.NotFound", "RequestId": request_id})
                return
            if not _aliyun_signature_ok("POST", self.path, headers, ACCESS_KEY_SECRET):
                state.bad_signatures += 1
                _answer(
                    self,
                    400,
                    {"Code": "SignatureDoesNotMatch", "Message": "bad", "RequestId": request_id},
                )
                return
            query = dict(parse_qsl(urlsplit(self.path).query))
            if state.refusals:
                code = state.refusals.pop(0)
                _answer(self, 200, {"Code": code, "Message": code, "RequestId": request_id})
                return
            state.sent.append(
                Sent(
                    phone=query["PhoneNumbers"],
                    template_id=query["TemplateCode"],
                    sign_name=query["SignName"],
                    params=json.loads(query.get("TemplateParam") or "{}"),
                )
            )
            _answer(
                self,
                200,
                {
                    "Code": "OK",
                    "Message": "OK",
                    "BizId": f"biz-{request_id}",
                    "RequestId": request_id,
                },
            )

        def log_message(self, *args: Any) -> None:  # quiet: the test reads the state
            return

    return Handler


def _tencent_handler(state: FakeSms) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            state.requests += 1
            request_id = f"fake-{state.requests}"
            if headers.get("x-tc-action") != "SendSms":
                error = {"Code": "InvalidAction", "Message": "unknown action"}
                _answer(self, 200, {"Response": {"Error": error, "RequestId": request_id}})
                return
            if not _tencent_signature_ok(headers, body, ACCESS_KEY_SECRET):
                state.bad_signatures += 1
                error = {"Code": "AuthFailure.SignatureFailure", "Message": "bad signature"}
                _answer(self, 200, {"Response": {"Error": error, "RequestId": request_id}})
                return
            data = json.loads(body)
            phone = data["PhoneNumberSet"][0]
            code, message = "Ok", "send success"
            if state.refusals:
                code = message = state.refusals.pop(0)
            else:
                state.sent.append(
                    Sent(
                        phone=phone,
                        template_id=data["TemplateId"],
                        sign_name=data["SignName"],
                        params=list(data.get("TemplateParamSet") or []),
                    )
                )
            status = {
                "SerialNo": f"serial-{request_id}",
                "PhoneNumber": phone,
                "Fee": 1,
                "SessionContext": "",
                "Code": code,
                "Message": message,
                "IsoCode": "CN",
            }
            _answer(self, 200, {"Response": {"SendStatusSet": [status], "RequestId": request_id}})

        def log_message(self, *args: Any) -> None:
            return

    return Handler


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler], state: FakeSms) -> Iterator[FakeSms]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    state.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def fake_aliyun() -> Iterator[FakeSms]:
    state = FakeSms()
    with serving(_aliyun_handler(state), state) as running:
        yield running


@contextmanager
def fake_tencent() -> Iterator[FakeSms]:
    state = FakeSms()
    with serving(_tencent_handler(state), state) as running:
        yield running


@dataclass
class Inbox:
    """What the local SMTP server received; ``refuse`` answers the next RCPT with a code."""

    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    refuse: list[str] = field(default_factory=list)  # e.g. "450 mailbox busy"

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.refuse:
            return self.refuse.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted"


@contextmanager
def local_smtp() -> Iterator[Inbox]:
    inbox = Inbox()
    with socket.socket() as probe:  # a free port (aiosmtpd checks its port by connecting)
        probe.bind(("127.0.0.1", 0))
        inbox.port = int(probe.getsockname()[1])
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


def now_utc() -> datetime:
    return datetime.now(UTC)
