"""Domain: pure rules and read-only queries, shared by services (which change state) and representations (which
show it). Nothing here writes, speaks HTTP or imports `server.services`/`server.representations`/`server.api`; the
layer order is recorded in docs/adr/0004-layers.md and enforced by import-linter (pyproject.toml)."""
