"""The one way a page is rendered: a Jinja2 template (autoescaped) from `server/web/templates`, served with the
security headers every HTML page carries.

Pages load nothing from another origin: the stylesheet and the vendored htmx come from `/static/` (see
`server.web.static`), so the Content-Security-Policy can say `'self'` and nothing else. No inline script or style
is allowed; a page that needs behaviour ships it as a file under `static/`.
"""

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse

from server.web import static

TEMPLATES = Path(__file__).resolve().parent / "templates"

# `img-src data:` for inline SVG marks; `form-action 'self'` keeps every form on this origin; frame-ancestors
# forbids framing (clickjacking of the dashboard's buttons).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,  # a template naming a value the page did not pass fails loudly in tests
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static_url"] = static.url
    return env


def render_text(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def render(
    template: str,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    cache_control: str = "no-store",
    **context: Any,
) -> HTMLResponse:
    """A page as a response. `no-store` by default: most pages show a signed-in person's data; public pages that
    may be cached (smart-link pages) pass their own `cache_control`."""
    body = render_text(template, **context)
    merged = {**SECURITY_HEADERS, "Cache-Control": cache_control, **(headers or {})}
    return HTMLResponse(body, status_code=status_code, headers=merged)


def not_found(message: str = "This page does not exist.") -> HTMLResponse:
    return render("not_found.html", status_code=404, title="Not found", message=message)


def gone(message: str) -> HTMLResponse:
    """`410 Gone`: the page existed and was removed on purpose (a disabled smart link)."""
    return render("not_found.html", status_code=410, title="No longer available", message=message)
