"""Synthetic data at any scale: households in need, charities, offers and donors, all seeded.

The API, kept stable for the engine's benchmark and the demo loader::

    from nuanxin.synthetic import generate, write

    dataset = generate(households=300, offers=20, seed=7)      # or seed=np.random.default_rng(7)
    instance = dataset.to_instance()    # {"offers": [...], "households": [...]}, the engine's input
    write(dataset, Path("var/synthetic"), formats=("instance", "csv", "jsonl"))

* :func:`generate` (``nuanxin.synthetic.generate``) says what is modelled and how.
* :class:`Dataset` (``nuanxin.synthetic.model``) holds numpy columns; ``head_name(i)``,
  ``address(i)``, ``tags(i)``, ``weights(i, k)`` give one household's values; ids are
  ``h{i}`` (households), ``o{j}`` (offers), ``c{k}`` (charities), ``w{n}`` (warehouses),
  ``d{n}`` (donors).
* ``nuanxin.synthetic.writers`` writes the engine's ``instance.json`` and CSV/JSONL files.
* ``python -m nuanxin.synthetic --households N --offers M --seed S --out DIR`` does both.

Every name carries 测试 and given names are stem-branch pairs (甲子, 乙丑 …); addresses are
``<county>测试<n>村<m>号``; e-mail addresses are at example.org: nothing here is a real person.
"""

from __future__ import annotations

from nuanxin.synthetic.generate import NORTHERN_PROVINCES, generate
from nuanxin.synthetic.model import (
    CATEGORIES,
    CATEGORY_SHARES,
    KINDS,
    REQUIRES,
    TAGS,
    UNIT_DECAY,
    Dataset,
)
from nuanxin.synthetic.writers import FORMATS, write, write_csv, write_instance, write_jsonl

__all__ = (
    "CATEGORIES",
    "CATEGORY_SHARES",
    "FORMATS",
    "KINDS",
    "NORTHERN_PROVINCES",
    "REQUIRES",
    "TAGS",
    "UNIT_DECAY",
    "Dataset",
    "generate",
    "write",
    "write_csv",
    "write_instance",
    "write_jsonl",
)
