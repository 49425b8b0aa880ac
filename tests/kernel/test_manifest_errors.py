"""Every bad input of issue 2, through the real CLI: exit 2, file:line:col, document path, hint.

Each case is a manifest (``{mod}`` is replaced by a freshly written hook module, ``{pkg}`` by a
package holding ``hooks.py``) and the exact start of the first reported problem.
"""

from __future__ import annotations

import json
import uuid

import pytest
from sources import source

HOOKS = source("manifest_errors_hooks")

# (id, manifest, expected "line:col: crumb: message" prefix, expected hint fragment or None)
CASES = [
    (
        "tab_indentation",
        "version: 1\nhooks:\n\t- name: a\n",
        "3:1: invalid YAML: a tab character",
        "indent with spaces, not tabs",
    ),
    (
        "unclosed_quote",
        'version: 1\nhooks:\n  - name: "a\n',
        "3:11: invalid YAML: the quote opened on line 3, column 11 is not closed",
        "close it with the same quote character",
    ),
    (
        "duplicate_key",
        "version: 1\nhooks: []\nversion: 1\n",
        "3:1: version: duplicate key 'version' (first defined at line 1)",
        "remove one of them",
    ),
    (
        "root_not_mapping",
        "- name: a\n- name: b\n",
        "1:1: the top level must be a mapping, not a list",
        "start with `version: 1`",
    ),
    ("empty_file", "", "1:1: the file is empty", None),
    ("only_comments", "# nothing here\n", "1:1: the file is empty", None),
    (
        "missing_version",
        "hooks: []\n",
        "1:1: missing required key 'version'",
        "start the file with `version: 1`",
    ),
    (
        "hook_without_name",
        "version: 1\nhooks:\n  - {event: before_node_run, call: '{mod}:log_start'}\n",
        "3:5: hooks[0]: missing required key 'name'",
        "every hook needs a name",
    ),
    (
        "unknown_key",
        "version: 1\nhookz: []\n",
        "2:1: hookz: unknown key 'hookz'",
        "did you mean 'hooks'?",
    ),
    (
        "unknown_hook_key",
        "version: 1\nhooks:\n  - name: a\n    event: before_node_run\n    call: {mod}:log_start\n"
        "    priorty: 3\n",
        "6:5: hooks[0] 'a' → priorty: unknown key 'priorty'",
        "did you mean 'priority'?",
    ),
    (
        "wrong_type_priority",
        "version: 1\nhooks:\n  - name: a\n    event: before_node_run\n    call: {mod}:log_start\n"
        "    priority: high\n",
        "6:15: hooks[0] 'a' → priority: expected an integer, got a string",
        None,
    ),
    (
        "wrong_type_hooks",
        "version: 1\nhooks: {a: 1}\n",
        "2:8: hooks: expected a list, got a mapping",
        None,
    ),
    (
        "wrong_type_event",
        "version: 1\nhooks:\n  - {name: a, event: 7, call: '{mod}:log_start'}\n",
        "3:22: hooks[0] 'a' → event: expected a string, got an integer",
        None,
    ),
    (
        "priority_too_high",
        "version: 1\nhooks:\n  - name: a\n    event: before_node_run\n    call: {mod}:log_start\n"
        "    priority: 1001\n",
        "6:15: hooks[0] 'a' → priority: must be between 0 and 1000, got 1001",
        None,
    ),
    (
        "priority_negative",
        "version: 1\nhooks:\n  - name: a\n    event: before_node_run\n    call: {mod}:log_start\n"
        "    priority: -1\n",
        "6:15: hooks[0] 'a' → priority: must be between 0 and 1000, got -1",
        None,
    ),
    (
        "unknown_event",
        "version: 1\nhooks:\n  - name: a\n    event: before_nod_run\n    call: {mod}:log_start\n",
        "4:12: hooks[0] 'a' → event: unknown event 'before_nod_run'",
        "did you mean 'before_node_run'?",
    ),
    (
        "module_not_found_in_package",
        "version: 1\nhooks:\n  - name: a\n    event: before_node_run\n    call: {pkg}.hookz:log_start\n",
        "5:11: hooks[0] 'a' → call: module '{pkg}.hookz' not found",
        "did you mean '{pkg}.hooks'?",
    ),
    (
        "package_misspelled",
        "version: 1\nhooks:\n  - name: a\n    event: before_node_run\n    call: {pkg}x.hooks:log_start\n",
        "5:11: hooks[0] 'a' → call: module '{pkg}x.hooks' not found",
        "did you mean '{pkg}.hooks'?",
    ),
    (
        "module_import_fails_with_cause",
        "version: 1\nhooks:\n  - name: a\n    event: before_node_run\n    call: {pkg}.broken:f\n",
        "5:11: hooks[0] 'a' → call: importing '{pkg}.broken' failed: "
        "No module named 'definitely_missing_dependency'",
        None,
    ),
    # A module with a syntax error is reported in the module itself (tests/kernel/test_manifest_one_pass.py).
    (
        "attribute_missing",
        "version: 1\nhooks:\n  - name: a\n    event: before_node_run\n    call: {mod}:log_strat\n",
        "5:11: hooks[0] 'a' → call: module '{mod}' has no attribute 'log_strat'",
        "did you mean 'log_start'?",
    ),
    (
        "not_callable",
        "version: 1\nhooks:\n  - name: a\n    event: before_node_run\n    call: {mod}.NOT_CALLABLE\n",
        "5:11: hooks[0] 'a' → call: '{mod}.NOT_CALLABLE' is an int, not callable",
        None,
    ),
    (
        "parameter_not_provided",
        "version: 1\nhooks:\n  - name: a\n    event: before_node_run\n    call: {mod}:typo\n",
        "5:11: hooks[0] 'a' → call: parameter 'nod' is neither an argument of event 'before_node_run'",
        "did you mean 'node'?",
    ),
    (
        "parameter_neither_event_nor_with",
        "version: 1\nhooks:\n  - name: a\n    event: before_node_run\n"
        "    call: {mod}:needs_level\n",
        "5:11: hooks[0] 'a' → call: parameter 'level' is neither an argument of event 'before_node_run' "
        "nor given under `with:`",
        "bind it with `with: {level: ...}`",
    ),
    (
        "with_key_not_a_parameter",
        "version: 1\nhooks:\n  - name: a\n    event: before_node_run\n"
        "    call: {mod}:needs_level\n    with: {levle: 1}\n",
        "6:11: hooks[0] 'a' → with: `with:` key 'levle' is not a parameter of the callable",
        "did you mean 'level'?",
    ),
    (
        "wrap_without_original_func",
        "version: 1\nhooks:\n  - name: a\n    event: session_metadata\n    call: {mod}:plain\n",
        "5:11: hooks[0] 'a' → call: a wrap hook must take 'original_func' as its first parameter",
        "def hook(original_func, ...)",
    ),
    (
        "duplicate_names",
        "version: 1\nhooks:\n  - {name: a, event: before_node_run, call: '{mod}:log_start'}\n"
        "  - {name: a, event: after_node_run, call: '{mod}:log_start'}\n",
        "4:12: hooks[1] 'a' → name: duplicate hook name 'a' (first used at line 3)",
        "rename one",
    ),
    (
        "python_object_tag",
        "version: 1\nhooks:\n  - name: !!python/object/apply:os.system [echo hi]\n",
        "3:11: hooks[0] → name: YAML tags are not allowed",
        "remove the '!' tag",
    ),
    (
        "custom_tag",
        "version: 1\nsettings: !include other.yaml\n",
        "2:11: settings: YAML tags are not allowed",
        "remove the '!' tag",
    ),
    (
        "unknown_mode",
        "version: 1\nhooks:\n  - name: a\n    event: before_node_run\n    call: {mod}:log_start\n"
        "    mode: notfy\n",
        "6:11: hooks[0] 'a' → mode: must be one of: notify, veto, firstresult, wrap, slot",
        "did you mean 'notify'?",
    ),
    (
        "mode_does_not_fit_style",
        "version: 1\nhooks:\n  - name: a\n    event: before_node_run\n    call: {mod}:log_start\n"
        "    mode: veto\n",
        "6:11: hooks[0] 'a' → mode: mode 'veto' does not fit event 'before_node_run' "
        "(a notify event)",
        "use mode: notify or leave mode out",
    ),
    (
        "command_cannot_wrap",
        "version: 1\nhooks:\n  - name: a\n    event: session_metadata\n    command: [echo, hi]\n",
        "5:14: hooks[0] 'a' → command: a command cannot wrap: it has no original_func to call",
        "make the wrapper a Python callable (`call:`) that runs the command itself",
    ),
    (
        "matcher_unknown_argument",
        "version: 1\nhooks:\n  - name: a\n    event: before_node_run\n    call: {mod}:log_start\n"
        "    when: {nod: 'clean_*'}\n",
        "6:12: hooks[0] 'a' → when.nod: matcher key 'nod' is not an argument of event "
        "'before_node_run'",
        "did you mean 'node'?",
    ),
    (
        "matcher_item_wrong_type",
        "version: 1\nhooks:\n  - name: a\n    event: before_node_run\n    call: {mod}:log_start\n"
        "    when: {node: [clean, [x]]}\n",
        "6:26: hooks[0] 'a' → when.node[1]: expected a string or number or boolean, got a list",
        None,
    ),
    (
        "command_item_wrong_type",
        "version: 1\nhooks:\n  - name: a\n    event: before_node_run\n    command: [echo, 3]\n",
        "5:21: hooks[0] 'a' → command[1]: expected a string, got an integer",
        None,
    ),
    (
        "timeout_bad_format",
        "version: 1\nhooks:\n  - name: a\n    event: before_node_run\n    call: {mod}:log_start\n"
        "    timeout: soon\n",
        "6:14: hooks[0] 'a' → timeout: 'soon' is not a duration: a number of seconds, "
        "or a number with a unit: 500ms, 10s, 2m, 1h",
        None,
    ),
    (
        "timeout_unit_in_words",
        "version: 1\nhooks:\n  - name: a\n    event: before_node_run\n    call: {mod}:log_start\n"
        "    timeout: 10 seconds\n",
        "6:14: hooks[0] 'a' → timeout: '10 seconds' is not a duration",
        "write 10s",
    ),
    (
        "call_without_attribute",
        "version: 1\nhooks:\n  - name: a\n    event: before_node_run\n    call: 'pkg:'\n",
        "5:11: hooks[0] 'a' → call: 'pkg:' is not a dotted path: 'package.module:function'",
        "name what to import after the ':', e.g. 'pkg:function'",
    ),
    (
        "indented_too_far",
        "version: 1\nhooks:\n  - name: a\n    event: before_node_run\n      call: x\n",
        "5:7: invalid YAML: `call:` is indented more than `event:` on line 4",
        "line it up with `event:` at column 5",
    ),
    (
        "dedented_between_levels",
        "version: 1\nhooks:\n  - name: a\n    event: before_node_run\n   call: x\n",
        "5:4: invalid YAML: `call:` at column 4 is not lined up with the keys above it",
        "line it up with `event:` on line 4 at column 5, or start a new item with '- ' at column 3",
    ),
    (
        "key_at_the_dash_column",
        "version: 1\nhooks:\n  - name: a\n    event: before_node_run\n  call: x\n",
        "5:3: invalid YAML: `call:` stands at the column of the list's '- ' (line 3) without "
        "starting a new item",
        "line it up with `event:` on line 4 at column 5 to keep it in the item above",
    ),
    (
        "colon_in_a_value",
        "version: 1\nhooks:\n  - name: a\n    event: before_node_run\n    call: x: y\n",
        "5:12: invalid YAML: a value contains ': '",
        'put the value in quotes: key: "text: more"',
    ),
    (
        "no_space_after_colon",
        "version: 1\nhooks:\n  - name: a\n    event:before_node_run\n    call: x\n",
        "4:5: invalid YAML: line 4 is not `key: value`: 'event:before_node_run'",
        "put a space after the ':': 'event: before_node_run'",
    ),
    (
        "unclosed_bracket",
        "version: 1\nhooks:\n  - name: a\n    event: [before_node_run\n",
        "4:12: invalid YAML: the '[' opened on line 4, column 12 is not closed",
        "close it with ']'",
    ),
    (
        "import_outside_allowed_modules",
        "version: 1\nsettings: {allowed_modules: [myproject]}\nhooks:\n  - name: a\n"
        "    event: before_node_run\n    call: {mod}:log_start\n",
        "6:11: hooks[0] 'a' → call: module '{mod}' is outside settings.allowed_modules (myproject)",
        "add '{mod}' to settings.allowed_modules",
    ),
    (
        "class_constructor_wrong_args",
        "version: 1\nhooks:\n  - name: a\n    class: {mod}:Broken\n",
        "4:12: hooks[0] 'a' → class: constructing Broken would fail: TypeError",
        "check `args:`",
    ),
    (
        "class_with_key_no_method_takes",
        "version: 1\nhooks:\n  - name: a\n    class: {mod}:Leveled\n    with: {levle: 2}\n",
        "5:11: hooks[0] 'a' → with: `with:` key 'levle' is not a parameter of any of its hook "
        "methods",
        "did you mean 'level'?",
    ),
    (
        "class_matcher_for_one_of_its_events",
        "version: 1\nhooks:\n  - name: a\n    class: {mod}:Leveled\n    when: {node: 'x*'}\n",
        "5:12: hooks[0] 'a' → when.node: matcher key 'node' is not an argument of event "
        "'session_start' (method session_start)",
        "`event:` limits a class to one event",
    ),
    (
        "missing_call_class_command",
        "version: 1\nhooks:\n  - name: a\n    event: before_node_run\n",
        "3:5: hooks[0] 'a': needs one of 'call', 'class' or 'command'",
        None,
    ),
    (
        "custom_event_shadows_builtin",
        "version: 1\nevents:\n  session_start: {args: [x]}\n",
        "3:3: events.session_start: custom event 'session_start' shadows a built-in event",
        "pick another name",
    ),
    (
        "parallel_needs_notify",
        "version: 1\nevents:\n  gate: {args: [x], style: veto, parallel: true}\n",
        "3:44: events.gate.parallel: parallel: true needs style notify",
        None,
    ),
    (
        "forget_unknown",
        "version: 1\nhooks:\n  - {name: log, event: before_node_run, call: '{mod}:log_start'}\n"
        "forget: [lgo]\n",
        "4:10: forget[0]: forget: no earlier hook is named 'lgo'",
        None,
    ),
    (
        "forget_own_hook",
        "version: 1\nhooks:\n  - {name: log, event: before_node_run, call: '{mod}:log_start'}\n"
        "forget: [log]\n",
        "4:10: forget[0]: forget: no earlier hook is named 'log'",
        "forget removes hooks loaded before this file; delete its entry instead",
    ),
    (
        "include_missing",
        "version: 1\ninclude: [common/missing.yaml]\n",
        "2:11: include[0]: included file 'common/missing.yaml' not found",
        None,
    ),
    (
        "include_name_too_long",
        "version: 1\ninclude: [" + "a" * 300 + ".yaml]\n",
        "2:11: include[0]: included file '" + "a" * 60 + "'… (305 characters): "
        "cannot read the file: File name too long",
        None,
    ),
    (
        "command_placeholder",
        "version: 1\nhooks:\n  - name: a\n    event: post_file_edit\n"
        "    command: [echo, '{{file_pth}}']\n",
        "5:14: hooks[0] 'a' → command: placeholder {file_pth} is not an argument of event 'post_file_edit'",
        "did you mean 'file_path'?",
    ),
    (
        "command_unclosed_quote",
        'version: 1\nhooks:\n  - name: a\n    event: post_file_edit\n    command: "echo \\"x"\n',
        "5:14: hooks[0] 'a' → command: the command cannot be split into arguments: "
        "No closing quotation",
        "close the quote, or write the command as a list",
    ),
    (
        "command_blank",
        'version: 1\nhooks:\n  - name: a\n    event: post_file_edit\n    command: "   "\n',
        "5:14: hooks[0] 'a' → command: the command is empty",
        "name a program, e.g. [ruff, check]",
    ),
    (
        "timeout_infinite",
        "version: 1\nhooks:\n  - name: a\n    event: post_file_edit\n    command: [echo]\n"
        "    timeout: .inf\n",
        "6:14: hooks[0] 'a' → timeout: must be at most 86400, got inf",
        None,
    ),
    (
        "matcher_empty_list",
        "version: 1\nhooks:\n  - name: a\n    event: before_node_run\n    command: [echo]\n"
        "    when: {tags: []}\n",
        "6:18: hooks[0] 'a' → when.tags: must not be empty",
        None,
    ),
]


def _write_modules(project) -> tuple[str, str]:
    mod = project.module(HOOKS)
    pkg = "pkg" + uuid.uuid4().hex[:10]
    project.write(f"{pkg}/__init__.py", "")
    project.write(f"{pkg}/hooks.py", "def log_start(node):\n    pass\n")
    project.write(f"{pkg}/broken.py", "import definitely_missing_dependency\n")
    project.write(f"{pkg}/syntax.py", "def f(:\n")
    return mod, pkg


@pytest.fixture
def bad_project(project):
    return project, *_write_modules(project)


def _fill(text: str, mod: str, pkg: str) -> str:
    return text.replace("{mod}", mod).replace("{pkg}", pkg).replace("{{", "{").replace("}}", "}")


def _assert_clean(result) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout


@pytest.fixture(scope="module")
def all_cases(tmp_path_factory):
    """Every case in its own file, validated by two real CLI runs (text and JSON) to stay fast."""
    from conftest import Project, run_cli

    project = Project(tmp_path_factory.mktemp("bad"))
    mod, pkg = _write_modules(project)
    files = []
    for case_id, manifest, _, _ in CASES:
        project.write(f"{case_id}.yaml", _fill(manifest, mod, pkg))
        files.append(f"{case_id}.yaml")
    text = run_cli("validate", *files, cwd=project.root)
    report = run_cli("validate", "--format", "json", *files, cwd=project.root)
    return mod, pkg, text, report


@pytest.mark.parametrize(
    ("case_id", "expected", "hint"),
    [(c[0], c[2], c[3]) for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_bad_input_exits_2_with_position_path_and_hint(all_cases, case_id, expected, hint):
    mod, pkg, text, report = all_cases
    _assert_clean(text)
    _assert_clean(report)
    name = f"{case_id}.yaml"
    mine = [line for line in text.stderr.splitlines() if line.startswith(name + ":")]
    assert mine, text.stderr
    first = mine[0]
    assert first.startswith(f"{name}:" + _fill(expected, mod, pkg)), first
    if hint is not None:
        assert first.endswith(")") and _fill(hint, mod, pkg) in first.split(" (", 1)[1], first
    # The same problem in JSON, with line, column and document path as fields.
    entry = next(r for r in json.loads(report.stdout) if r["file"] == name)
    assert entry["valid"] is False
    problem = entry["problems"][0]
    assert problem["text"] == first
    line, column = expected.split(":")[:2]
    assert (problem["file"], problem["line"], problem["column"]) == (name, int(line), int(column))


def test_a_failing_constructor_is_found_by_loading_not_by_validate(bad_project, cli):
    """validate constructs no hooks class (its args are checked against the signature);
    a command that loads the manifests constructs it and reports its failure there."""
    project, mod, _ = bad_project
    project.write(
        "hooks.yaml",
        f"version: 1\nhooks:\n  - name: a\n    class: {mod}:Broken\n    args: {{threshold: 3}}\n",
    )
    checked = cli("validate", "hooks.yaml", cwd=project.root)
    assert checked.returncode == 0, checked.stderr
    loaded = cli("list", cwd=project.root)
    _assert_clean(loaded)
    assert loaded.stderr.startswith(
        "hooks.yaml:5:11: hooks[0] 'a' → args: constructing Broken failed: RuntimeError: "
        "cannot connect"
    )


def test_same_errors_reach_every_command(bad_project, cli):
    """`list` and `emit` load manifests the same way: exit 2 and the same located message."""
    project, mod, _ = bad_project
    project.write(
        "hooks.yaml",
        f"version: 1\nhooks:\n  - name: a\n    event: before_node_run\n    call: {mod}:typo\n",
    )
    for args in (["list"], ["emit", "before_node_run"]):
        result = cli(*args, cwd=project.root)
        _assert_clean(result)
        assert result.stderr.startswith("hooks.yaml:5:11: hooks[0] 'a' → call: parameter 'nod'")


def test_every_problem_is_reported_together(bad_project, cli):
    """Schema problems and semantic problems of one file come out in one run, in file order."""
    project, mod, _ = bad_project
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - name: a
            event: before_node_run
            call: {mod}:typo
          - name: b
            event: before_node_run
            call: {mod}:log_start
            priority: 5000
          - name: c
            event: sesion_start
            call: {mod}:log_start
        """,
    )
    result = cli("validate", "hooks.yaml", cwd=project.root)
    _assert_clean(result)
    lines = result.stderr.splitlines()
    assert [line.split(": ")[0] for line in lines[:3]] == [
        "hooks.yaml:5:11",
        "hooks.yaml:9:15",
        "hooks.yaml:11:12",
    ]
    assert lines[-1] == "3 problems in 1 file(s)"


def test_include_cycle(project, cli):
    project.write("hooks.yaml", "version: 1\ninclude: [common/a.yaml]\n")
    project.write("common/a.yaml", "version: 1\ninclude: [b.yaml]\n")
    project.write("common/b.yaml", "version: 1\ninclude: [../hooks.yaml]\n")
    result = cli("validate", "hooks.yaml", cwd=project.root)
    _assert_clean(result)
    first = result.stderr.splitlines()[0]
    assert first.endswith(
        "b.yaml:2:11: include[0]: include cycle: hooks.yaml → a.yaml → b.yaml → hooks.yaml "
        "(remove one of the includes)"
    ), first


def test_alias_bomb(project, cli):
    rows = ["version: 1", 'a: &a ["x","x","x","x","x","x","x","x","x"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        rows.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    project.write("hooks.yaml", "\n".join(rows) + "\n")
    result = cli("validate", "hooks.yaml", cwd=project.root)
    _assert_clean(result)
    first = result.stderr.splitlines()[0]
    assert first.startswith("hooks.yaml:")
    assert "the document expands to more than" in first and "alias bomb" in first


def test_file_over_size_limit(project, cli, monkeypatch):
    monkeypatch.setenv("HOOKRUNNER_MAX_FILE_BYTES", "200")
    project.write("hooks.yaml", "version: 1\n" + "# padding\n" * 40)
    result = cli("validate", "hooks.yaml", cwd=project.root)
    _assert_clean(result)
    assert result.stderr.startswith(
        "hooks.yaml:1:1: the file is 411 bytes, over the 200-byte limit"
    )
    assert "HOOKRUNNER_MAX_FILE_BYTES" in result.stderr


def test_missing_env_var_without_default(bad_project, cli, monkeypatch):
    project, mod, _ = bad_project
    monkeypatch.delenv("HOOKRUNNER_TEST_UNSET_VAR", raising=False)
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - name: a
            event: before_node_run
            call: {mod}:needs_level
            with: {{level: "${{env:HOOKRUNNER_TEST_UNSET_VAR}}"}}
        """,
    )
    result = cli("validate", "hooks.yaml", cwd=project.root)
    _assert_clean(result)
    assert result.stderr.startswith(
        "hooks.yaml:6:19: hooks[0] 'a' → with.level: environment variable "
        "'HOOKRUNNER_TEST_UNSET_VAR' is not set and has no default"
    )


def test_secret_from_env_is_never_printed(bad_project, cli, monkeypatch):
    """A value interpolated from the environment that fails the schema is not echoed."""
    project, mod, _ = bad_project
    monkeypatch.setenv("HOOKRUNNER_TEST_SECRET", "hunter2-very-secret")
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - name: a
            event: before_node_run
            call: {mod}:log_start
            timeout: "${{env:HOOKRUNNER_TEST_SECRET}}"
        """,
    )
    result = cli("validate", "hooks.yaml", cwd=project.root)
    _assert_clean(result)
    assert "hooks.yaml:6:14: hooks[0] 'a' → timeout" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout


def test_not_utf8_and_missing_file(project, cli):
    (project.root / "hooks.yaml").write_bytes(b"version: 1\nname: \xff\xfe\n")
    result = cli("validate", "hooks.yaml", cwd=project.root)
    _assert_clean(result)
    assert "hooks.yaml" in result.stderr and "not UTF-8" in result.stderr
    result = cli("validate", "nowhere.yaml", cwd=project.root)
    _assert_clean(result)
    assert "nowhere.yaml" in result.stderr and "file not found" in result.stderr
    result = cli("validate", "x" * 300 + ".yaml", cwd=project.root)
    _assert_clean(result)
    assert ".yaml: cannot read the file: File name too long" in result.stderr


def test_secrets_from_env_stay_out_of_errors_and_listings(bad_project, cli, monkeypatch):
    project, mod, _ = bad_project
    monkeypatch.setenv("HOOKRUNNER_TEST_TOKEN", "tok-3f9a1c")
    monkeypatch.setenv("HOOKRUNNER_TEST_TARGET", "tok_module_7b2e.hooks:f")
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - name: notify
            event: post_file_edit
            command: [echo, "--token=${{env:HOOKRUNNER_TEST_TOKEN}}", "{{file_path}}"]
          - name: log
            event: before_node_run
            call: {mod}:log_start
        """,
    )
    listing = cli("list", "--format", "json", cwd=project.root)
    assert listing.returncode == 0, listing.stderr
    rows = {r["name"]: r for r in json.loads(listing.stdout)}
    assert rows["notify"]["target"] == "echo --token=<from env> {file_path}"
    assert "tok-3f9a1c" not in cli("list", cwd=project.root).stdout

    project.write(
        "hooks.yaml",
        """
        version: 1
        hooks:
          - name: log
            event: before_node_run
            call: "${env:HOOKRUNNER_TEST_TARGET}"
          - name: notify
            event: post_file_edit
            command: ["${env:HOOKRUNNER_TEST_TOKEN}"]
        """,
    )
    result = cli("validate", "hooks.yaml", cwd=project.root)
    _assert_clean(result)
    lines = result.stderr.splitlines()
    assert lines[0] == "hooks.yaml:5:11: hooks[0] 'log' → call: module '<from env>' not found"
    assert lines[1].startswith("hooks.yaml:8:14: hooks[1] 'notify' → command: command '<from env>'")
    assert "tok" not in result.stderr
