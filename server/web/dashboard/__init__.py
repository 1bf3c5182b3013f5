"""The developer dashboard: sign-up and sign-in, API keys, webhooks, the request log, events, production access.

Each module keeps its own `ROUTES` (path → (methods, handler)); `server.web.routes` mounts them all.
"""

from server.web.dashboard import auth, home, keys, logs, webhooks

ROUTES = {**auth.ROUTES, **home.ROUTES, **keys.ROUTES, **logs.ROUTES, **webhooks.ROUTES}
