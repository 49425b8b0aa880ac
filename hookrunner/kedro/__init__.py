"""hookrunner inside ``kedro run``: a Kedro project's ``conf/<env>/hooks.yaml`` in Kedro's own
hook manager (``pip install 'hookrunner[kedro]'``; README "Using hookrunner in a Kedro
project").

Kedro's auto-discovery loads ``entry.hooks`` (the ``kedro.hooks`` entry point) into every
session; it stays inert until a context's config loader finds a manifest (``locate``). Then
``manifests`` loads and checks it, ``bridge`` registers it with Kedro's pluggy manager (each
event's hooks split around Kedro's own: ``order``, ``around``) and ``record`` keeps the run in
the session store; ``workers`` rebuilds it in ParallelRunner's worker processes when the
manifest asks; ``listing`` is ``hookrunner list --kedro``. The layer sits above ``api`` and
below ``commands``: nothing else in hookrunner imports it.
"""
