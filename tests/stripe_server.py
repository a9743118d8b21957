"""localstripe, started safely for the tests: on 127.0.0.1 only, with its own state file.

localstripe (a test-only, GPL-3.0 development tool, never shipped) binds every interface and
pickles its state to ``/tmp/localstripe.pickle`` when started with its own ``start()``. Run as
``python -m tests.stripe_server STATE_FILE``, this module binds 127.0.0.1 on a free port,
keeps its state in ``STATE_FILE`` (started from scratch) and prints ``PORT <n>`` once it
listens. :class:`LocalStripe` starts and stops that process; :class:`WebhookReceiver` is a
tiny loopback HTTP server that collects the webhooks localstripe sends, so that a test hands
each one, byte for byte and with its signature, to the app.
"""

from __future__ import annotations

import json
import os
import pickle
import queue
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

__all__ = (
    "DeliveredWebhook",
    "LocalStripe",
    "LocalStripeError",
    "RefundDesk",
    "RefundRequest",
    "WebhookReceiver",
)

STARTUP_SECONDS = 20.0


class LocalStripeError(RuntimeError):
    """localstripe could not start: the tests that need it fail (they never skip)."""


@dataclass(frozen=True, slots=True)
class DeliveredWebhook:
    """One webhook as localstripe sent it: the raw body and its Stripe-Signature header."""

    body: bytes
    signature: str

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


class WebhookReceiver:
    """A loopback HTTP server that keeps every POST it receives, in order."""

    def __init__(self) -> None:
        received: queue.Queue[DeliveredWebhook] = queue.Queue()
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                received.put(DeliveredWebhook(body, self.headers.get("stripe-signature", "")))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/webhook"

    def wait_for(self, event_type: str, object_id: str, timeout: float = 10.0) -> DeliveredWebhook:
        """The next webhook of ``event_type`` about ``object_id`` (others are dropped)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"localstripe sent no {event_type} for {object_id}")
            try:
                delivered = self.received.get(timeout=remaining)
            except queue.Empty:
                continue
            event = delivered.event
            if event.get("type") == event_type and event["data"]["object"]["id"] == object_id:
                return delivered

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass(frozen=True, slots=True)
class RefundRequest:
    """One refund the app asked for: its form fields and its Idempotency-Key header."""

    form: dict[str, str]
    idempotency_key: str


class RefundDesk:
    """Stripe's refunds endpoint on loopback, answering as it is told (no other endpoint).

    localstripe refunds every refund at once; Stripe may also answer a refund ``failed`` or
    ``canceled``, or refuse the request. ``answer`` sets what the next refunds get: a refund
    status, or an HTTP status of 400 and over for a refusal. Every request is kept in
    ``requests``; ``reset`` forgets them and answers ``succeeded`` again (one desk serving a
    session's tests, each from a clean desk).

    It listens on 127.0.0.1 at ``port`` (a free one by default); an ``OSError`` if that port is
    taken.
    """

    def __init__(self, port: int = 0) -> None:
        self.requests: list[RefundRequest] = []
        self.answer: str | int = "succeeded"
        desk = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                fields = urllib.parse.parse_qs(self.rfile.read(length).decode())
                form = {name: values[0] for name, values in fields.items()}
                key = self.headers.get("idempotency-key", "")
                desk.requests.append(RefundRequest(form, key))
                refusal = 404 if self.path != "/v1/refunds" else desk.answer
                if isinstance(refusal, int):
                    error = {"type": "invalid_request_error", "message": "refused"}
                    self._send(refusal, {"error": error})
                    return
                refund = {
                    "id": f"re_desk_{len(desk.requests)}",
                    "object": "refund",
                    "amount": int(form.get("amount", "0")),
                    "payment_intent": form.get("payment_intent"),
                    "currency": "cny",
                    "status": desk.answer,
                }
                self._send(200, refund)

            def _send(self, code: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        # closed within 50 ms (serve_forever's default poll of 0.5 s was half a second a test)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def api_base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def reset(self) -> None:
        self.requests.clear()
        self.answer = "succeeded"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class LocalStripe:
    """A localstripe process on 127.0.0.1, its state in ``state_file``."""

    def __init__(self, state_file: Path) -> None:
        self.state_file = state_file
        self.port = 0
        self._process: subprocess.Popen[str] | None = None

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LocalStripe:
        root = Path(__file__).resolve().parents[1]
        env = {**os.environ, "PYTHONPATH": str(root)}
        self._log = self.state_file.with_suffix(".log").open("w")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.stripe_server", str(self.state_file)],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()  # blocks until the port is printed or exit
        if not line.startswith("PORT "):
            self.stop()
            log = self.state_file.with_suffix(".log").read_text()
            raise LocalStripeError(f"localstripe did not start: {line!r} {log[-2000:]}")
        self.port = int(line.split()[1])
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.api_base}/js.stripe.com/v3/", timeout=1.0)
            except httpx.HTTPError:
                time.sleep(0.05)
                continue
            return self
        self.stop()
        raise LocalStripeError("localstripe did not answer on 127.0.0.1")

    def register_webhook(self, url: str, secret: str) -> None:
        response = httpx.post(
            f"{self.api_base}/_config/webhooks/nuanxin",
            data={"url": url, "secret": secret},
            timeout=5.0,
        )
        response.raise_for_status()

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                self._process.kill()
                self._process.wait(timeout=10)
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._log.close()
            self._process = None


#: What localstripe's Stripe.js stand-in lacks: ``confirmCardPayment(secret, {payment_method:
#: {card: element}})``, the one call a page makes to pay a PaymentIntent with a card, as
#: Stripe.js does it (the card goes from the browser to the payment server, never to the app).
CONFIRM_WITH_CARD = """
    confirmCardPayment: async (clientSecret, data) => {
      const card = data && data.payment_method && data.payment_method.card;
      if (!(card && card.value && card.value.card)) { return legacyConfirm(clientSecret, data); }
      const pi = clientSecret.match(/^(pi_\\w+)_secret_/)[1];
      const response = await fetch(`${LOCALSTRIPE_BASE_API}/v1/payment_intents/${pi}/confirm`, {
        method: 'POST',
        body: JSON.stringify({key: apiKey, client_secret: clientSecret,
                              payment_method_data: {type: 'card', card: card.value.card}}),
      });
      const body = await response.json().catch(() => ({}));
      if (response.status !== 200 || body.error) { return {error: body.error}; }
      if (body.status === 'requires_action') { return legacyConfirm(clientSecret, data); }
      if (body.status !== 'succeeded') { return {error: {message: 'Your card was declined.'}}; }
      return {paymentIntent: body};
    },
    legacyConfirmCardPayment: async (clientSecret, data) => {"""


def _card_payments(web: Any, resources: Any, server: Any) -> Any:  # pragma: no cover - child
    """An aiohttp middleware: the confirmation of a PaymentIntent with a card from the page
    (publishable key and client secret, as Stripe.js sends them), and the Stripe.js stand-in
    that makes it."""
    confirm_path = re.compile(r"^/v1/payment_intents/(pi_\w+)/confirm$")
    script = (Path(server.__file__).parent / "localstripe-v3.js").read_text()
    marker = "    confirmCardPayment: async (clientSecret, data) => {"
    if marker not in script:
        raise RuntimeError("localstripe's Stripe.js changed: confirmCardPayment not found")
    script = script.replace(marker, CONFIRM_WITH_CARD, 1)
    # the original, renamed above, is still reachable for 3-D Secure
    script = script.replace(
        "  return {\n    elements:",
        "  const legacyConfirm = (s, d) => stripe.legacyConfirmCardPayment(s, d);\n"
        "  const stripe = {\n    elements:",
        1,
    )
    script = script.replace(
        "    createPaymentMethod: async () => {},\n  };\n",
        "    createPaymentMethod: async () => {},\n  };\n  return stripe;\n",
        1,
    )
    if "return stripe;" not in script or "const stripe = {" not in script:
        raise RuntimeError("localstripe's Stripe.js changed: its shape is not the one patched")

    @web.middleware  # type: ignore[untyped-decorator]
    async def middleware(request: Any, handler: Any) -> Any:
        if request.method == "GET" and request.path == "/js.stripe.com/v3/":
            return web.Response(text=script, content_type="application/javascript")
        found = confirm_path.match(request.path)
        if request.method != "POST" or found is None:
            return await handler(request)
        data = json.loads(await request.text() or "{}")
        if not str(data.get("key", "")).startswith("pk_"):
            return await handler(request)  # a server call with the secret key: localstripe's own
        intent = resources.PaymentIntent._api_retrieve(found.group(1))
        if data.get("client_secret") != intent.client_secret:
            return server.json_response({"error": {"message": "Unauthorized"}}, status=401)
        if intent.status != "requires_payment_method":
            return server.json_response({"error": {"message": "Bad request"}}, status=400)
        method = resources.PaymentMethod(**data.get("payment_method_data", {}))
        intent.payment_method = method.id
        intent._confirm(on_failure_now=intent._report_failure)
        resources.store.dump_to_disk()
        return server.json_response(intent._export())

    return middleware


def _serve(state_file: Path) -> None:  # pragma: no cover - runs in the child process
    from aiohttp import web
    from localstripe import resources, server  # type: ignore[import-untyped]

    def load(store: resources.Store) -> None:
        if state_file.exists():
            with state_file.open("rb") as f:
                store.update(pickle.load(f))

    def dump(store: resources.Store) -> None:
        with state_file.open("wb") as f:
            pickle.dump(dict(store), f, protocol=pickle.HIGHEST_PROTOCOL)

    resources.Store.try_load_from_disk = load
    resources.Store.dump_to_disk = dump
    state_file.unlink(missing_ok=True)  # from scratch, every run
    server.app.middlewares.insert(0, _card_payments(web, resources, server))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sys.stdout.write(f"PORT {sock.getsockname()[1]}\n")
    sys.stdout.flush()
    web.run_app(server.app, sock=sock, print=None, access_log=None)


if __name__ == "__main__":  # pragma: no cover
    _serve(Path(sys.argv[1]))
