"""Calling hooks: compiled hooks and plans, the general loop, the fast path, results."""
