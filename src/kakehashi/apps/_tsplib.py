"""TSPLIB95 reader with TSPLIB's own distance rules (TSP, ATSP and CVRP files).

The distance functions follow G. Reinelt, *TSPLIB 95* (Universität Heidelberg), section 2:
``nint(x) = int(x + 0.5)``; ``EUC_2D``/``EUC_3D`` round the Euclidean distance; ``CEIL_2D``
rounds it up; ``MAN``/``MAX`` are the rounded L1/L∞ distances; ``ATT`` is the
pseudo-Euclidean distance of the att48/att532 instances; ``GEO`` reads coordinates as
``DDD.MM`` (degrees and minutes), converts them with π = 3.141592 and measures great-circle
distance on a sphere of radius 6378.388 km, truncated to an integer after adding 1.
``EXPLICIT`` matrices come in the nine ``EDGE_WEIGHT_FORMAT`` layouts.

Getting these rules exactly right is what makes published optima (burma14 = 3323) come out.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from kakehashi.errors import InputFormatError

__all__ = ["TsplibFile", "distance_matrix", "read_tsplib"]

_SECTIONS = (
    "NODE_COORD_SECTION",
    "EDGE_WEIGHT_SECTION",
    "DISPLAY_DATA_SECTION",
    "DEMAND_SECTION",
    "DEPOT_SECTION",
    "FIXED_EDGES_SECTION",
    "TOUR_SECTION",
    "EDGE_DATA_SECTION",
)
_FUNCTION_TYPES = (
    "EUC_2D",
    "EUC_3D",
    "CEIL_2D",
    "MAN_2D",
    "MAN_3D",
    "MAX_2D",
    "MAX_3D",
    "GEO",
    "ATT",
)
_MATRIX_FORMATS = (
    "FULL_MATRIX",
    "UPPER_ROW",
    "LOWER_ROW",
    "UPPER_DIAG_ROW",
    "LOWER_DIAG_ROW",
    "UPPER_COL",
    "LOWER_COL",
    "UPPER_DIAG_COL",
    "LOWER_DIAG_COL",
)


@dataclasses.dataclass
class TsplibFile:
    """What a TSPLIB file says: its specification and the resolved integer distances.

    ``distances`` is (n, n) int64 with TSPLIB's rounding already applied; ``coords`` is
    (n, 2|3) or ``None`` for explicit matrices; ``demand``/``depots`` (0-based) come from
    CVRP files.
    """

    name: str
    type: str
    dimension: int
    edge_weight_type: str
    distances: np.ndarray
    coords: np.ndarray | None = None
    comment: str = ""
    capacity: int | None = None
    demand: np.ndarray | None = None
    depots: list[int] = dataclasses.field(default_factory=list)
    spec: dict[str, str] = dataclasses.field(default_factory=dict)


def _fail(path: str | Path, what: str, fix: str = "check the file against TSPLIB95") -> None:
    raise InputFormatError(f"{path}: {what}; {fix}")


def read_tsplib(path: str | Path) -> TsplibFile:
    """Read a TSPLIB95 ``.tsp``/``.atsp``/``.vrp`` file (plain or gzipped).

    Example:
        >>> from kakehashi.apps.base import shipped_instance_dir
        >>> f = read_tsplib(shipped_instance_dir() / "burma14.tsp")
        >>> f.name, f.edge_weight_type, int(f.distances[0, 1])
        ('burma14', 'GEO', 153)
    """
    from kakehashi.model.io.readers_common import read_text

    text = read_text(path)
    spec: dict[str, str] = {}
    spec_line: dict[str, int] = {}
    sections: dict[str, _Section] = {}
    current: _Section | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            if current is not None:
                current.lines.append("")  # keeps the section's lines numbered as in the file
            continue
        head = line.split(":", 1)[0].strip().upper() if ":" in line else line.split()[0].upper()
        if head == "EOF":
            break
        if head in _SECTIONS:
            rest = line[len(line.split()[0]) :].strip(" :")
            current = sections.setdefault(head, _Section(number if rest else number + 1, []))
            if rest:
                current.lines.append(rest)
            continue
        if ":" in line and not _looks_numeric(head):
            key, value = line.split(":", 1)
            spec[key.strip().upper()] = value.strip()
            spec_line[key.strip().upper()] = number
            current = None
            continue
        if current is None:
            _fail(path, f"line {number}: unexpected line {line[:60]!r} outside any data section")
        current.lines.append(line)
    return _resolve(path, spec, sections, spec_line)


@dataclasses.dataclass
class _Section:
    first_line: int  # the file's line number of lines[0]
    lines: list[str]


def _looks_numeric(token: str) -> bool:
    try:
        float(token.split()[0])
    except (ValueError, IndexError):
        return False
    return True


def _numbers(path: str | Path, section: _Section, what: str) -> np.ndarray:
    from kakehashi.model.io.readers_common import parse_numbers

    return parse_numbers("\n".join(section.lines), path, what, first_line=section.first_line)


def _resolve(
    path: str | Path,
    spec: dict[str, str],
    sections: dict[str, _Section],
    spec_line: dict[str, int],
) -> TsplibFile:
    from kakehashi.limits import max_terms
    from kakehashi.model.io.readers_common import declared_count, finite_number

    if "DIMENSION" not in spec:
        _fail(path, "no DIMENSION in the specification part")
    line = spec_line["DIMENSION"]
    n = declared_count(path, spec["DIMENSION"], "DIMENSION", line=line, budget="nodes")
    if n < 2:
        _fail(path, f"line {line}: DIMENSION {n} is too small: a tour needs at least 2 nodes")
    if n * n > max_terms():
        _fail(
            path,
            f"line {line}: DIMENSION {n} needs a {n}×{n} distance matrix, more than the limit "
            f"of {max_terms()} entries",
            "raise the limit with the environment variable KAKEHASHI_MAX_TERMS if this machine "
            "has the memory",
        )
    kind = spec.get("TYPE", "TSP").split()[0].upper() if spec.get("TYPE") else "TSP"
    ewt = spec.get("EDGE_WEIGHT_TYPE", "").upper()
    if not ewt:
        _fail(path, "no EDGE_WEIGHT_TYPE in the specification part")
    coords = None
    if "NODE_COORD_SECTION" in sections:
        nums = _numbers(path, sections["NODE_COORD_SECTION"], "NODE_COORD_SECTION")
        width = 4 if ewt.endswith("_3D") else 3
        if nums.size != n * width:
            _fail(
                path,
                f"NODE_COORD_SECTION holds {nums.size} numbers; {n} nodes of "
                f"'id x y{' z' if width == 4 else ''}' need {n * width}",
                "the file is truncated or DIMENSION is wrong",
            )
        table = nums.reshape(n, width)
        order = np.argsort(table[:, 0], kind="stable")
        coords = table[order, 1:]
    if ewt == "EXPLICIT":
        fmt = spec.get("EDGE_WEIGHT_FORMAT", "").upper()
        if fmt not in _MATRIX_FORMATS:
            _fail(
                path,
                f"EDGE_WEIGHT_FORMAT {fmt or '(missing)'!r} is not one of "
                f"{', '.join(_MATRIX_FORMATS)}",
            )
        if "EDGE_WEIGHT_SECTION" not in sections:
            _fail(path, "EDGE_WEIGHT_TYPE is EXPLICIT but there is no EDGE_WEIGHT_SECTION")
        weights = _numbers(path, sections["EDGE_WEIGHT_SECTION"], "EDGE_WEIGHT_SECTION")
        dist = explicit_matrix(weights, n, fmt, path)
    elif ewt in _FUNCTION_TYPES:
        if coords is None:
            _fail(path, f"EDGE_WEIGHT_TYPE {ewt} needs a NODE_COORD_SECTION")
        dist = distance_matrix(coords, ewt)
    else:
        _fail(
            path,
            f"EDGE_WEIGHT_TYPE {ewt!r} is not supported",
            f"kakehashi reads EXPLICIT, {', '.join(_FUNCTION_TYPES)}",
        )
    demand = None
    if "DEMAND_SECTION" in sections:
        nums = _numbers(path, sections["DEMAND_SECTION"], "DEMAND_SECTION")
        if nums.size != 2 * n:
            _fail(
                path, f"DEMAND_SECTION should hold {n} 'id demand' pairs, has {nums.size} numbers"
            )
        table = nums.reshape(n, 2)
        if np.any(np.abs(table[:, 1]) >= 2**53):
            _fail(path, "DEMAND_SECTION holds a demand beyond ±2**53", "give whole-number demands")
        demand = table[np.argsort(table[:, 0], kind="stable"), 1].astype(np.int64)
    depots: list[int] = []
    if "DEPOT_SECTION" in sections:
        nums = _numbers(path, sections["DEPOT_SECTION"], "DEPOT_SECTION")
        for v in nums:
            if v == -1:
                break
            if not 1 <= v <= n:
                _fail(path, f"DEPOT_SECTION names node {v:g}, outside 1..{n}")
            depots.append(int(v) - 1)
    capacity = None
    if "CAPACITY" in spec:
        value = finite_number(path, spec["CAPACITY"], "CAPACITY", spec_line["CAPACITY"])
        if not 0 < value < 2**53:
            _fail(path, f"line {spec_line['CAPACITY']}: CAPACITY {value:g} is not a positive size")
        capacity = int(value)
    return TsplibFile(
        name=spec.get("NAME", Path(path).name.split(".")[0]),
        type=kind,
        dimension=n,
        edge_weight_type=ewt,
        distances=dist,
        coords=coords,
        comment=spec.get("COMMENT", ""),
        capacity=capacity,
        demand=demand,
        depots=depots,
        spec=spec,
    )


def explicit_matrix(
    weights: np.ndarray, n: int, fmt: str, path: str | Path = "<data>"
) -> np.ndarray:
    """The (n, n) matrix from an ``EDGE_WEIGHT_SECTION`` in one of TSPLIB's nine layouts.

    Example:
        >>> explicit_matrix(np.array([0, 1, 0, 2, 3, 0.]), 3, "LOWER_DIAG_ROW").tolist()
        [[0, 1, 2], [1, 0, 3], [2, 3, 0]]
    """
    if np.any(np.abs(weights) >= 2**53):
        _fail(path, f"{fmt} holds a weight beyond ±2**53", "give whole-number distances")
    if fmt == "FULL_MATRIX":
        if weights.size != n * n:
            _fail(path, f"FULL_MATRIX of dimension {n} needs {n * n} numbers, found {weights.size}")
        return np.rint(weights.reshape(n, n)).astype(np.int64)
    diag = "DIAG" in fmt
    k = 0 if diag else 1
    # the count comes first, so a huge DIMENSION never builds its index arrays
    expected = n * (n + 1) // 2 if diag else n * (n - 1) // 2
    if weights.size != expected:
        _fail(path, f"{fmt} of dimension {n} needs {expected} numbers, found {weights.size}")
    # row-major upper (incl. diagonal when DIAG) == column-major lower, and vice versa
    if fmt.startswith("UPPER") == fmt.endswith("ROW"):
        rows, cols = np.triu_indices(n, k)
    else:
        rows, cols = np.tril_indices(n, -k)
        # tril_indices is row-major over the lower triangle: LOWER_ROW / LOWER_DIAG_ROW order;
        # UPPER_COL lists column by column the upper triangle, which is the same sequence
        # with the roles of row and column swapped
    mat = np.zeros((n, n), dtype=np.int64)
    vals = np.rint(weights).astype(np.int64)
    if fmt.endswith("COL"):
        rows, cols = cols, rows
    mat[rows, cols] = vals
    mat[cols, rows] = vals
    return mat


def _nint(x: np.ndarray) -> np.ndarray:
    return np.floor(x + 0.5).astype(np.int64)


def distance_matrix(coords: np.ndarray, edge_weight_type: str) -> np.ndarray:
    """TSPLIB's integer distances between all pairs of ``coords`` under ``edge_weight_type``.

    Example:
        >>> distance_matrix(np.array([[0.0, 0.0], [3.0, 4.2]]), "EUC_2D").tolist()
        [[0, 5], [5, 0]]
    """
    c = np.asarray(coords, dtype=np.float64)
    ewt = edge_weight_type.upper()
    diff = c[:, None, :] - c[None, :, :]
    if ewt in ("EUC_2D", "EUC_3D"):
        d = _nint(np.sqrt((diff**2).sum(axis=2)))
    elif ewt == "CEIL_2D":
        d = np.ceil(np.sqrt((diff**2).sum(axis=2)) - 1e-9).astype(np.int64)
    elif ewt in ("MAN_2D", "MAN_3D"):
        d = _nint(np.abs(diff).sum(axis=2))
    elif ewt in ("MAX_2D", "MAX_3D"):
        d = np.maximum(_nint(np.abs(diff[..., 0])), _nint(np.abs(diff[..., 1])))
        if c.shape[1] == 3:
            d = np.maximum(d, _nint(np.abs(diff[..., 2])))
    elif ewt == "ATT":
        r = np.sqrt((diff[..., 0] ** 2 + diff[..., 1] ** 2) / 10.0)
        t = _nint(r)
        d = np.where(t < r, t + 1, t)
    elif ewt == "GEO":
        pi = 3.141592  # TSPLIB's own value of π: using math.pi changes some distances
        deg = np.trunc(c)
        minutes = c - deg
        rad = pi * (deg + 5.0 * minutes / 3.0) / 180.0
        lat, lon = rad[:, 0], rad[:, 1]
        q1 = np.cos(lon[:, None] - lon[None, :])
        q2 = np.cos(lat[:, None] - lat[None, :])
        q3 = np.cos(lat[:, None] + lat[None, :])
        arg = np.clip(0.5 * ((1.0 + q1) * q2 - (1.0 - q1) * q3), -1.0, 1.0)
        d = (6378.388 * np.arccos(arg) + 1.0).astype(np.int64)
    else:
        raise InputFormatError(
            f"distance type {edge_weight_type!r} is not supported; use one of "
            f"{', '.join(_FUNCTION_TYPES)} or EXPLICIT"
        )
    np.fill_diagonal(d, 0)
    return d
