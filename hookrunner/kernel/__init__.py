"""The kernel: events, manifests, validation, the registry and the runtime that calls hooks.

Nothing here imports from the layers above (host, services, pipeline, commands).
"""
