"""What printed paper needs: QR codes drawn on the server, and what a delivery slip shows.

The pages print batches of slips (``frontend/templates/partials/slip.html.j2``, the ``slip``
macro, with ``frontend/static/print.css``): one slip per household visit, two A5 slips to an A4
sheet or one to an 80 mm roll. This package holds no HTTP and no database: the deliveries area
builds :class:`Slip` values from its services and hands them to the template.
"""

from __future__ import annotations

from nuanxin.printing.qr import QR_MODULE_MM, QR_QUIET_MODULES, qr_matrix, qr_svg
from nuanxin.printing.slips import Slip, SlipItem, group_code, slip_numbers

__all__ = (
    "QR_MODULE_MM",
    "QR_QUIET_MODULES",
    "Slip",
    "SlipItem",
    "group_code",
    "qr_matrix",
    "qr_svg",
    "slip_numbers",
)
