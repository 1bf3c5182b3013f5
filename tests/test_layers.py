"""The import-linter contracts in pyproject.toml (docs/adr/0004-layers.md) hold for the code, and each one fails
when a module breaks it: a contract that cannot fail documents nothing."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(tree: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    selected = [arg for contract in contracts for arg in ("--contract", contract)]
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", "--config", str(tree / "pyproject.toml"), *selected],
        cwd=tree,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{tree}:{tree / 'sdk-python'}"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the Python sources and the contracts, to break on purpose."""
    copy = tmp_path_factory.mktemp("layers")
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "static", "templates", "node_modules")
    shutil.copytree(ROOT / "server", copy / "server", ignore=skip)
    shutil.copytree(ROOT / "sdk-python" / "og_records", copy / "sdk-python" / "og_records", ignore=skip)
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def test_the_code_keeps_every_contract(tree: Path) -> None:
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("contract", "module", "source"),
    [
        ("layers", "server/domain/upward.py", "from server.services import events\n"),
        ("layers", "server/representations/upward.py", "from server.services import releases\n"),
        ("layers", "server/services/upward.py", "from server.api import releases\n"),
        ("layers", "server/db/upward.py", "from server.domain import money\n"),
        ("layers", "server/web/sideways.py", "from server.cli import main\n"),
        ("workers-never-import-handlers", "server/qc/upward.py", "from server.api import tracks\n"),
        ("workers-never-import-handlers", "server/webhooks/upward.py", "from server.web import pages\n"),
        ("sdk-is-not-the-server", "sdk-python/og_records/leak.py", "from server import config\n"),
    ],
)
def test_a_contract_fails_on_an_import_that_breaks_it(tree: Path, contract: str, module: str, source: str) -> None:
    violating = tree / module
    violating.write_text(source)
    try:
        result = lint_imports(tree, contract)
    finally:
        violating.unlink()
    assert result.returncode == 1, result.stdout + result.stderr
    assert "0 kept, 1 broken" in result.stdout
    assert module.removeprefix("sdk-python/").removesuffix(".py").replace("/", ".") in result.stdout
