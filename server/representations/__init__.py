"""Representations: the JSON shape of each resource as the API, its webhook events, the dashboard and the seeds show
it (one module per resource). Below the services (which build event payloads with them) and above the domain; they
read, never write. See docs/adr/0004-layers.md."""
