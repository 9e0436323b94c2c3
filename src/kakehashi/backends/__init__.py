"""Backends: one module per family. Importing this package registers them all.

Vendor SDKs are imported lazily inside each module, so this import stays cheap.
"""

# ruff: noqa: I001  (import order is registration order, the order `kakehashi backends` lists)
from kakehashi.backends import exact, reference_sa  # noqa: F401
from kakehashi.backends import local_engines  # noqa: F401  (sa, pt, tabu, sb)
from kakehashi.backends import mip  # noqa: F401
from kakehashi.backends import open_heuristics  # noqa: F401
from kakehashi.backends import dwave  # noqa: F401
from kakehashi.backends.qaoa import aer as qaoa_aer  # noqa: F401
from kakehashi.backends.qaoa import braket as qaoa_braket  # noqa: F401
from kakehashi.backends.qaoa import ibm as qaoa_ibm  # noqa: F401
from kakehashi.backends import amplify_machines  # noqa: F401  (amplify-ae, fujitsu-da, toshiba-sqbm, hitachi)
from kakehashi.backends.qaoa import fujitsu as qaoa_fujitsu  # noqa: F401
from kakehashi.backends.applicability import Applicability
from kakehashi.backends.base import (
    Availability,
    Backend,
    BackendInfo,
    BaseBackend,
    QuboSamplerBackend,
    RunOutput,
    SampleBatch,
    backend_names,
    get_backend,
    register,
)
from kakehashi.backends.params import Param

__all__ = [
    "Applicability",
    "Availability",
    "Backend",
    "BackendInfo",
    "BaseBackend",
    "Param",
    "QuboSamplerBackend",
    "RunOutput",
    "SampleBatch",
    "backend_names",
    "get_backend",
    "register",
]
