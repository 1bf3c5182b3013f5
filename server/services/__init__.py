"""Business rules, one module per resource. No HTTP here: services take and return plain values and models."""
