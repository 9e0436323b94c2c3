"""`kakehashi serve`: a multi-user job service — REST API, dashboard, persistent queue, workers.

The parts, each in its own module:

* :mod:`.settings` — every setting, from ``KAKEHASHI_*`` environment variables or the CLI;
* :mod:`.db`, :mod:`.models`, ``migrations/`` — the job store (SQLAlchemy 2, Alembic);
* :mod:`.auth`, :mod:`.quotas`, :mod:`.ratelimit` — API keys, quotas, spending caps;
* :mod:`.jobs` — submitting, listing, cancelling jobs and recording their ends;
* :mod:`.workers`, :mod:`.runner` — worker processes that claim and run jobs;
* :mod:`.app`, ``routers/``, :mod:`.dashboard` — the FastAPI application;
* :mod:`.server` — what ``kakehashi serve`` starts.

Only :mod:`.errors` is imported by :mod:`kakehashi.client`, so the client needs no server
dependencies.
"""
