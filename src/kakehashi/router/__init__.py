"""The router: ``backend="auto"`` chooses a machine for a problem and says why.

* :mod:`~kakehashi.router.features` — cheap instance features (sizes, types, degrees,
  coefficients, constraint classes, spectrum, what a QUBO would add);
* :mod:`~kakehashi.router.model` — the trained forest as plain arrays (numpy prediction);
* :mod:`~kakehashi.router.train` — training from ``kakehashi bench`` run stores (scikit-learn);
* :mod:`~kakehashi.router.selector` — candidates, caps, preferences and the explanation.

Example:
    >>> import kakehashi
    >>> from kakehashi.router import route
    >>> route(kakehashi.examples.knapsack(12), time_limit=1.0).choice != ""
    True
"""

from kakehashi.router.features import FEATURE_NAMES, features
from kakehashi.router.model import MODEL_ENV, RouterModel, load_model
from kakehashi.router.selector import PREFERENCES, Candidate, Decision, route

__all__ = [
    "FEATURE_NAMES",
    "MODEL_ENV",
    "PREFERENCES",
    "Candidate",
    "Decision",
    "RouterModel",
    "features",
    "load_model",
    "route",
]
