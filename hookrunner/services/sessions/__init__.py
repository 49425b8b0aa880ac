"""Sessions and their SQLite store (``store``), with its connection pool (``pool``)."""
