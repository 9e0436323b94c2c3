"""Seeded QKD network instances: metropolitan (a 40 km square) or nationwide (a corridor
60 km wide with one site per 60 km of its length, a backbone along a country's length).

Sites are scattered at random; candidate fibre links join Delaunay neighbours (how ducts
follow streets and the country's corridors, roughly), each fibre 1.2–1.6 times the straight
line. Demands join random site pairs, with key rates drawn lognormally and a security class
drawn per demand (a QKD-required demand the network cannot reach becomes "QKD or PQC").
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from kakehashi.apps.base import AppDataError

__all__ = ["SCALES", "generate_network"]

# per scale: side lengths (km; None: the corridor), fibre detour range, longest straight
# link considered (km), median demand rate (kbit/s) and its lognormal sigma, cost of a pair /
# trusted node / gateway, capacity cost per kbit/s per link, trusted-node limit for pure
# QKD, most links in a route, and the distance over which traffic falls by e (gravity model)
SCALES = {
    "metro": dict(
        side=(40.0, 40.0),
        detour=(1.2, 1.6),
        longest=30.0,
        rate_kbps=20.0,
        rate_sigma=1.0,
        pair=100.0,
        trusted=60.0,
        gateway=15.0,
        capacity=0.05,
        max_trusted=1,
        max_hops=6,
        traffic_km=math.inf,
    ),
    "national": dict(
        side=None,
        detour=(1.1, 1.3),
        longest=160.0,
        rate_kbps=4.0,
        rate_sigma=0.8,
        pair=150.0,
        trusted=80.0,
        gateway=15.0,
        capacity=0.05,
        max_trusted=2,
        max_hops=8,
        traffic_km=300.0,
    ),
}
CLASS_SHARES = {"qkd": 0.3, "qkd_or_pqc": 0.4, "pqc": 0.3}


def generate_network(size: int, seed: int | None = None, *, scale: str = "metro"):
    """A random network of ``size`` sites at ``scale`` (``"metro"`` or ``"national"``).

    Example:
        >>> d = generate_network(6, seed=0)
        >>> d.num_sites, d.num_demands
        (6, 6)
    """
    from kakehashi.apps.qkd_network import QkdNetworkData, candidate_routes

    if scale not in SCALES:
        raise AppDataError(f"unknown scale {scale!r}; use one of {', '.join(SCALES)}")
    if size < 2:
        raise AppDataError(f"a QKD network needs at least 2 sites, got size={size}")
    cfg = SCALES[scale]
    rng = np.random.default_rng(seed)
    N = int(size)
    if cfg["side"] is not None:
        pos = rng.uniform(0.0, 1.0, (N, 2)) * np.asarray(cfg["side"])
    else:
        # one site per 60 km of corridor, jittered: a backbone has no 200 km gaps
        along = (rng.permutation(N) + rng.uniform(0.2, 0.8, N)) * 60.0
        pos = np.column_stack([along, rng.uniform(0.0, 60.0, N)])
    links = _neighbour_links(pos, cfg["longest"])
    straight = np.hypot(*(pos[links[:, 0]] - pos[links[:, 1]]).T)
    length = np.round(straight * rng.uniform(*cfg["detour"], len(links)), 1).clip(min=0.5)

    # N demands between distinct site pairs (fewer when the sites have fewer pairs)
    all_pairs = np.array([(a, b) for a in range(N) for b in range(a + 1, N)], dtype=np.int64)
    D = min(N, len(all_pairs))
    # traffic falls off with distance (a gravity model): most demands are regional
    far = np.hypot(*(pos[all_pairs[:, 0]] - pos[all_pairs[:, 1]]).T) / cfg["traffic_km"]
    weight = np.exp(-far) / np.exp(-far).sum()
    demands = all_pairs[rng.choice(len(all_pairs), D, replace=False, p=weight)]
    flip = rng.random(D) < 0.5
    demands[flip] = demands[flip][:, ::-1]
    kbps = np.exp(rng.normal(math.log(cfg["rate_kbps"]), cfg["rate_sigma"], D))
    rate = np.clip(np.round(kbps), 1, 50 * cfg["rate_kbps"]) * 1000.0
    security = list(rng.choice(list(CLASS_SHARES), D, p=list(CLASS_SHARES.values())))
    prefix = "m" if scale == "metro" else "c"
    fields = dict(
        sites=[f"{prefix}{i:02d}" for i in range(N)],
        coords_km=np.round(pos, 2),
        links=links,
        length_km=length,
        demands=demands,
        rate_bps=rate,
        pair_cost=cfg["pair"],
        trusted_node_cost=cfg["trusted"],
        gateway_cost=cfg["gateway"],
        capacity_unit_cost=cfg["capacity"],
        max_trusted_nodes=cfg["max_trusted"],
        max_route_hops=cfg["max_hops"],
        name=f"{scale}-{N}-seed{seed}",
    )
    # a QKD-required demand the network cannot reach is relaxed; the draw stays seeded
    trial = QkdNetworkData(**fields, security=["pqc"] * D)
    routes = candidate_routes(trial)
    security = [
        "qkd_or_pqc" if (c == "qkd" and not routes[d]) else str(c) for d, c in enumerate(security)
    ]
    # enough pairs per link for every QKD-required demand on its shortest chain at once
    units_per_pair = trial.units_per_pair()
    need = np.zeros(trial.num_links)
    link_of = trial.link_index()
    for d in np.flatnonzero(np.asarray(security) == "qkd"):
        path = routes[d][0]
        for u, v in itertools.pairwise(path):
            need[link_of[(u, v)]] += trial.demand_units()[d]
    pairs_needed = np.ceil(need / np.maximum(units_per_pair, 1)).max(initial=0)
    return QkdNetworkData(**fields, security=security, max_pairs_per_link=int(max(2, pairs_needed)))


def _neighbour_links(pos: np.ndarray, longest: float) -> np.ndarray:
    """Delaunay edges no longer than ``longest`` km, plus the shortest edges that keep the
    network connected (a minimum spanning tree of the Delaunay graph)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import minimum_spanning_tree
    from scipy.spatial import Delaunay, QhullError

    N = len(pos)
    pairs: set[tuple[int, int]] = set()
    try:
        tri = Delaunay(pos)
        for simplex in tri.simplices:
            for i in range(3):
                a, b = sorted((int(simplex[i]), int(simplex[(i + 1) % 3])))
                pairs.add((a, b))
    except (QhullError, ValueError):  # fewer than 4 sites or all on a line: join all
        pairs = {(a, b) for a in range(N) for b in range(a + 1, N)}
    edges = np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)
    dist = np.hypot(*(pos[edges[:, 0]] - pos[edges[:, 1]]).T)
    graph = coo_matrix((dist + 1e-9, (edges[:, 0], edges[:, 1])), shape=(N, N))
    tree = minimum_spanning_tree(graph).tocoo()
    keep = {(min(a, b), max(a, b)) for a, b in zip(tree.row, tree.col, strict=True)}
    keep |= {tuple(e) for e, L in zip(edges.tolist(), dist, strict=True) if L <= longest}
    return np.array(sorted(keep), dtype=np.int64).reshape(-1, 2)
