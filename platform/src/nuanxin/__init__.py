"""Nuanxin (暖心): the web platform that matches winter aid to households in difficulty."""

import os

__version__ = "0.1.0"

# Piccolo finds its engine through this module; every entry point (app, CLI, tests, the
# piccolo command) imports the package first, so this one default serves them all.
os.environ.setdefault("PICCOLO_CONF", "nuanxin.piccolo_conf")
