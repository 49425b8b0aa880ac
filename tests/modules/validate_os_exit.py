"""Ends its process at import (os._exit(9)): validate must report it, never exit with 9."""

import os

os._exit(9)
