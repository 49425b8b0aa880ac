CALLS = []


class AlphaHooks:
    def post_file_edit(self, file_path):
        CALLS.append(("alpha", file_path))


class _Zeta:
    def post_file_edit(self, file_path):
        CALLS.append(("zeta", file_path))


hooks = _Zeta()
