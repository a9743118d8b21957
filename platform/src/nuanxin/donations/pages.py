"""The donor's pages: a gift's timeline and its printable receipt, by tracking code."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromPath
from litestar.response import Template

from nuanxin.donations import tracking
from nuanxin.donations.services import yuan

__all__ = ("DonationPages",)

STEP_ICONS = {"received": "📝", "paid": "💳", "accepted": "📦", "goods": "🧺", "matched": "🤝",
              "delivered": "🏠", "refunded": "↩️", "failed": "⚠️", "declined": "✖️"}  # fmt: skip


class DonationPages(Controller):
    path = "/donations"
    include_in_schema = False

    @get("/{code:str}", exclude_from_auth=True)
    async def timeline(self, code: FromPath[str]) -> Template:
        found = await tracking.track(code=code)
        return Template(
            "donations/tracking.html.j2",
            context={"t": found, "yuan": yuan, "icons": STEP_ICONS},
        )

    @get("/{code:str}/receipt", exclude_from_auth=True)
    async def receipt(self, code: FromPath[str]) -> Template:
        found = await tracking.get_receipt(code=code)
        return Template(
            "donations/receipt.html.j2",
            context={
                "r": found,
                "amount": yuan(found.amount_fen),
                "refunded": yuan(found.refunded_fen),
                "net": yuan(found.net_fen),
            },
        )
