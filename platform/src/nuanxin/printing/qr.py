"""QR codes as inline SVG, made on the server by segno (pure Python, BSD): no script, no image
request, nothing sent elsewhere.

A slip's QR code holds the delivery code alone (its digits, numeric mode): no address, no URL,
no name, so that a photo of the slip gives nothing away beyond what the printed code already
does. Each module is 1 mm on paper, so the 21-module symbol of an 8-digit code prints 21 mm wide
(29 mm with its quiet zone), above the 20 mm a phone camera needs on a cheap printer.
"""

from __future__ import annotations

import segno

__all__ = ("QR_MODULE_MM", "QR_QUIET_MODULES", "qr_matrix", "qr_svg")

#: One module's size on paper.
QR_MODULE_MM = 1
#: The quiet zone around the symbol, in modules (the standard's 4).
QR_QUIET_MODULES = 4


def _symbol(text: str) -> segno.QRCode:
    # error level M at least (segno raises it when the version has room), never a Micro QR,
    # which phone scanners do not read
    return segno.make_qr(text, error="m")


def qr_matrix(text: str) -> tuple[tuple[bool, ...], ...]:
    """The dark (True) and light modules of the symbol for ``text``, without the quiet zone."""
    return tuple(tuple(bool(module) for module in row) for row in _symbol(text).matrix)


def qr_svg(text: str, *, label: str = "") -> str:
    """An ``<svg>`` element of the QR code holding exactly ``text``, sized in millimetres.

    ``label`` becomes its ``<title>`` (for the screen reader on the preview); the printed code
    beside it says the same in digits.
    """
    if not text:
        raise ValueError("a QR code needs something to hold")
    svg: str = _symbol(text).svg_inline(
        scale=QR_MODULE_MM,
        border=QR_QUIET_MODULES,
        unit="mm",
        dark="#000",
        light="#fff",
        svgclass="qr",
        lineclass=None,
        title=label or None,
    )
    return svg
