"""Use cases: domain data in, a checked domain answer out, beside a classical baseline.

Each module of this package holds one or more use cases (see :mod:`kakehashi.apps.base`
for the contract). ``kakehashi apps list`` shows them all.

Example:
    >>> from kakehashi.apps import get_use_case, use_case_names
    >>> "tsp" in use_case_names()                          # doctest: +SKIP
    True
"""

from kakehashi.apps.base import (
    Answer,
    AppDataError,
    AppRun,
    BaselineResult,
    UseCase,
    Validation,
    get_use_case,
    register,
    shipped_instance_dir,
    use_case_names,
    use_cases,
)

__all__ = [
    "Answer",
    "AppDataError",
    "AppRun",
    "BaselineResult",
    "UseCase",
    "Validation",
    "get_use_case",
    "register",
    "shipped_instance_dir",
    "use_case_names",
    "use_cases",
]
