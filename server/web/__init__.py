"""Server-rendered pages: the OAuth consent page, and (through `server.web.pages`) every Jinja2 page — the
dashboard, smart-link landing pages, payee invitations. Pages call the same services as the API handlers."""
