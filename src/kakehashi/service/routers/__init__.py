"""One router per resource: jobs, backends, usage, admin (tenants, keys, workers)."""
