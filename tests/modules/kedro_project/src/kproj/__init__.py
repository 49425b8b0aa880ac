"""A Kedro project package for the fidelity tests."""
