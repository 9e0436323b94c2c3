"""Check a QKD network plan against every domain rule, without the optimisation model.

Each link's key rate is recomputed from the physics (:class:`DecoyBB84` at the link's length
and loss); each demand's chain is walked site by site over the data's links; the capacity,
trusted-node, gateway and security-class rules are checked on what the plan says, and its
cost is recomputed from the data.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from kakehashi.apps.base import Validation

__all__ = ["validate_plan"]


def validate_plan(answer: Any, data: Any) -> Validation:
    """Every broken rule of ``answer`` (a ``QkdPlan``) on ``data``, and its recomputed cost.

    Example:
        >>> from kakehashi.apps.qkd_network import QkdNetworkData, make_plan
        >>> d = QkdNetworkData(["a", "b"], [[0, 0], [5, 0]], [[0, 1]], [7.0], [[0, 1]],
        ...                    [1500.0], ["qkd"])
        >>> check = validate_plan(make_plan(d, [0], [0, 0], [0, 0], [[[0, 1]]], [0]), d)
        >>> check.valid, check.errors[0]
        (False, 'link a–b carries key for a–b but has no QKD pair')
    """
    from kakehashi.apps.qkd_network import SECURITY_TITLES, plan_costs

    N, M, D = data.num_sites, data.num_links, data.num_demands
    errors = _shape_errors(answer, N, M, D)
    if errors:
        return Validation.from_errors(errors, None)
    pairs = np.asarray(answer.pairs, dtype=np.float64)
    if np.any(pairs != np.round(pairs)) or np.any(pairs < 0):
        return Validation.from_errors(["QKD pair counts must be whole numbers >= 0"], None)
    pairs = pairs.astype(np.int64)
    trusted = np.asarray(answer.trusted, dtype=bool)
    gateways = np.asarray(answer.gateways, dtype=bool)
    pqc = np.asarray(answer.pqc, dtype=bool)
    for e in np.flatnonzero(pairs > data.max_pairs_per_link):
        errors.append(
            f"link {data.link_name(e)} has {pairs[e]} QKD pairs; at most "
            f"{data.max_pairs_per_link} fit"
        )
    for s in np.flatnonzero(trusted & ~data.trusted_allowed):
        errors.append(f"site {data.sites[s]} may not host a trusted node, but the plan puts one")

    # the physics, per link, independently of the model's capacity figures
    rate = np.array(
        [
            data.physics.key_rate_bps(float(L), float(a))
            for L, a in zip(data.length_km, data.link_loss_db_per_km, strict=True)
        ]
    )
    unit = data.key_unit_bps
    supply_units = pairs * np.floor(rate / unit + 1e-9)
    need_units = np.ceil(data.rate_bps / unit - 1e-9)
    link_of = data.link_index()
    load_units = np.zeros(M)
    users: list[list[str]] = [[] for _ in range(M)]

    for d in range(D):
        name = data.demand_name(d)
        cls = data.security[d]
        chains = answer.routes[d]
        a, b = (int(v) for v in data.demands[d])
        if len(chains) > 1:
            errors.append(
                f"demand {name} is given {len(chains)} QKD chains; its key follows one chain"
            )
        for path in chains:
            errors.extend(_chain_errors(path, a, b, name, data, link_of, pairs, rate, trusted))
            for u, v in itertools.pairwise(path):
                e = link_of.get((u, v))
                if e is not None:
                    load_units[e] += need_units[d]
                    users[e].append(name)
        has_qkd = bool(chains)
        relays = max((len(p) - 2 for p in chains), default=0)
        title = SECURITY_TITLES[cls]
        if cls == "qkd" and not has_qkd:
            errors.append(f"demand {name} ({title}) gets no QKD key")
        if cls != "qkd" and not has_qkd and not pqc[d]:
            errors.append(f"demand {name} ({title}) gets neither QKD key nor PQC")
        if cls != "pqc" and has_qkd and relays > data.max_trusted_nodes and not pqc[d]:
            errors.append(
                f"demand {name} ({title}) relays its QKD key through {relays} trusted nodes, "
                f"more than the limit of {data.max_trusted_nodes}, without PQC on top"
            )
        if pqc[d]:
            for s in (a, b):
                if not gateways[s]:
                    errors.append(
                        f"demand {name} is protected by PQC but site {data.sites[s]} has no PQC "
                        "gateway"
                    )

    for e in np.flatnonzero(load_units > supply_units):
        errors.append(
            f"key rate short on link {data.link_name(e)}: demands {', '.join(users[e])} reserve "
            f"{load_units[e] * unit:g} bit/s but its {pairs[e]} pair(s) make "
            f"{pairs[e] * rate[e]:.6g} bit/s, {supply_units[e] * unit:g} bit/s of it in whole "
            f"units of {unit:g} bit/s per pair"
        )
    return Validation.from_errors(errors, plan_costs(answer, data)["total"])


def _shape_errors(answer: Any, N: int, M: int, D: int) -> list[str]:
    expected = {"pairs": (M,), "trusted": (N,), "gateways": (N,), "pqc": (D,)}
    errors = [
        f"{name} has shape {np.shape(getattr(answer, name))}; expected {shape}"
        for name, shape in expected.items()
        if np.shape(getattr(answer, name)) != shape
    ]
    if len(answer.routes) != D:
        errors.append(f"routes lists {len(answer.routes)} demands; expected {D}")
    return errors


def _chain_errors(
    path: list[int],
    a: int,
    b: int,
    name: str,
    data: Any,
    link_of: dict[tuple[int, int], int],
    pairs: np.ndarray,
    rate: np.ndarray,
    trusted: np.ndarray,
) -> list[str]:
    """What is wrong with one chain of sites carrying demand ``name``'s key from a to b."""
    N = data.num_sites
    if len(path) < 2 or any(not 0 <= s < N for s in path):
        return [f"demand {name}'s chain {path} is not a list of at least two site indices"]
    sites = [data.sites[s] for s in path]
    errors = []
    if {path[0], path[-1]} != {a, b}:
        errors.append(f"demand {name}'s chain {' > '.join(sites)} does not join its two sites")
    if len(set(path)) != len(path):
        errors.append(f"demand {name}'s chain {' > '.join(sites)} visits a site twice")
    for u, v in itertools.pairwise(path):
        e = link_of.get((u, v))
        if e is None:
            errors.append(
                f"demand {name}'s chain steps from {data.sites[u]} to {data.sites[v]}, which "
                "no candidate link joins"
            )
        elif rate[e] <= 0:
            errors.append(
                f"link {data.link_name(e)} ({data.length_km[e]:g} km) is beyond QKD reach and "
                f"makes no key, but carries key for {name}"
            )
        elif pairs[e] < 1:
            errors.append(f"link {data.link_name(e)} carries key for {name} but has no QKD pair")
    for s in path[1:-1]:
        if not trusted[s]:
            errors.append(
                f"demand {name}'s key is relayed at {data.sites[s]}, which has no trusted node"
            )
    return errors
