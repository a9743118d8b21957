"""How an SMS or mail provider says no: its reason, and whether trying later may work."""

from __future__ import annotations

__all__ = ("ProviderError",)


class ProviderError(Exception):
    """The provider did not take the message; ``code`` is its reason (never a phone or code).

    ``retry``: trying later may work (throttling, the provider's own trouble, the network);
    otherwise it will not (a bad number, an unknown template, wrong keys, a refused address).
    """

    def __init__(self, code: str, *, retry: bool) -> None:
        super().__init__(code)
        self.code = code[:300]
        self.retry = retry
