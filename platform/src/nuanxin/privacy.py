"""Masking personal data in every view that does not need it in full."""

from __future__ import annotations

__all__ = ("mask_id", "mask_name", "mask_phone")


def mask_phone(phone: str) -> str:
    """``13812345678`` -> ``138****5678``; short or empty numbers are masked whole."""
    digits = phone.strip()
    if len(digits) >= 7:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    return "*" * len(digits)


def mask_id(last4: str) -> str:
    """An ID number is only ever shown as its last four characters."""
    return f"**************{last4}"


def mask_name(name: str) -> str:
    """``张三丰`` -> ``张**``: enough for a courier to greet, not to identify."""
    return name[:1] + "*" * (len(name) - 1) if name else ""
