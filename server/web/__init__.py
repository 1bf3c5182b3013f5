"""Server-rendered pages (the OAuth sign-in and consent page)."""
