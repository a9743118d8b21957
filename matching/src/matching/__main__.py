"""``python -m matching solve INSTANCE.json [-o RESULT.json] [--time-limit SECONDS]``."""

import sys

from matching.cli import main

if __name__ == "__main__":
    sys.exit(main())
