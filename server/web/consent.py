"""The OAuth sign-in and consent page, and the error page shown when the browser cannot be sent back.

Plain HTML without scripts or external resources; every value is escaped.
"""

import base64
import hashlib
from html import escape
from urllib.parse import urlsplit

_STYLE = """
body{font-family:system-ui,sans-serif;background:#f6f5f2;color:#1d1d1f;margin:0}
main{max-width:28rem;margin:4rem auto;background:#fff;border-radius:12px;padding:2rem;box-shadow:0 2px 12px #0001}
h1{font-size:1.3rem;margin-top:0}ul{padding-left:1.2rem}li{margin:.3rem 0}
label{display:block;margin:.8rem 0 .2rem;font-weight:600}input[type=email],input[type=password]{width:100%;
padding:.55rem;border:1px solid #bbb;border-radius:6px;box-sizing:border-box}
.buttons{display:flex;gap:.8rem;margin-top:1.4rem}button{flex:1;padding:.7rem;border-radius:6px;border:0;
font-size:1rem;cursor:pointer}.approve{background:#111;color:#fff}.deny{background:#e6e4df}
.error{background:#fdecea;color:#8a1c12;padding:.6rem .8rem;border-radius:6px}
.env{display:inline-block;font-size:.8rem;padding:.1rem .5rem;border-radius:999px;background:#e8f0fe}
"""


# The one inline stylesheet, allowed by its hash rather than 'unsafe-inline'.
_STYLE_SOURCE = "'sha256-" + base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode() + "'"


def security_headers(redirect_uri: str | None = None) -> dict[str, str]:
    """The headers of these pages. Nothing loads but the inline stylesheet; no framing (the approve button must not
    be clickjacked); no referrer (the page's URL carries the authorization request). The consent form posts here,
    and the answer redirects to the client's redirect URI: Chrome checks form-action against that redirect too, so
    its origin is allowed when known."""
    form_action = "'self'"
    if redirect_uri:
        target = urlsplit(redirect_uri)
        if target.scheme in ("http", "https") and target.netloc:
            form_action += f" {target.scheme}://{target.netloc}"
    return {
        "Content-Security-Policy": f"default-src 'none'; style-src {_STYLE_SOURCE}; form-action {form_action}; "
        "frame-ancestors 'none'; base-uri 'none'",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
    }


def _document(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body><main>{body}</main></body></html>"
    )


def consent_page(
    *,
    client_name: str,
    environment: str,
    scopes: list[tuple[str, str]],
    hidden: dict[str, str],
    csrf_token: str,
    error: str | None = None,
    email: str = "",
) -> str:
    items = "".join(f"<li><strong>{escape(label)}</strong> <code>{escape(name)}</code></li>" for name, label in scopes)
    fields = "".join(
        f"<input type=hidden name='{escape(key)}' value='{escape(value)}'>" for key, value in hidden.items()
    )
    message = f"<p class=error role=alert>{escape(error)}</p>" if error else ""
    body = (
        f"<h1>{escape(client_name)} wants to access your OG Records account</h1>"
        f"<p><span class=env>{escape(environment)}</span></p>{message}"
        f"<p>It asks to:</p><ul>{items}</ul>"
        "<form method=post action='/oauth/authorize'>"
        f"{fields}<input type=hidden name='csrf_token' value='{escape(csrf_token)}'>"
        f"<label for=email>Email</label><input id=email name=email type=email autocomplete=username required "
        f"value='{escape(email)}'>"
        "<label for=password>Password</label>"
        "<input id=password name=password type=password autocomplete=current-password required>"
        "<div class=buttons><button class=deny name=decision value=deny formnovalidate>Deny</button>"
        "<button class=approve name=decision value=approve>Sign in and allow</button></div></form>"
    )
    return _document(f"Authorize {client_name}", body)


def error_page(message: str) -> str:
    body = (
        "<h1>This authorization request cannot be completed</h1>"
        f"<p class=error role=alert>{escape(message)}</p>"
        "<p>Return to the application and try again. If it keeps happening, its developer needs to check the "
        "client id and redirect URI it sends.</p>"
    )
    return _document("Authorization error", body)
