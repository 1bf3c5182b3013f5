"""The developer dashboard: sign-up and sign-in, API keys, webhooks, OAuth apps, the request log, events and
production access.

Each module keeps its own `ROUTES` (path → (methods, handler)); `server.web.routes` mounts them all.
"""

from server.web.dashboard import (
    auth,
    email_verification,
    home,
    keys,
    logs,
    oauth_apps,
    password_reset,
    sandbox,
    webhooks,
)

ROUTES = {
    **auth.ROUTES,
    **password_reset.ROUTES,
    **email_verification.ROUTES,
    **home.ROUTES,
    **keys.ROUTES,
    **logs.ROUTES,
    **webhooks.ROUTES,
    **oauth_apps.ROUTES,
    **sandbox.ROUTES,
}
