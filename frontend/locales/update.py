"""Refresh the message catalogues from the templates and pages: ``make messages``.

Extracts every ``_()`` / ``N_()`` string into ``messages.pot``, then merges it into each
language's ``messages.po`` (new strings arrive untranslated, vanished ones are dropped). The
``.po`` files are the source of truth and are committed; nothing compiled is.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
LANGUAGES = ("zh_CN", "en")


def main() -> int:
    pybabel = str(Path(sys.executable).with_name("pybabel"))
    pot = HERE / "messages.pot"
    subprocess.run(
        [
            pybabel,
            "extract",
            "-F",
            str(HERE.parent / "babel.cfg"),
            "-k",
            "_",
            "-k",
            "N_",
            "--no-location",
            "--sort-output",
            "--omit-header",
            "-o",
            str(pot),
            str(ROOT),
        ],
        check=True,
        cwd=ROOT,
    )
    for language in LANGUAGES:
        po = HERE / language / "LC_MESSAGES" / "messages.po"
        command = "update" if po.exists() else "init"
        subprocess.run(
            [
                pybabel,
                command,
                "-i",
                str(pot),
                "-d",
                str(HERE),
                "-l",
                language,
                "--no-wrap",
                *(["--ignore-obsolete", "--no-fuzzy-matching"] if command == "update" else []),
            ],
            check=True,
            cwd=ROOT,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
