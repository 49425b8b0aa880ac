"""The command line: one module per command, the typer app (``app``) and the console entry
point (``launch``), which answers a plain ``hookrunner validate`` without the CLI framework."""
