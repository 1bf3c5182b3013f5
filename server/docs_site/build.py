"""Build the docs site into `server/docs_site/site/` from the bundled spec and the Markdown guides.

    python -m server.docs_site.build [--out DIR]

- `index.html`: the API reference, rendered by `redocly build-docs` with the Redoc bundle inlined (no CDN: it works
  offline), telemetry off, and our template (a bar linking the guides, and a Content-Security-Policy that forbids
  every load from another origin).
- `guides/<slug>.html`: the guides in `docs/guides/`, rendered with markdown-it-py. A directive line
  `<!-- spec:NAME [ARG] -->` is replaced by Markdown generated from the spec (error codes, webhook events, scopes,
  headers, schema descriptions), so those parts never drift from the contract. Links are checked while building:
  `ref:<operationId>` points into the reference, `<slug>.md[#anchor]` to a guide; an unknown operation, guide or
  anchor fails the build.

Build-time only: it needs the dev extras (markdown-it-py) and the Node tools in `codegen/`. The server only serves
the result (`routes.py`).
"""

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.anchors import anchors_plugin

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(__file__).resolve().parent / "site"
GUIDES_SOURCE = ROOT / "docs" / "guides"
THEME = ROOT / "docs" / "theme"
SPEC = ROOT / "spec" / "dist" / "openapi.json"
REDOCLY = ROOT / "codegen" / "node_modules" / ".bin" / "redocly"

# The order of the guides in the navigation; each is docs/guides/<slug>.md.
GUIDES: tuple[str, ...] = (
    "quickstart",
    "authentication",
    "rate-limits",
    "errors",
    "pagination",
    "idempotency",
    "webhooks",
    "sandbox",
    "payees",
    "uploads",
    "smart-links",
)
HTTP_METHODS = ("get", "put", "post", "patch", "delete", "head", "options")
DIRECTIVE = re.compile(r"^<!-- spec:(?P<name>[a-z-]+)(?: (?P<arg>\S+))? -->$", re.MULTILINE)


class BuildError(Exception):
    """The guides do not match the spec (unknown operation, guide, anchor or directive)."""


@dataclass(frozen=True)
class Guide:
    slug: str
    title: str
    summary: str
    body_html: str


def tag_slug(tag: str) -> str:
    """The URL segment Redoc gives a tag: lower case, other characters as dashes."""
    return re.sub(r"[^a-z0-9]+", "-", tag.lower()).strip("-")


def reference_url(operation: dict[str, Any]) -> str:
    """Where the reference renders an operation or webhook (Redoc's hash routes: `#/<tag>/<operationid>`)."""
    return f"/docs#/{tag_slug(operation['tags'][0])}/{operation['operationId'].lower()}"


def operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every operation and webhook of the document by operationId."""
    found: dict[str, dict[str, Any]] = {}
    for section in ("paths", "webhooks"):
        for item in document.get(section, {}).values():
            for method in HTTP_METHODS:
                if method in item:
                    found[item[method]["operationId"]] = item[method]
    return found


# --- Markdown generated from the spec -------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _first_paragraph(text: str) -> str:
    return _cell(text.strip().split("\n\n")[0])


def error_codes(document: dict[str, Any], _arg: str | None) -> str:
    """One heading per code (so `errors.md#<code>` links work), in the catalogue's order."""
    parts = []
    for code, entry in document["x-error-codes"].items():
        parts.append(f"### `{code}`\n\n**{entry['status']} {entry['title']}.** {entry['description']}\n")
    return "\n".join(parts)


def webhook_events(document: dict[str, Any], _arg: str | None) -> str:
    rows = ["| event | sent when | payload |", "| --- | --- | --- |"]
    for event, item in document["webhooks"].items():
        operation = item["post"]
        rows.append(
            f"| `{event}` | {_first_paragraph(operation['description'])} | [schema](ref:{operation['operationId']}) |"
        )
    return "\n".join(rows) + "\n"


def scopes(document: dict[str, Any], _arg: str | None) -> str:
    flows = document["components"]["securitySchemes"]["oauth2"]["flows"]
    rows = ["| scope | grants |", "| --- | --- |"]
    rows += [f"| `{scope}` | {_cell(text)} |" for scope, text in flows["authorizationCode"]["scopes"].items()]
    return "\n".join(rows) + "\n"


def headers(document: dict[str, Any], arg: str | None) -> str:
    """The named response headers (`arg`: comma-separated names) with their spec descriptions."""
    declared = document["components"]["headers"]
    names = arg.split(",") if arg else list(declared)
    rows = ["| header | meaning |", "| --- | --- |"]
    for name in names:
        if name not in declared:
            raise BuildError(f"spec:headers names {name!r}, which components.headers does not declare")
        rows.append(f"| `{name}` | {_cell(declared[name]['description'])} |")
    return "\n".join(rows) + "\n"


def schema_description(document: dict[str, Any], arg: str | None) -> str:
    schemas = document["components"]["schemas"]
    if arg not in schemas:
        raise BuildError(f"spec:schema-description names {arg!r}, which components.schemas does not declare")
    return str(schemas[arg]["description"]).strip() + "\n"


def schema_enum(document: dict[str, Any], arg: str | None) -> str:
    """`Schema.property`: the property's allowed values as a comma-separated list of code spans."""
    schema_name, _, prop = (arg or "").partition(".")
    schema = document["components"]["schemas"].get(schema_name, {})
    values = schema.get("properties", {}).get(prop, schema).get("enum") if prop else schema.get("enum")
    if not values:
        raise BuildError(f"spec:schema-enum {arg!r} is not an enum in components.schemas")
    return ", ".join(f"`{value}`" for value in values) + "\n"


DIRECTIVES: dict[str, Callable[[dict[str, Any], str | None], str]] = {
    "error-codes": error_codes,
    "webhook-events": webhook_events,
    "scopes": scopes,
    "headers": headers,
    "schema-description": schema_description,
    "schema-enum": schema_enum,
}


def expand_directives(source: str, document: dict[str, Any], where: str) -> str:
    def replace(match: re.Match[str]) -> str:
        generate = DIRECTIVES.get(match["name"])
        if generate is None:
            raise BuildError(f"{where}: unknown directive spec:{match['name']}")
        return generate(document, match["arg"])

    return DIRECTIVE.sub(replace, source)


# --- Rendering ------------------------------------------------------------------------------------------------------


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    md.use(anchors_plugin, min_level=2, max_level=3)
    return md


def _rewrite_links(tokens: list[Token], known_operations: dict[str, dict[str, Any]], where: str) -> list[str]:
    """Point `ref:` and `.md` links at their pages; return the guide anchors linked (`slug#anchor`) to check later."""
    fragments = []
    for token in tokens:
        for child in token.children or []:
            if child.type != "link_open":
                continue
            href = str(child.attrGet("href") or "")
            if href.startswith("ref:"):
                operation = known_operations.get(href[4:])
                if operation is None:
                    raise BuildError(f"{where}: {href} names no operation or webhook of the spec")
                child.attrSet("href", reference_url(operation))
            elif re.fullmatch(r"[a-z0-9-]+\.md(#[\w-]+)?", href):
                slug, _, fragment = href.partition("#")
                slug = slug.removesuffix(".md")
                if slug not in GUIDES:
                    raise BuildError(f"{where}: {href} links to no guide")
                child.attrSet("href", f"/docs/guides/{slug}" + (f"#{fragment}" if fragment else ""))
                if fragment:
                    fragments.append(f"{slug}#{fragment}")
            elif not (href.startswith(("https://", "/docs", "/openapi.json", "#"))):
                raise BuildError(f"{where}: link {href!r} is neither ref:, a guide, a /docs page nor https")
    return fragments


def render_guide(slug: str, document: dict[str, Any]) -> tuple[Guide, list[str]]:
    where = f"docs/guides/{slug}.md"
    source = expand_directives((GUIDES_SOURCE / f"{slug}.md").read_text(encoding="utf-8"), document, where)
    md = _markdown()
    tokens = md.parse(source)
    if not tokens or tokens[0].type != "heading_open" or tokens[0].tag != "h1":
        raise BuildError(f"{where}: must start with a '# Title' line")
    title = tokens[1].content
    summary = next(
        (tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "paragraph_open"),
        "",
    )
    fragments = _rewrite_links(tokens, operations(document), where)
    body = md.renderer.render(tokens, md.options, {})
    return Guide(slug, title, summary, body), fragments


def _inline(md: MarkdownIt, text: str) -> str:
    return str(md.renderInline(text))


def _page(title: str, content: str, current: str, guides: list[Guide]) -> str:
    nav = ['<a href="/docs">API reference</a>', '<a href="/docs/guides">Guides</a>']
    for guide in guides:
        marker = ' aria-current="page"' if guide.slug == current else ""
        nav.append(f'<a class="guide" href="/docs/guides/{guide.slug}"{marker}>{html.escape(guide.title)}</a>')
    nav.append('<a href="/openapi.json">openapi.json</a>')
    template = Template((THEME / "guide.html").read_text(encoding="utf-8"))
    return template.substitute(
        title=html.escape(title),
        css=(THEME / "guides.css").read_text(encoding="utf-8"),
        nav="\n      ".join(nav),
        content=content,
    )


def build_guides(document: dict[str, Any], out: Path) -> list[Guide]:
    guides: list[Guide] = []
    linked: list[tuple[str, str]] = []
    for slug in GUIDES:
        guide, fragments = render_guide(slug, document)
        guides.append(guide)
        linked += [(slug, fragment) for fragment in fragments]
    anchors = {guide.slug: set(re.findall(r' id="([^"]+)"', guide.body_html)) for guide in guides}
    for source, target in linked:
        slug, _, fragment = target.partition("#")
        if fragment not in anchors[slug]:
            raise BuildError(f"docs/guides/{source}.md links to {slug}.md#{fragment}, which has no such heading")
    (out / "guides").mkdir(parents=True, exist_ok=True)
    for guide in guides:
        page = _page(guide.title, guide.body_html, guide.slug, guides)
        (out / "guides" / f"{guide.slug}.html").write_text(page, encoding="utf-8")
    md = _markdown()
    items = "\n".join(
        f'<li><a href="/docs/guides/{g.slug}">{html.escape(g.title)}</a> — {_inline(md, g.summary)}</li>'
        for g in guides
    )
    index = (
        '<h1>Guides</h1>\n<p>How to build on the OG Records API. The <a href="/docs">API reference</a> documents '
        'every operation and webhook; the contract itself is <a href="/openapi.json">openapi.json</a>.</p>\n'
        f'<ul class="guide-list">\n{items}\n</ul>\n'
    )
    (out / "guides" / "index.html").write_text(_page("Guides", index, "", guides), encoding="utf-8")
    return guides


def build_reference(out: Path, spec: Path = SPEC) -> None:
    if not REDOCLY.exists():
        raise BuildError(f"{REDOCLY} is missing: run `npm ci` in codegen/ (nox -s codegen does)")
    env = {**os.environ, "REDOCLY_TELEMETRY": "off", "NO_COLOR": "1"}
    command = [
        str(REDOCLY),
        "build-docs",
        str(spec),
        "--inlineBundle",
        "--template",
        str(THEME / "reference.hbs"),
        "--output",
        str(out / "index.html"),
    ]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BuildError(f"redocly build-docs failed:\n{result.stdout}\n{result.stderr}")


def build(out: Path = SITE, spec: Path = SPEC) -> list[Guide]:
    """Render the whole site into `out`, replacing what was there."""
    document = json.loads(spec.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as scratch:
        staging = Path(scratch) / "site"
        staging.mkdir()
        guides = build_guides(document, staging)
        build_reference(staging, spec)
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(staging, out)
    return guides


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=SITE, help=f"output directory (default {SITE.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    try:
        guides = build(args.out)
    except BuildError as exc:
        print(f"docs build failed: {exc}", file=sys.stderr)
        return 1
    print(f"wrote the API reference and {len(guides)} guides to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
