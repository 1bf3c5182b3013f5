"""How connexion is made to serve an OpenAPI 3.1 document (see docs/adr/0001-connexion-and-openapi-3.1.md)."""
