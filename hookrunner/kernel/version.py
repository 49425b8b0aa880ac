"""The package version (the root package re-exports it as ``hookrunner.__version__``)."""

__version__ = "0.1.0"
