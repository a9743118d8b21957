"""The edge to Stripe: PaymentIntents, refunds and signed webhook events.

Keys, the API base, the currency and the payment methods all come from :class:`Settings`
(``STRIPE_API_BASE`` points stripe-python at a Stripe-compatible server such as localstripe in
the tests). Every POST carries an idempotency key derived from our own records (stripe-python
would otherwise send a random one per call), and retries are set explicitly.

Stripe failures become :class:`DomainError` answers: 409 ``payments_unavailable`` when Stripe
is not configured, 503 when it cannot be reached, 502 when it refuses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, cast

import stripe

from nuanxin.errors import Conflict, DomainError, Invalid, Unavailable, Upstream
from nuanxin.settings import Settings

__all__ = (
    "Intent",
    "RefundResult",
    "StripeEvent",
    "create_intent",
    "create_refund",
    "ensure_configured",
    "retrieve_intent",
    "verify_event",
)

MAX_NETWORK_RETRIES = 2
TIMESTAMP_TOLERANCE_SECONDS = 300  # Stripe's default: older signatures are replays


@dataclass(frozen=True, slots=True, kw_only=True)
class Intent:
    id: str
    client_secret: str
    status: str
    amount: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RefundResult:
    id: str
    status: str
    amount: int


@dataclass(frozen=True, slots=True, kw_only=True)
class StripeEvent:
    """A verified webhook event: its id, type, creation second and the object it is about."""

    id: str
    type: str
    created: int
    object: dict[str, Any]


def ensure_configured(settings: Settings) -> None:
    """Refuse (409) before anything is written when payments are not set up."""
    if not settings.stripe_secret_key or not settings.stripe_publishable_key:
        raise Conflict(
            "Online payments are not configured on this platform (STRIPE_SECRET_KEY, "
            "STRIPE_PUBLISHABLE_KEY)",
            error="payments_unavailable",
        )


class _HTTPXClient(stripe.HTTPXClient):
    """stripe-python's httpx client, sending its form body as ``content``.

    stripe-python passes the already encoded body as ``data=``, which httpx deprecates (a
    DeprecationWarning on every POST).
    """

    def _get_request_args_kwargs(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any
    ) -> list[Any]:
        args, kwargs = super()._get_request_args_kwargs(method, url, headers, post_data)
        kwargs.pop("data", None)
        if post_data:
            kwargs["content"] = post_data
        return [args, kwargs]


@asynccontextmanager
async def _client_for(settings: Settings) -> AsyncIterator[stripe.StripeClient]:
    """A client whose HTTP connections live for one exchange (and its retries) only.

    stripe-python's async HTTP client belongs to the event loop that opened it, so it is not
    kept between requests.
    """
    ensure_configured(settings)
    http = _HTTPXClient()
    try:
        yield stripe.StripeClient(
            settings.stripe_secret_key,
            base_addresses={"api": settings.stripe_api_base} if settings.stripe_api_base else None,
            max_network_retries=MAX_NETWORK_RETRIES,
            http_client=http,
        )
    finally:
        await http.close_async()  # type: ignore[no-untyped-call]


def _failed(exc: stripe.StripeError) -> DomainError:
    if isinstance(exc, stripe.APIConnectionError):
        return Unavailable(
            "The payment provider cannot be reached; try again shortly",
            error="payments_unreachable",
        )
    return Upstream(
        f"The payment provider refused the request: {exc.user_message or exc.code or 'error'}",
        error="payment_provider_error",
    )


async def create_intent(
    settings: Settings, *, donation_id: int, amount_fen: int, tracking_code: str
) -> Intent:
    """A PaymentIntent for a donation; its idempotency key is derived from the donation id."""
    try:
        async with _client_for(settings) as client:
            intent = await client.v1.payment_intents.create_async(
                params=cast(
                    Any,
                    {
                        "amount": amount_fen,
                        "currency": settings.currency,
                        "payment_method_types": list(settings.payment_methods),
                        "metadata": {
                            "donation_id": str(donation_id),
                            "tracking_code": tracking_code,
                        },
                    },
                ),
                options={"idempotency_key": f"nuanxin-donation-{donation_id}-intent"},
            )
    except stripe.StripeError as exc:
        raise _failed(exc) from exc
    return Intent(
        id=intent.id,
        client_secret=intent.client_secret or "",
        status=intent.status,
        amount=intent.amount,
    )


async def retrieve_intent(settings: Settings, *, intent_id: str) -> Intent:
    try:
        async with _client_for(settings) as client:
            intent = await client.v1.payment_intents.retrieve_async(intent_id)
    except stripe.StripeError as exc:
        raise _failed(exc) from exc
    return Intent(
        id=intent.id,
        client_secret=intent.client_secret or "",
        status=intent.status,
        amount=intent.amount,
    )


async def create_refund(
    settings: Settings, *, intent_id: str, amount_fen: int, idempotency_key: str
) -> RefundResult:
    try:
        async with _client_for(settings) as client:
            refund = await client.v1.refunds.create_async(
                params={"payment_intent": intent_id, "amount": amount_fen},
                options={"idempotency_key": idempotency_key},
            )
    except stripe.StripeError as exc:
        raise _failed(exc) from exc
    return RefundResult(id=refund.id, status=refund.status or "", amount=refund.amount)


def verify_event(settings: Settings, *, payload: bytes, signature: str) -> StripeEvent:
    """The event, if ``signature`` signs the raw ``payload`` with the webhook secret (else 400)."""
    if not settings.stripe_webhook_secret:
        raise Conflict(
            "Stripe webhooks are not configured on this platform (STRIPE_WEBHOOK_SECRET)",
            error="payments_unavailable",
        )
    try:
        event = stripe.Webhook.construct_event(
            payload,
            signature,
            settings.stripe_webhook_secret,
            tolerance=TIMESTAMP_TOLERANCE_SECONDS,
        )
    except stripe.SignatureVerificationError as exc:
        raise Invalid(
            "The Stripe-Signature does not sign this body",
            error="bad_signature",
            field="stripe-signature",
        ) from exc
    except ValueError as exc:
        raise Invalid("The body is not a Stripe event", field="body") from exc
    data = event.to_dict()
    obj = data.get("data", {}).get("object")
    if not isinstance(data.get("id"), str) or not isinstance(obj, dict):
        raise Invalid("The body is not a Stripe event", field="body")
    return StripeEvent(
        id=data["id"],
        type=str(data.get("type", "")),
        created=int(data.get("created", 0)),
        object=obj,
    )
