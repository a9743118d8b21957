"""Fetch the pinned third-party browser assets into ``frontend/static/vendor/``.

Run by ``make install``. Each package comes from the npm registry as the exact version below,
is checked against its published sha512 integrity before anything is unpacked, and only the
files the pages use are kept. Nothing here is committed: ``frontend/static/vendor/`` is ignored.
``NPM_REGISTRY`` points at a mirror (default https://registry.npmjs.org). Pages work without
these files (no maps, no charts, a message says so).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import sys
import tarfile
import urllib.request
from pathlib import Path

VENDOR = Path(__file__).resolve().parent / "static" / "vendor"

# name, version, sha512 integrity (from the registry's dist.integrity), files kept (from package/)
PACKAGES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (
        "htmx.org",
        "2.0.4",
        "HLxMCdfXDOJirs3vBZl/ZLoY+c7PfM4Ahr2Ad4YXh6d22T5ltbTXFFkpx9Tgb2vvmWFMbIc3LqN2ToNkZJvyYQ==",
        ("dist/htmx.min.js", "LICENSE"),
    ),
    (
        "leaflet",
        "1.9.4",
        "nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA==",
        ("dist/leaflet.js", "dist/leaflet.css", "dist/images/", "LICENSE"),
    ),
    (
        "chart.js",
        "4.4.7",
        "pwkcKfdzTMAU/+jNosKhNL2bHtJc/sSmYgVbuGTEDhzkrhmyihmP7vUc/5ZK9WopidMDHNe3Wm7jOd/WhuHWuw==",
        ("dist/chart.umd.js", "LICENSE.md"),
    ),
    # The courier's offline screen: the service worker (/courier-sw.js) loads workbox-sw and,
    # through it, these modules from here, never from Google's CDN (its default).
    (
        "workbox-sw",
        "7.4.1",
        "fez5f2DUlDJWTFYkCWQpY10N8gtztd849NswCbVFk0QlcSM4HT5A8x4g4ii650yem4I8tHY0R7JZahwp3ltIPw==",
        ("build/workbox-sw.js", "LICENSE"),
    ),
    (
        "workbox-core",
        "7.4.1",
        "DT+vu46eh/2vRsSHTY4Xmc32Z1rr9PRlQUXr1Dx30ZuXRWwOsvZgGgcwxcasubQLQmbTNYZjv44LkBAQ4tT5tQ==",
        ("build/workbox-core.prod.js", "LICENSE"),
    ),
    (
        "workbox-routing",
        "7.4.1",
        "yubJGErZOusuidAenaL5ypfhQOa7urxP/f8E0ws7FPb4039RiWXUWBAyUkmUoOL/BcQGen3h0J8872d51IYxtA==",
        ("build/workbox-routing.prod.js", "LICENSE"),
    ),
    (
        "workbox-strategies",
        "7.4.1",
        "GZxpaw9NbmOelj7667uZ2kpk5BFpOGbO4X0qjwh5ls8XQ8C+Lha5LQchTiUzsTFSS+NlUpftYAyOVXvQUrcqOQ==",
        ("build/workbox-strategies.prod.js", "LICENSE"),
    ),
    (
        "workbox-expiration",
        "7.4.1",
        "lRKUF7b+OGbeXkQk1s6MHXOa3d7Xxf7Of31W6c6hCfipfIyrtdWZ89stq21AHZMaoG7VNFoHply4Ox+rU31TWg==",
        ("build/workbox-expiration.prod.js", "LICENSE"),
    ),
    (
        "workbox-cacheable-response",
        "7.4.1",
        "8xaFoJdDc2OjrlbbL3gEeBO1WKcMwRqwLRupgqahYXu75yXajPLuwrbXMrIGZuWYXrQwk0xDjOxZ/ujCy/oJYw==",
        ("build/workbox-cacheable-response.prod.js", "LICENSE"),
    ),
    (  # accessibility checks of the browser tests (tests/e2e), never served to people
        "axe-core",
        "4.14.1",
        "FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
        ("axe.min.js", "LICENSE"),
    ),
)


def _stamp(name: str, version: str) -> Path:
    return VENDOR / name / ".version"


def fetch(name: str, version: str, integrity: str, keep: tuple[str, ...]) -> None:
    stamp = _stamp(name, version)
    if stamp.exists() and stamp.read_text().strip() == version:
        return
    registry = os.environ.get("NPM_REGISTRY", "https://registry.npmjs.org").rstrip("/")
    url = f"{registry}/{name}/-/{name.rsplit('/', 1)[-1]}-{version}.tgz"
    with urllib.request.urlopen(url, timeout=60) as answer:
        blob = answer.read()
    found = base64.b64encode(hashlib.sha512(blob).digest()).decode()
    if found != integrity:
        raise SystemExit(f"{name}@{version}: sha512 mismatch (got {found}); nothing unpacked")
    target = VENDOR / name
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as archive:
        for member in archive.getmembers():
            inner = member.name.removeprefix("package/")
            if not member.isfile() or not any(
                inner == k or (k.endswith("/") and inner.startswith(k)) for k in keep
            ):
                continue
            out = (
                target / Path(inner).name
                if not inner.startswith("dist/images/")
                else (target / "images" / Path(inner).name)
            )
            out.parent.mkdir(parents=True, exist_ok=True)
            source = archive.extractfile(member)
            assert source is not None
            out.write_bytes(source.read())
    stamp.write_text(version + "\n")
    sys.stdout.write(f"vendor: {name}@{version} -> {target.relative_to(VENDOR.parent.parent)}\n")


def main() -> int:
    try:
        for package in PACKAGES:
            fetch(*package)
    except OSError as exc:  # offline: the pages still work, without maps and charts
        sys.stderr.write(f"vendor: could not fetch assets ({exc}); no maps or charts\n")
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
