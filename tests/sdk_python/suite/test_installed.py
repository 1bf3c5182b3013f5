"""The suite exercises the built wheel, not the source tree."""

import os
import sys
from pathlib import Path

import og_records


def test_og_records_comes_from_the_installed_wheel() -> None:
    package = Path(og_records.__file__).resolve().parent
    assert Path(sys.prefix).resolve() in package.parents
    assert (package / "py.typed").exists()
    assert (package / "_generated" / "api" / "persons" / "__init__.py").exists()
    assert "sdk-python" not in os.fspath(package)
