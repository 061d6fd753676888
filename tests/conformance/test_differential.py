"""Differential tests: dockyard's `config` against Docker Compose v2.40.3.

Both tools run on the same files, in the same folder, with the same minimal
environment and HOME, so their outputs (absolute paths included) compare
directly, with nothing to normalize.

- tests/corpus/valid/*.yaml: both accept; `config --format json` parses to
  equal documents.
- tests/corpus/invalid/*.yaml: both reject (exit non-zero).
- tests/projects/<name>/: both accept, and every listing of `config`
  (`--services`, `--volumes`, ..., `-q`, `--hash '*'`, `--no-interpolate`)
  matches.

The reference's verdict is checked first: a valid corpus file that compose
rejects (or an invalid one it accepts) is a bug in the corpus, and the
failure says so.
"""

from __future__ import annotations

import difflib
import json
import shlex
import subprocess

import pytest

import reference
from reference import Case, Variant

# The one place where dockyard intentionally differs from compose.
# Key: a case id ("valid/x.yaml", "invalid/x.yaml", "projects/name") or a
# case id and variant ("projects/name::hash"); value: why we differ.
DELIBERATE_DIFFERENCES: dict[str, str] = {
    "valid/quirk-include-unknown-key.yaml":
        "compose v2 silently ignores an include entry whose key is misspelled (`paths:`), because it "
        "processes include before validating; the compose schema forbids the key and we report it "
        "with a suggestion (tests/conformance/test_schema_agreement.py checks that we reject it)",
}

JSON = Variant("json", ("--format", "json"), "json")
# The default yaml output, compared as text: same quoting, indentation, order.
YAML = Variant("yaml", (), "lines")
PROJECT_VARIANTS = [
    JSON,
    YAML,
    Variant("no-interpolate", ("--no-interpolate", "--format", "json"), "json"),
    Variant("services", ("--services",), "sorted-lines"),
    Variant("volumes", ("--volumes",), "sorted-lines"),
    Variant("networks", ("--networks",), "sorted-lines"),
    # compose sorts the profile names itself, so their order is checked.
    Variant("profiles", ("--profiles",), "lines"),
    # One line per service, duplicates kept (two services may share an image).
    Variant("images", ("--images",), "sorted-lines"),
    Variant("quiet", ("-q",), "lines"),
    Variant("hash", ("--hash", "*"), "sorted-lines"),
]

VALID = reference.corpus_cases("valid")
INVALID = reference.corpus_cases("invalid")
PROJECTS = reference.project_cases()


def _skip_if_deliberate(case: Case, variant: Variant | None = None) -> None:
    for key in (case.id, f"{case.id}::{variant.name}" if variant else None):
        if key in DELIBERATE_DIFFERENCES:
            pytest.skip(f"deliberate difference: {DELIBERATE_DIFFERENCES[key]}")


def _describe(tool: str, result: subprocess.CompletedProcess[str]) -> str:
    command = shlex.join(result.args) if isinstance(result.args, list) else str(result.args)
    return (f"--- {tool}: exit {result.returncode}\n$ {command}\n"
            f"stderr:\n{_indent(result.stderr)}\nstdout (first 20 lines):\n"
            f"{_indent(chr(10).join(result.stdout.splitlines()[:20]))}")


def _reproduce(case: Case, variant: Variant) -> str:
    """A shell line that reruns the case by hand (HOME aside)."""
    env = " ".join(f"{key}={shlex.quote(value)}" for key, value in case.environ)
    return (f"reproduce: cd {shlex.quote(str(case.cwd))} && {env + ' ' if env else ''}"
            f"dockyard {shlex.join(case.command(variant.args))}")


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.rstrip().splitlines()) or "    (empty)"


def _assert_no_crash(result: subprocess.CompletedProcess[str]) -> None:
    # A Python traceback exits non-zero too: it must not pass for a verdict.
    if "Traceback (most recent call last)" in result.stderr:
        pytest.fail("dockyard crashed instead of answering\n" + _describe("dockyard", result),
                    pytrace=False)


def _assert_accepted(case: Case, variant: Variant, theirs, ours, what: str) -> None:
    if theirs.returncode != 0:
        pytest.fail(f"{what} bug: Docker Compose rejects {case.id} ({variant.name}); "
                    f"fix the {what}\n" + _describe("reference", theirs), pytrace=False)
    _assert_no_crash(ours)
    if ours.returncode != 0:
        pytest.fail(f"dockyard rejects {case.id} ({variant.name}) but compose accepts it\n"
                    f"{_reproduce(case, variant)}\n"
                    + _describe("dockyard", ours) + "\n" + _describe("reference", theirs),
                    pytrace=False)


def json_differences(theirs, ours, path: str = "$") -> list[str]:
    """Where two JSON documents differ, one line per differing path."""
    if isinstance(theirs, dict) and isinstance(ours, dict):
        lines = []
        for key in sorted(set(theirs) | set(ours)):
            where = f"{path}.{key}"
            if key not in ours:
                lines.append(f"{where}: missing in dockyard (compose: {_short(theirs[key])})")
            elif key not in theirs:
                lines.append(f"{where}: extra in dockyard ({_short(ours[key])})")
            else:
                lines.extend(json_differences(theirs[key], ours[key], where))
        return lines
    if isinstance(theirs, list) and isinstance(ours, list) and len(theirs) == len(ours):
        lines = []
        for index, (left, right) in enumerate(zip(theirs, ours)):
            lines.extend(json_differences(left, right, f"{path}[{index}]"))
        return lines
    if theirs != ours or type(theirs) is not type(ours):
        return [f"{path}: compose {_short(theirs)} != dockyard {_short(ours)}"]
    return []


def _short(value) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."


def _assert_same_json(case: Case, variant: Variant, theirs, ours) -> None:
    expected = json.loads(theirs.stdout)
    try:
        actual = json.loads(ours.stdout)
    except json.JSONDecodeError as exc:
        pytest.fail(f"dockyard's output for {case.id} ({variant.name}) is not JSON: {exc}\n"
                    + _describe("dockyard", ours), pytrace=False)
    if expected == actual:
        return
    differences = json_differences(expected, actual)
    left = json.dumps(expected, indent=2, sort_keys=True).splitlines()
    right = json.dumps(actual, indent=2, sort_keys=True).splitlines()
    diff = list(difflib.unified_diff(left, right, "compose", "dockyard", lineterm="", n=2))
    pytest.fail(
        f"config output differs for {case.id} ({variant.name})\n{_reproduce(case, variant)}\n"
        + "\n".join(differences[:40])
        + (f"\n... and {len(differences) - 40} more" if len(differences) > 40 else "")
        + "\n\n" + "\n".join(diff[:200]),
        pytrace=False,
    )


def _assert_same_lines(case: Case, variant: Variant, theirs, ours) -> None:
    expected, actual = theirs.stdout.splitlines(), ours.stdout.splitlines()
    if variant.compare == "sorted-lines":
        expected, actual = sorted(expected), sorted(actual)
    if actual != expected:
        pytest.fail(f"`config {' '.join(variant.args)}` differs for {case.id}\n"
                    f"{_reproduce(case, variant)}\n"
                    + "\n".join(difflib.unified_diff(expected, actual, "compose", "dockyard",
                                                     lineterm="")), pytrace=False)


@pytest.mark.reference
@pytest.mark.parametrize("case,variant", [(case, v) for case in VALID for v in (JSON, YAML)],
                         ids=[f"{case.id}::{v.name}" for case in VALID for v in (JSON, YAML)])
def test_valid_corpus_file_loads_the_same(case: Case, variant: Variant, differential) -> None:
    _skip_if_deliberate(case)
    theirs = differential.run("reference", case, variant)
    ours = differential.run("dockyard", case, variant)
    _assert_accepted(case, variant, theirs, ours, "corpus")
    if variant.compare == "json":
        _assert_same_json(case, variant, theirs, ours)
    else:
        _assert_same_lines(case, variant, theirs, ours)


@pytest.mark.reference
@pytest.mark.parametrize("case,variant", [(case, JSON) for case in INVALID],
                         ids=[case.id for case in INVALID])
def test_invalid_corpus_file_is_rejected(case: Case, variant: Variant, differential) -> None:
    _skip_if_deliberate(case)
    theirs = differential.run("reference", case, variant)
    ours = differential.run("dockyard", case, variant)
    if theirs.returncode == 0:
        pytest.fail(f"corpus bug: Docker Compose accepts {case.id}; move it to valid/ or fix it\n"
                    + _describe("reference", theirs), pytrace=False)
    _assert_no_crash(ours)
    if ours.returncode == 0:
        pytest.fail(f"dockyard accepts {case.id} but compose rejects it\n"
                    f"{_reproduce(case, variant)}\n" + _describe("reference", theirs)
                    + "\n" + _describe("dockyard", ours), pytrace=False)


@pytest.mark.reference
@pytest.mark.parametrize(
    "case,variant",
    [(case, variant) for case in PROJECTS for variant in PROJECT_VARIANTS],
    ids=[f"{case.id}::{variant.name}" for case in PROJECTS for variant in PROJECT_VARIANTS],
)
def test_project_config_matches(case: Case, variant: Variant, differential) -> None:
    _skip_if_deliberate(case, variant)
    theirs = differential.run("reference", case, variant)
    ours = differential.run("dockyard", case, variant)
    _assert_accepted(case, variant, theirs, ours, "project")
    if variant.compare == "json":
        _assert_same_json(case, variant, theirs, ours)
    else:
        _assert_same_lines(case, variant, theirs, ours)


def test_corpus_and_projects_are_big_enough() -> None:
    # Guards against a glob silently matching nothing after a move.
    assert len(VALID) >= 50 and len(INVALID) >= 40 and len(PROJECTS) >= 15


def test_every_corpus_file_says_what_it_covers() -> None:
    for case in VALID + INVALID:
        first = (case.cwd / case.global_args[1]).read_text().splitlines()[:1]
        assert first and first[0].startswith("# "), (
            f"{case.id}: the first line must be '# <what it covers>'")


def test_deliberate_differences_name_existing_cases() -> None:
    known = {case.id for case in VALID + INVALID + PROJECTS}
    known |= {f"{case.id}::{variant.name}" for case in PROJECTS for variant in PROJECT_VARIANTS}
    unknown = sorted(set(DELIBERATE_DIFFERENCES) - known)
    assert not unknown, f"DELIBERATE_DIFFERENCES names cases that do not exist: {unknown}"
