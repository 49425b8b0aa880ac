"""Exits at import (SystemExit 7): validate must report it, never exit with 7."""

import sys

sys.exit(7)
