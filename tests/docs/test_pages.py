"""The README and the docs pages stay true: short front door, links that resolve, a complete settings table, and
shell snippets that the commands they name accept (issue 21)."""

import argparse
import json
import re
import runpy
import subprocess
import sys
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nox.registry
import pytest

from server.cli import build_parser
from tests.docs.markdown import PAGES, ROOT, SHELL_PAGES, anchors, fenced_languages, links, relative, shell_commands

# Pages a link may name before they exist (written in parallel on another branch); none at the moment.
PENDING_PAGES: set[str] = set()


def test_the_readme_is_at_most_8_kib() -> None:
    # A promise of issue 21: the front door says what this is, the two commands, what is where, and links.
    size = len((ROOT / "README.md").read_bytes())
    assert size <= 8192, f"README.md is {size} bytes; move detail into docs/"


@pytest.mark.parametrize("page", PAGES, ids=relative)
def test_relative_links_point_at_files_and_headings_that_exist(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    broken = []
    for href in links(text):
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or href.startswith("ref:"):  # the web, or a guide's link into the reference
            continue
        target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
        if not target.is_relative_to(ROOT):
            broken.append(f"{href} (outside the repository)")
        elif not target.exists():
            if relative(target) not in PENDING_PAGES:
                broken.append(f"{href} (no such file)")
        # A guide's headings are partly generated (the error catalogue), and the docs site's build checks the links
        # into them; other pages' fragments are checked here as GitHub renders them.
        elif (
            parts.fragment
            and target.suffix == ".md"
            and "guides" not in target.parts
            and parts.fragment not in anchors(target.read_text(encoding="utf-8"))
        ):
            broken.append(f"{href} (no such heading)")
    assert not broken, f"{relative(page)}: " + ", ".join(broken)


def test_no_page_points_outside_the_repository_in_code_either() -> None:
    # ADR 0001 once cited `../shared/reference/…`, a file no reader of the repository has.
    offenders = [relative(p) for p in PAGES if re.search(r"`\.\./[^`]*`", p.read_text(encoding="utf-8"))]
    assert not offenders


def _configuration_variables() -> set[str]:
    source = (ROOT / "server" / "config.py").read_text(encoding="utf-8")
    return set(re.findall(r"\"(OG_[A-Z0-9_]+)\"", source))


def test_the_configuration_page_lists_exactly_the_variables_the_server_reads() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(OG_[A-Z0-9_]+)` \|", page, flags=re.M))
    read = _configuration_variables()
    assert read, "server/config.py reads no OG_ variable?"
    assert read - documented == set(), "read by server/config.py, missing from docs/configuration.md"
    assert documented - read == set(), "in docs/configuration.md, not read by server/config.py"


@pytest.mark.parametrize("page", SHELL_PAGES, ids=relative)
def test_every_code_block_is_a_checked_kind(page: Path) -> None:
    # Shell blocks are checked below; Mermaid blocks are diagrams. Anything else needs a test that runs it.
    assert set(fenced_languages(page.read_text(encoding="utf-8"))) <= {"sh", "mermaid"}


# --- shell snippets -------------------------------------------------------------------------------------------------


@cache
def _nox_sessions() -> set[str]:
    runpy.run_path(str(ROOT / "noxfile.py"))
    return set(nox.registry.get())


@cache
def _module_help(module: str) -> str:
    run = subprocess.run(
        [sys.executable, "-m", module, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, f"python -m {module} --help failed: {run.stderr}"
    return run.stdout


def _check_options(module: str, args: list[str]) -> None:
    """Every option the snippet passes is one `python -m module` documents in its --help."""
    options = {arg.split("=", 1)[0] for arg in args if arg.startswith("--")}
    missing = {option for option in options if not re.search(rf"(?<![\w-]){option}(?![\w-])", _module_help(module))}
    assert not missing, f"python -m {module} has no option {sorted(missing)}"


def _option_strings(parser: argparse.ArgumentParser) -> set[str]:
    found = set()
    for action in parser._actions:
        found |= set(action.option_strings)
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _option_strings(sub)
    return found


def _check_og_server(args: list[str]) -> None:
    placeholders = {"ACCOUNT_ID": "acct_01jc3md0a1b2c3d4e5f6g7h8j9", "MSG_ID": "msg_01jc3md0a1b2c3d4e5f6g7h8j9"}
    parser = build_parser()
    try:
        parser.parse_args([placeholders.get(arg, arg) for arg in args])
    except SystemExit as exc:  # argparse's way of refusing
        raise AssertionError(f"og-server refuses {args}") from exc
    # argparse accepts an abbreviation of an option; a page must spell it out.
    options = {arg.split("=", 1)[0] for arg in args if arg.startswith("--")}
    assert options <= _option_strings(parser), f"og-server has no option {sorted(options - _option_strings(parser))}"


def _ci_pins() -> str:
    return (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def _check_nox(args: list[str]) -> None:
    assert args[:1] == ["-s"], f"nox {args}: name one session with -s"
    assert len(args) >= 2, f"nox {args}: name one session with -s"
    session, passed = args[1], args[3:] if args[2:3] == ["--"] else args[2:]
    assert session in _nox_sessions(), f"noxfile.py has no session {session!r}"
    if session == "ci":
        assert "python3 -m nox -s ci" in _ci_pins(), ".ci/run no longer runs the README's test command"
    if session == "serve":
        _check_og_server(["serve", *passed])
    elif session == "bench":
        _check_options("benchmarks.suite", passed)
    elif session == "tests" and "-m" in passed:
        markers = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
        for marker in re.findall(r"\w+", passed[passed.index("-m") + 1]):
            assert marker in {"not", "and", "or"} or f'"{marker}:' in markers, f"no pytest marker {marker!r}"
    else:
        assert not passed, f"nox -s {session} takes no arguments here"


def _check_curl(args: list[str]) -> None:
    url = next(arg for arg in args if arg.startswith("http"))
    path = urlsplit(url).path
    document = json.loads((ROOT / "spec" / "dist" / "openapi.json").read_text(encoding="utf-8"))
    server_paths = {url_.get("url", "") for url_ in document.get("servers", [])}
    candidates = {path} | {path.removeprefix(urlsplit(base).path) for base in server_paths}
    assert any("get" in document["paths"].get(candidate, {}) for candidate in candidates), f"no GET {path} in the spec"


def _check(command: list[str]) -> None:
    program, args = command[0], command[1:]
    if program in {"python", "python3"} and args[:1] == ["-m"]:
        module, rest = args[1], args[2:]
        if module == "pip":
            assert rest[:1] == ["install"]
            pins = [arg for arg in rest if arg.startswith("nox")]
            assert pins, f"pip install {rest}: only nox is installed this way"
            assert all(pin in _ci_pins() for pin in pins), f"{pins} is not the nox that .ci/run installs"
        elif module == "nox":
            _check_nox(rest)
        else:
            _check_options(module, rest)
    elif program == "og-server":
        _check_og_server(args)
    elif program == "curl":
        _check_curl(args)
    else:
        raise AssertionError(f"no check for a `{program}` snippet: add one to tests/docs/test_pages.py")


def _commands() -> list[tuple[str, list[str]]]:
    return [
        (f"{relative(page)}: {' '.join(command)}", command)
        for page in SHELL_PAGES
        for command in shell_commands(page.read_text(encoding="utf-8"))
    ]


@pytest.mark.parametrize("command", [c for _, c in _commands()], ids=[i for i, _ in _commands()])
def test_every_shell_snippet_is_a_command_that_accepts_its_arguments(command: list[str]) -> None:
    _check(command)


def test_the_readme_keeps_its_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = [" ".join(c) for c in shell_commands(readme)]
    assert "python3 -m nox -s serve" in commands
    assert "python3 -m nox -s ci" in commands
