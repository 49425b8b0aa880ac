"""Claude Code: its hook protocol (``protocol``), one hook call end to end (``handle``), the
session record of an agent (``journal``) and its settings file (``settings``)."""
