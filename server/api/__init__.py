"""HTTP handlers, one module per spec tag (see server.openapi.resolver). HTTP in, HTTP out: rules live in
server.services."""
