"""Quantum-secure network planning: QKD links, trusted nodes and the PQC fallback, at least cost.

A network operator must give each traffic demand between two sites a secret-key supply at a
required rate, in a security class that says what may protect it. Quantum key distribution
(QKD) makes key over a fibre link whose rate falls with its length (decoy-state BB84, see
:mod:`kakehashi.apps._qkd_keyrate`) and stops beyond about 140 km; longer distances are
bridged by relaying the key through *trusted nodes*, each of which sees the key and so counts
against its security. Post-quantum cryptography (PQC) needs only a gateway at each end, at
any distance, but its security is computational. The plan decides

* how many QKD transmitter/receiver pairs each candidate link gets (``pairs``),
* which sites host trusted nodes (``trusted``) and PQC gateways (``gateway``),
* which chain of links carries each demand's QKD key (``route``, one of a few candidate
  routes per demand, capacity shared per link), and
* which demands are protected by PQC, alone or combined with QKD key (``pqc``),

so that every demand gets its rate in its class at least total cost (pairs, trusted nodes,
gateways, and key-management capacity per unit of key rate reserved on each link).

Security classes (``security`` of a demand):

* ``"qkd"`` — *QKD required*: the key must come from QKD at the full rate. Relayed through
  more than ``max_trusted_nodes`` trusted nodes it must in addition be combined with an
  end-to-end PQC key (QKD+PQC), so that no single compromised relay exposes it.
* ``"qkd_or_pqc"`` — *QKD or PQC*: pure QKD (at most ``max_trusted_nodes`` relays), PQC,
  or QKD+PQC.
* ``"pqc"`` — *PQC acceptable*: PQC, QKD over any chain, or both.

Example:
    >>> from kakehashi.apps import get_use_case
    >>> qkd = get_use_case("qkd-network")
    >>> data = qkd.generate(6, seed=1)
    >>> ref = qkd.baseline(data, time_limit=10)
    >>> qkd.validate(ref.answer, data).valid
    True
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from kakehashi.apps._qkd_keyrate import DecoyBB84
from kakehashi.apps.base import (
    Answer,
    AppDataError,
    BaselineResult,
    UseCase,
    Validation,
    register,
    shipped_instance_dir,
)
from kakehashi.errors import InputFormatError, KakehashiError
from kakehashi.model.problem import Problem
from kakehashi.result import Result

__all__ = [
    "SECURITY_CLASSES",
    "QkdNetwork",
    "QkdNetworkData",
    "QkdPlan",
    "candidate_routes",
    "plan_costs",
]

SECURITY_CLASSES = ("qkd", "qkd_or_pqc", "pqc")
SECURITY_TITLES = {
    "qkd": "QKD required",
    "qkd_or_pqc": "QKD or PQC",
    "pqc": "PQC acceptable",
}
INSTANCE_FOLDER = "qkd-network"


@dataclasses.dataclass
class QkdNetworkData:
    """A QKD network planning instance: ``N`` sites, ``M`` candidate links, ``D`` demands.

    Attributes:
        sites: site names (N).
        coords_km: (N, 2) site positions in km (for maps and the generator; lengths are
            given per link).
        links: (M, 2) candidate fibre links as site index pairs, each pair at most once.
        length_km: (M,) fibre length of each link.
        demands: (D, 2) site index pairs that need a shared secret key.
        rate_bps: (D,) secret-key rate each demand needs, bits per second.
        security: D security classes, each one of :data:`SECURITY_CLASSES`.
        pair_cost: (M,) cost of one QKD transmitter/receiver pair on the link.
        trusted_node_cost: (N,) cost of a trusted node at the site.
        gateway_cost: (N,) cost of a PQC gateway at the site.
        capacity_unit_cost: cost per key unit (``key_unit_bps``) reserved on each link a
            demand's QKD key crosses (key management and key storage).
        key_unit_bps: key is reserved in whole units of this rate; a demand reserves
            ``ceil(rate / unit)`` units, one pair supplies ``floor(link rate / unit)``.
        max_pairs_per_link: most QKD pairs (parallel fibres or wavelengths) on one link.
        max_trusted_nodes: most trusted relays a pure-QKD key may cross (see the classes).
        routes_per_demand: candidate routes kept per demand (the shortest, plus the
            shortest for every relay count).
        max_route_hops: most links in a candidate route.
        link_loss_db_per_km: (M,) fibre attenuation of each link (default: the physics').
        trusted_allowed: (N,) sites where a trusted node may be placed (default: all).
        physics: the key-rate model of every link.
        name: instance name.
    """

    sites: list[str]
    coords_km: np.ndarray
    links: np.ndarray
    length_km: np.ndarray
    demands: np.ndarray
    rate_bps: np.ndarray
    security: list[str]
    pair_cost: Any = 100.0
    trusted_node_cost: Any = 60.0
    gateway_cost: Any = 15.0
    capacity_unit_cost: float = 0.1
    key_unit_bps: float = 1000.0
    max_pairs_per_link: int = 2
    max_trusted_nodes: int = 1
    routes_per_demand: int = 4
    max_route_hops: int = 6
    link_loss_db_per_km: Any = None
    trusted_allowed: Any = None
    physics: DecoyBB84 = dataclasses.field(default_factory=DecoyBB84)
    name: str = "qkd-network"

    def __post_init__(self) -> None:
        self.sites = [str(s) for s in self.sites]
        N = len(self.sites)
        if N < 2:
            raise AppDataError(f"a QKD network needs at least 2 sites, got {N}")
        if len(set(self.sites)) != N:
            raise AppDataError("site names must be unique")
        self.coords_km = _array(self.coords_km, (N, 2), "coords_km")
        self.links = _index_pairs(self.links, N, "links")
        M = self.links.shape[0]
        if M == 0:
            raise AppDataError("no candidate links; give at least one fibre link")
        keys = np.sort(self.links, axis=1)
        if np.unique(keys, axis=0).shape[0] != M:
            raise AppDataError("a link is listed twice; list each site pair once")
        self.length_km = _array(self.length_km, (M,), "length_km")
        if np.any(self.length_km <= 0):
            raise AppDataError("every link needs a positive length_km")
        self.demands = _index_pairs(self.demands, N, "demands")
        D = self.demands.shape[0]
        if D == 0:
            raise AppDataError("no demands; give at least one site pair needing key")
        self.rate_bps = _array(self.rate_bps, (D,), "rate_bps")
        if np.any(self.rate_bps <= 0):
            raise AppDataError("every demand needs a positive rate_bps")
        self.security = [str(s) for s in self.security]
        if len(self.security) != D:
            raise AppDataError(f"security has {len(self.security)} entries for {D} demands")
        for s in self.security:
            if s not in SECURITY_CLASSES:
                raise AppDataError(
                    f"unknown security class {s!r}; use one of {', '.join(SECURITY_CLASSES)}"
                )
        self.pair_cost = _costs(self.pair_cost, M, "pair_cost")
        self.trusted_node_cost = _costs(self.trusted_node_cost, N, "trusted_node_cost")
        self.gateway_cost = _costs(self.gateway_cost, N, "gateway_cost")
        self.capacity_unit_cost = float(_costs(self.capacity_unit_cost, 1, "capacity_unit_cost")[0])
        self.key_unit_bps = float(self.key_unit_bps)
        if not (math.isfinite(self.key_unit_bps) and self.key_unit_bps > 0):
            raise AppDataError(f"key_unit_bps must be positive, got {self.key_unit_bps}")
        for name, least in (
            ("max_pairs_per_link", 1),
            ("max_trusted_nodes", 0),
            ("routes_per_demand", 1),
            ("max_route_hops", 1),
        ):
            value = getattr(self, name)
            if not (float(value) == int(value) and int(value) >= least):
                raise AppDataError(f"{name} must be a whole number >= {least}, got {value!r}")
            setattr(self, name, int(value))
        if self.link_loss_db_per_km is None:
            self.link_loss_db_per_km = np.full(M, self.physics.loss_db_per_km)
        self.link_loss_db_per_km = _array(self.link_loss_db_per_km, (M,), "link_loss_db_per_km")
        if np.any(self.link_loss_db_per_km < 0):
            raise AppDataError("link_loss_db_per_km must be non-negative")
        self.trusted_allowed = (
            np.ones(N, dtype=bool)
            if self.trusted_allowed is None
            else np.asarray(self.trusted_allowed, dtype=bool).reshape(-1)
        )
        if self.trusted_allowed.size != N:
            raise AppDataError(f"trusted_allowed has {self.trusted_allowed.size} entries for {N}")
        if not isinstance(self.physics, DecoyBB84):
            raise AppDataError("physics must be a DecoyBB84 parameter set")
        self._check_qkd_demands_reachable()

    def _check_qkd_demands_reachable(self) -> None:
        routes = candidate_routes(self)
        for d in np.flatnonzero([not r for r in routes]):
            if self.security[d] == "qkd":
                raise AppDataError(
                    f"demand {self.demand_name(d)} requires QKD but no chain of at most "
                    f"{self.max_route_hops} links within QKD reach joins them (reach with "
                    f"these parameters: {self.physics.max_distance_km():.0f} km at "
                    f"{self.physics.loss_db_per_km:g} dB/km); add links or sites between them, "
                    "raise max_route_hops, or relax its class to qkd_or_pqc"
                )

    # ------------------------------------------------------------------ derived figures
    @property
    def num_sites(self) -> int:
        return len(self.sites)

    @property
    def num_links(self) -> int:
        return int(self.links.shape[0])

    @property
    def num_demands(self) -> int:
        return int(self.demands.shape[0])

    def link_rate_bps(self) -> np.ndarray:
        """(M,) secret-key rate of one QKD pair on each link, from the physics."""
        return np.array(
            [
                self.physics.key_rate_bps(float(L), float(a))
                for L, a in zip(self.length_km, self.link_loss_db_per_km, strict=True)
            ]
        )

    def units_per_pair(self) -> np.ndarray:
        """(M,) whole key units one pair supplies on each link (0: beyond reach)."""
        return np.floor(self.link_rate_bps() / self.key_unit_bps + 1e-9).astype(np.int64)

    def demand_units(self) -> np.ndarray:
        """(D,) key units each demand reserves on every link of its route."""
        return np.ceil(self.rate_bps / self.key_unit_bps - 1e-9).astype(np.int64)

    def link_name(self, e: int) -> str:
        a, b = self.links[e]
        return f"{self.sites[a]}–{self.sites[b]}"

    def demand_name(self, d: int) -> str:
        a, b = self.demands[d]
        return f"{self.sites[a]}–{self.sites[b]}"

    def link_index(self) -> dict[tuple[int, int], int]:
        """Link number of each (unordered) site pair, both orders."""
        index = {}
        for e, (a, b) in enumerate(self.links.tolist()):
            index[(a, b)] = index[(b, a)] = e
        return index


# ---------------------------------------------------------------------- candidate routes
def candidate_routes(data: QkdNetworkData) -> list[list[list[int]]]:
    """Per demand, the candidate chains of sites its QKD key may follow.

    A chain uses only links that carry key (one pair supplies at least one key unit) and
    relays only at sites that may host a trusted node; it has at most ``max_route_hops``
    links. Kept: the ``routes_per_demand`` shortest by fibre length, plus the shortest chain
    for every number of relays (so the cheapest chain within the trusted-node limit is never
    lost to longer-but-fewer-hop alternatives).

    Example:
        >>> d = QkdNetworkData(["a", "b", "c"], [[0, 0], [10, 0], [20, 0]], [[0, 1], [1, 2]],
        ...                    [12.0, 12.0], [[0, 2]], [1000.0], ["qkd"])
        >>> candidate_routes(d)
        [[[0, 1, 2]]]
    """
    usable = data.units_per_pair() >= 1
    neighbours: list[list[tuple[int, float]]] = [[] for _ in range(data.num_sites)]
    for e in np.flatnonzero(usable):
        a, b = (int(v) for v in data.links[e])
        neighbours[a].append((b, float(data.length_km[e])))
        neighbours[b].append((a, float(data.length_km[e])))
    out = []
    for a, b in data.demands.tolist():
        found: list[tuple[float, list[int]]] = []
        _simple_paths(a, b, neighbours, data.trusted_allowed, data.max_route_hops, found)
        found.sort(key=lambda t: (t[0], len(t[1]), t[1]))
        keep = found[: data.routes_per_demand]
        best_by_relays: dict[int, list[int]] = {}
        for _, path in found:
            best_by_relays.setdefault(len(path) - 2, path)
        for path in best_by_relays.values():
            if all(path != p for _, p in keep):
                keep.append((0.0, path))
        out.append([p for _, p in keep])
    return out


def _simple_paths(
    start: int,
    goal: int,
    neighbours: list[list[tuple[int, float]]],
    relay_ok: np.ndarray,
    max_hops: int,
    found: list[tuple[float, list[int]]],
) -> None:
    # depth-first over simple paths; a site in the middle must be able to host a relay
    stack = [(start, [start], 0.0)]
    while stack:
        site, path, length = stack.pop()
        for nxt, L in neighbours[site]:
            if nxt in path:
                continue
            if nxt == goal:
                found.append((length + L, [*path, nxt]))
            elif len(path) < max_hops and relay_ok[nxt]:
                stack.append((nxt, [*path, nxt], length + L))


# ---------------------------------------------------------------------- the answer
@dataclasses.dataclass
class QkdPlan(Answer):
    """A network plan; ``objective`` is its total cost (see ``costs`` for the parts).

    ``routes[d]`` lists the chains (site indices) the plan uses for demand ``d``'s QKD key:
    empty when it gets no QKD key, one chain normally (more is a broken plan). ``pqc[d]`` is
    True when PQC protects it (alone, or combined with the QKD key). ``protection`` says per
    demand how it is protected and why; ``costs`` breaks the total down.
    """

    pairs: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))
    trusted: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, bool))
    gateways: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, bool))
    routes: list[list[list[int]]] = dataclasses.field(default_factory=list)
    pqc: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, bool))
    protection: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    costs: dict[str, float] = dataclasses.field(default_factory=dict)

    def describe(self, max_items: int = 40) -> str:
        lines = ["cost " + ", ".join(f"{k} {v:.6g}" for k, v in self.costs.items() if k != "total")]
        for p in self.protection[:max_items]:
            route = " > ".join(p["route"]) if p["route"] else "-"
            lines.append(
                f"  {p['demand']:<24} {p['class']:<10} {p['mode']:<8} via {route}: {p['reason']}"
            )
        if len(self.protection) > max_items:
            lines.append(f"  … ({len(self.protection)} demands in all)")
        return "\n".join(lines)


def plan_costs(answer: QkdPlan, data: QkdNetworkData) -> dict[str, float]:
    """The cost of a plan in parts, recomputed from the data: QKD pairs, trusted nodes,
    PQC gateways, key capacity (units reserved on every link of every QKD route), total.

    Example:
        >>> d = QkdNetworkData(["a", "b"], [[0, 0], [5, 0]], [[0, 1]], [7.0], [[0, 1]],
        ...                    [1500.0], ["pqc"])
        >>> plan = QkdPlan(0.0, np.zeros(1), np.zeros(2, bool), np.ones(2, bool), [[]], [True])
        >>> plan_costs(plan, d)["total"]
        30.0
    """
    pairs = np.asarray(answer.pairs, dtype=np.float64)
    units = data.demand_units()
    hops = sum(
        int(units[d]) * (len(path) - 1) for d, chains in enumerate(answer.routes) for path in chains
    )
    parts = {
        "qkd_pairs": float(data.pair_cost @ pairs),
        "trusted_nodes": float(data.trusted_node_cost @ np.asarray(answer.trusted, bool)),
        "pqc_gateways": float(data.gateway_cost @ np.asarray(answer.gateways, bool)),
        "key_capacity": float(data.capacity_unit_cost * hops),
    }
    parts["total"] = float(sum(parts.values()))
    return parts


def _protection(answer: QkdPlan, data: QkdNetworkData) -> list[dict[str, Any]]:
    """Per demand: its class, how it is protected, over which chain, and why."""
    limit = data.max_trusted_nodes
    candidates = [len(r) for r in candidate_routes(data)]
    out = []
    for d in range(data.num_demands):
        cls = data.security[d]
        chains = answer.routes[d]
        path = chains[0] if chains else []
        relays = [data.sites[s] for s in path[1:-1]]
        pqc = bool(answer.pqc[d])
        mode = ("qkd+pqc" if pqc else "qkd") if chains else ("pqc" if pqc else "none")
        title = SECURITY_TITLES[cls]
        if mode == "none":
            reason = f"{title}, but the plan gives it neither QKD key nor PQC"
        elif mode == "pqc":
            k = candidates[d]
            reason = f"{title}: PQC gateways at both ends; " + (
                f"chosen over its {k} candidate QKD chain{'s' if k != 1 else ''}"
                if k
                else f"no chain of at most {data.max_route_hops} links within QKD reach "
                "joins the two sites"
            )
        else:
            plural = "s" if len(relays) != 1 else ""
            relay_text = (
                f"{len(relays)} trusted relay{plural} ({', '.join(relays)})"
                if relays
                else "a direct link, no trusted relay"
            )
            if mode == "qkd":
                reason = f"{title}: QKD key over {relay_text}"
                if cls != "pqc":
                    reason += f", within the limit of {limit}"
            elif len(relays) > limit and cls != "pqc":
                reason = (
                    f"{title}: QKD key over {relay_text}, more than the limit of {limit}, so "
                    "it is combined with an end-to-end PQC key"
                )
            else:
                reason = f"{title}: QKD key over {relay_text}, combined with a PQC key"
            if len(chains) > 1:
                reason += f" (the plan gives it {len(chains)} chains; it may follow one)"
        out.append(
            {
                "demand": data.demand_name(d),
                "class": cls,
                "rate_bps": float(data.rate_bps[d]),
                "mode": mode,
                "route": [data.sites[s] for s in path],
                "trusted_relays": relays,
                "reason": reason,
            }
        )
    return out


def make_plan(
    data: QkdNetworkData,
    pairs: Any,
    trusted: Any,
    gateways: Any,
    routes: list[list[list[int]]],
    pqc: Any,
) -> QkdPlan:
    """A :class:`QkdPlan` from its decisions, with its costs and per-demand explanation.

    Example:
        >>> d = QkdNetworkData(["a", "b"], [[0, 0], [5, 0]], [[0, 1]], [7.0], [[0, 1]],
        ...                    [1500.0], ["qkd"])
        >>> make_plan(d, [1], [0, 0], [0, 0], [[[0, 1]]], [0]).objective
        100.2
    """
    plan = QkdPlan(
        objective=0.0,
        pairs=np.round(np.asarray(pairs, dtype=np.float64)).astype(np.int64),
        trusted=np.asarray(trusted).astype(bool),
        gateways=np.asarray(gateways).astype(bool),
        routes=[[list(map(int, p)) for p in chains] for chains in routes],
        pqc=np.asarray(pqc).astype(bool),
    )
    plan.costs = plan_costs(plan, data)
    plan.objective = plan.costs["total"]
    if len(plan.routes) == data.num_demands and plan.pqc.size == data.num_demands:
        plan.protection = _protection(plan, data)
    return plan


# ---------------------------------------------------------------------- the use case
@register
class QkdNetwork(UseCase):
    """QKD link, trusted-node and PQC-gateway placement with key routing, at least cost.

    Example:
        >>> from kakehashi.apps.qkd_network import QkdNetwork
        >>> data = QkdNetwork().generate(5, seed=2)
        >>> QkdNetwork().build(data).num_variables > 0
        True
    """

    name = "qkd-network"
    title = "Quantum-secure network planning (QKD, trusted nodes, PQC)"
    domain = "telecom / security"
    data_type = QkdNetworkData
    sense = "min"
    baseline_tool = "HiGHS MILP"
    size_meaning = "sites"
    file_suffixes = (".json",)

    # -------------------------------------------------------------- shipped instances
    def instances(self) -> list[str]:
        folder = shipped_instance_dir() / INSTANCE_FOLDER
        if not folder.is_dir():
            return []
        return sorted(p.stem for p in folder.glob("*.json"))

    def load(self, instance: str | Path) -> QkdNetworkData:
        """A shipped network by name (``"tokyo-qkd"``) or a network file by path."""
        path = Path(instance)
        if path.is_file():
            return self.read(path)
        shipped = shipped_instance_dir() / INSTANCE_FOLDER / f"{instance}.json"
        if shipped.is_file():
            return self.read(shipped)
        raise InputFormatError(
            f"no network {str(instance)!r}: not a file, and not one of the shipped networks "
            f"({', '.join(self.instances()) or 'none'}); give the path of a network .json "
            "file (format: docs/apps/qkd-network.md) or one of those names"
        )

    def read(self, path: str | Path) -> QkdNetworkData:
        """A network file: JSON, its tables inline or in CSV files beside it."""
        from kakehashi.apps._qkd_io import read_network

        return read_network(path)

    # -------------------------------------------------------------- solving
    #: factor on the automatic penalty weights for backends with the adaptive penalty
    #: loop: the weights follow the objective coefficients of a row's own variables, and a
    #: route's are tiny beside the equipment it forces, so with the plain weights the
    #: engines buy nothing and leave demands unserved (measured in docs/apps/qkd-network.md)
    qubo_penalty_scale = 10.0

    def run(self, data: QkdNetworkData, backend: Any = "auto", **kwargs: Any) -> Any:
        """:meth:`UseCase.run`, with ``penalty=qubo_penalty_scale`` for QUBO-sampling
        backends unless ``penalty`` is given."""
        if backend == "auto":
            from kakehashi.solve import choose_backend

            # resolve the choice here (the rule solve() applies) so the penalty can follow it
            backend = choose_backend(self.build(data)).name
        if "penalty" not in kwargs and _runs_penalty_loop(backend):
            kwargs["penalty"] = self.qubo_penalty_scale
        return super().run(data, backend, **kwargs)

    # -------------------------------------------------------------- generator
    def generate(
        self, size: int, seed: int | None = None, *, scale: str = "metro"
    ) -> QkdNetworkData:
        """``size`` sites of a metropolitan (``scale="metro"``, a 40 km square) or
        nationwide (``scale="national"``, a corridor 60 km wide, 60 km long per site)
        network.

        See :func:`kakehashi.apps._qkd_generate.generate_network` for what is drawn.

        Example:
            >>> d = QkdNetwork().generate(8, seed=3, scale="national")
            >>> d.num_sites, d.max_route_hops
            (8, 8)
        """
        from kakehashi.apps._qkd_generate import generate_network

        return generate_network(size, seed, scale=scale)

    # -------------------------------------------------------------- model
    def build(self, data: QkdNetworkData) -> Problem:
        from kakehashi import Model

        N, M, D = data.num_sites, data.num_links, data.num_demands
        cand = _Candidates(data, candidate_routes(data))
        units_per_pair = data.units_per_pair()
        reach = units_per_pair >= 1
        P = data.max_pairs_per_link
        m = Model("qkd_network")
        # pairs = lit + extra: "the link has QKD at all" is a bit of its own, so every rule
        # "a chain needs its links lit" is an at-most-one row with the link's complement
        lit = m.binary("lit", shape=M)
        extra = m.integer("extra_pairs", shape=M, lower=0, upper=np.where(reach, P - 1, 0))
        pairs = lit + extra
        trusted = m.binary("trusted", shape=N)
        gateway = m.binary("gateway", shape=N)
        route = m.binary("route", shape=cand.columns)
        pqc = m.binary("pqc", shape=D)
        # complements (x + not_x = 1): "a needs b" becomes a + not_b <= 1, which a QUBO
        # penalises as one product a·not_b with no slack bit — Tokyo's QUBO shrinks from
        # 259 to 119 bits, and tabu reaches the optimum where it found none before
        dark = m.binary("dark", shape=M)
        untrusted = m.binary("untrusted", shape=N)
        no_gateway = m.binary("no_gateway", shape=N)
        no_pqc = m.binary("no_pqc", shape=D)
        m.minimize(
            data.pair_cost @ pairs
            + data.trusted_node_cost @ trusted
            + data.gateway_cost @ gateway
            + (data.capacity_unit_cost * cand.unit_hops) @ route
        )
        m.constrain(lit + dark == 1, name="lit_or_dark")
        m.constrain(trusted + untrusted == 1, name="trusted_or_not")
        m.constrain(gateway + no_gateway == 1, name="gateway_or_not")
        m.constrain(pqc + no_pqc == 1, name="pqc_or_not")
        if not reach.all():
            m.constrain(lit[np.flatnonzero(~reach)] == 0, name="beyond_reach")
        if P > 1:
            m.constrain(extra - (P - 1) * lit <= 0, name="extra_pairs_need_lit")
        if cand.count == 0:  # no chain within reach anywhere: every demand takes PQC
            m.constrain(route == 0, name="no_candidate_routes")
        cls = np.asarray(data.security)
        # sparse matrices do not defer to expressions, so the matrix goes on the right
        chains = route @ cand.of_demand.T  # (D,) QKD chains each demand is given
        qkd_only = np.flatnonzero(cls == "qkd")
        others = np.flatnonzero(cls != "qkd")
        if qkd_only.size:
            m.constrain(chains[qkd_only] == 1, name="qkd_required")
        if others.size:
            choosing = others[cand.per_demand[others] > 1]
            if choosing.size:
                m.constrain(chains[choosing] <= 1, name="one_chain")
            m.constrain(chains[others] + pqc[others] >= 1, name="served")
        long = np.flatnonzero(cand.too_many_relays)
        if long.size:
            m.constrain(route[long] + no_pqc[cand.demand[long]] <= 1, name="long_chain_needs_pqc")
        ce, cc = cand.link_uses
        if cc.size:
            m.constrain(route[cc] + dark[ce] <= 1, name="chain_needs_lit_links")
        asked = np.asarray(cand.load.sum(axis=1)).ravel()
        binding = np.flatnonzero(asked > units_per_pair)
        if binding.size:
            # only where every candidate at once would overfill one pair can capacity bind
            m.constrain(
                route @ cand.load[binding].T - units_per_pair[binding] * pairs[binding] <= 0,
                name="link_capacity",
            )
        rc, rs = cand.relay_pairs
        if rc.size:
            m.constrain(route[rc] + untrusted[rs] <= 1, name="relay_needs_trusted_node")
        ends = data.demands
        m.constrain(pqc + no_gateway[ends[:, 0]] <= 1, name="pqc_gateway_a")
        m.constrain(pqc + no_gateway[ends[:, 1]] <= 1, name="pqc_gateway_b")
        return m.to_problem()

    def decode(self, result: Result, data: QkdNetworkData) -> QkdPlan:
        sol = result.solution
        cand = _Candidates(data, candidate_routes(data))
        picked = np.flatnonzero(np.asarray(sol["route"])[: cand.count] > 0.5)
        routes: list[list[list[int]]] = [[] for _ in range(data.num_demands)]
        for c in picked:
            routes[cand.demand[c]].append(cand.paths[c])
        # the plan is read from the decisions, not their complements: a sample that breaks
        # x + not_x = 1 gives the plan its decisions describe, for the validator to judge
        return make_plan(
            data,
            np.round(sol["lit"]) + np.round(sol["extra_pairs"]),
            np.round(sol["trusted"]),
            np.round(sol["gateway"]),
            routes,
            np.round(sol["pqc"]),
        )

    def validate(self, answer: QkdPlan, data: QkdNetworkData) -> Validation:
        from kakehashi.apps._qkd_validate import validate_plan

        return validate_plan(answer, data)

    def baseline(
        self, data: QkdNetworkData, time_limit: float | None = None, *, solver: str = "highs"
    ) -> BaselineResult:
        """The MILP optimum of the model from HiGHS (default) or SCIP (``solver="scip"``);
        the tests check it against brute force on small networks."""
        import kakehashi

        tools = {"highs": "HiGHS MILP", "scip": "SCIP MILP"}
        if solver not in tools:
            raise AppDataError(f"unknown baseline solver {solver!r}; use 'highs' or 'scip'")
        t0 = time.perf_counter()
        result = kakehashi.solve(
            self.build(data), backend=solver, time_limit=time_limit or 60.0, seed=0
        )
        seconds = time.perf_counter() - t0
        if not result.feasible:
            raise AppDataError(
                f"{tools[solver]} found no feasible plan ({result.info.get('status')}) within "
                f"{time_limit} s; the instance may be infeasible (a QKD-required demand whose "
                "chains lack capacity: raise max_pairs_per_link), or give it more time"
            )
        status = result.info.get("status")
        return BaselineResult(
            tool=tools[solver],
            answer=self.decode(result, data),
            seconds=seconds,
            status="optimal" if status == "optimal" else "feasible",
            bound=result.info.get("bound"),
            info={"solver_status": status, "mip_gap": result.info.get("gap")},
        )


def _runs_penalty_loop(backend: Any) -> bool:
    """Whether ``backend`` (a name) declares the penalty loop's ``penalty`` option (the
    QUBO samplers do; MIP solvers and vendor machines with their own constraint handling
    do not)."""
    from kakehashi.backends.base import get_backend

    if not isinstance(backend, str):
        return False
    try:
        chosen = get_backend(backend)
    except KakehashiError:
        return False  # an unknown name: let solve() say so
    declared = getattr(chosen, "all_parameters", None)
    return callable(declared) and any(p.name == "penalty" for p in declared())


class _Candidates:
    """The candidate routes of all demands as flat arrays and sparse incidence matrices."""

    def __init__(self, data: QkdNetworkData, routes: list[list[list[int]]]) -> None:
        link_of = data.link_index()
        units = data.demand_units()
        cls = data.security
        self.paths = [p for chains in routes for p in chains]
        self.count = C = len(self.paths)
        # at least one column, so the model's expressions keep their shapes with no candidates
        self.columns = K = max(C, 1)
        self.demand = np.array(
            [d for d, chains in enumerate(routes) for _ in chains], dtype=np.int64
        )
        self.per_demand = np.array([len(chains) for chains in routes], dtype=np.int64)
        relays = np.array([len(p) - 2 for p in self.paths], dtype=np.int64)
        limited = np.array([cls[d] != "pqc" for d in self.demand], dtype=bool)
        self.too_many_relays = limited & (relays > data.max_trusted_nodes)
        self.of_demand = sp.csr_matrix(
            (np.ones(C), (self.demand, np.arange(C))), shape=(data.num_demands, K)
        )
        rows, cols, vals = [], [], []
        rc, rs = [], []
        for c, path in enumerate(self.paths):
            for a, b in itertools.pairwise(path):
                rows.append(link_of[(a, b)])
                cols.append(c)
                vals.append(float(units[self.demand[c]]))
            rc.extend([c] * (len(path) - 2))
            rs.extend(path[1:-1])
        self.load = sp.csr_matrix((vals, (rows, cols)), shape=(data.num_links, K))
        self.link_uses = (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64))
        self.unit_hops = np.zeros(K)
        for c, p in enumerate(self.paths):
            self.unit_hops[c] = units[self.demand[c]] * (len(p) - 1)
        self.relay_pairs = (np.asarray(rc, dtype=np.int64), np.asarray(rs, dtype=np.int64))


# ---------------------------------------------------------------------- data checks
def _array(value: Any, shape: tuple[int, ...], name: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise AppDataError(f"{name} must hold numbers") from None
    if len(shape) == 1 and arr.size == shape[0]:
        arr = arr.reshape(-1)  # a column of numbers is as good as a row
    if arr.shape != shape:
        raise AppDataError(f"{name} has shape {arr.shape}; expected {shape}")
    if not np.all(np.isfinite(arr)):
        raise AppDataError(f"{name} has NaN or infinite entries")
    return arr


def _index_pairs(value: Any, num_sites: int, name: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64).reshape(-1, 2)
    except (TypeError, ValueError):
        raise AppDataError(f"{name} must be pairs of site indices") from None
    if np.any(arr != np.round(arr)) or np.any(arr < 0) or np.any(arr >= num_sites):
        raise AppDataError(f"{name} must hold site indices 0..{num_sites - 1}")
    arr = arr.astype(np.int64)
    if np.any(arr[:, 0] == arr[:, 1]):
        raise AppDataError(f"{name} joins a site to itself; drop such pairs")
    return arr


def _costs(value: Any, size: int, name: str) -> np.ndarray:
    try:
        arr = np.broadcast_to(np.asarray(value, dtype=np.float64), (size,)).copy()
    except (TypeError, ValueError):
        raise AppDataError(f"{name} must be a number or one number per entry ({size})") from None
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise AppDataError(f"{name} must be finite and non-negative")
    return arr
