"""The docs match the code: the README's commands and the API list in docs/api.md."""

from __future__ import annotations

import re
from pathlib import Path

from nuanxin.app import create_app
from nuanxin.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_opens_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```")[1]
    assert "make demo" in first_block and "make test" in first_block
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in re.findall(r"`make ([a-z-]+)`", readme):
        assert re.search(rf"^{re.escape(target)}:", makefile, re.M), f"make {target} is documented"


def test_the_api_list_names_every_operation_and_nothing_else() -> None:
    app = create_app(Settings.from_env(), manage_pool=False)
    schema = app.openapi_schema.to_schema()
    operations = {
        (method.upper(), path, op["operationId"])
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
    }
    listed = set(
        re.findall(
            r"^\| (GET|POST|PATCH|PUT|DELETE) \| `([^`]+)` \| (\w+) \|",
            (ROOT / "docs" / "api.md").read_text(encoding="utf-8"),
            re.M,
        )
    )
    assert listed - operations == set(), "docs/api.md lists operations the app does not have"
    assert operations - listed == set(), "docs/api.md misses operations of the app"
