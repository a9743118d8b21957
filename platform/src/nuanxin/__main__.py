"""``python -m nuanxin``."""

import sys

from nuanxin.cli import main

sys.exit(main())
