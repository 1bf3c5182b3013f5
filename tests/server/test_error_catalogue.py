"""Every problem code the server can answer with is documented in the spec's catalogue."""

import re
from pathlib import Path

from server.openapi.specification import raw_document

SERVER = Path(__file__).resolve().parents[2] / "server"


def test_every_code_the_server_raises_is_in_the_catalogue() -> None:
    catalogue = raw_document()["x-error-codes"]
    raised: set[str] = set()
    for source in SERVER.rglob("*.py"):
        text = source.read_text()
        raised.update(re.findall(r"ApiProblem\(\s*\d{3},\s*\"([a-z_]+)\"", text))
        raised.update(re.findall(r"DomainError\(\s*\"([a-z_]+)\"", text))
        raised.update(re.findall(r"^\s+\d{3}: \"([a-z_]+)\",$", text, flags=re.MULTILINE))
    assert raised, "the scan found no codes: the pattern is stale"
    assert sorted(raised - set(catalogue)) == []
    for code, entry in catalogue.items():
        assert {"status", "title", "description"} <= set(entry), code
