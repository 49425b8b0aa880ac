"""The host: a live registry behind ``emit`` (``runner``), hot reload (``reload``)."""
