"""Use cases: domain data in, a checked domain answer out, beside a classical baseline.

Each module of this package holds one or more use cases (see :mod:`kakehashi.apps.base`
for the contract). ``kakehashi apps list`` shows them all.

Example:
    >>> from kakehashi.apps import get_use_case, use_case_names
    >>> "tsp" in use_case_names()                          # doctest: +SKIP
    True
"""

# the package's public API is the contract module's, listed once in base.__all__
from kakehashi.apps.base import *  # noqa: F403
from kakehashi.apps.base import __all__  # noqa: F401
