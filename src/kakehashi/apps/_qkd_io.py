"""Read a QKD network file: one JSON document, its three tables inline or as CSV files.

    {"name": "tokyo-qkd",
     "sites":   [{"name": "Koganei", "lat": 35.71, "lon": 139.49}, ...]   or "sites.csv",
     "links":   [{"a": "Koganei", "b": "Otemachi", "length_km": 45}, ...] or "links.csv",
     "demands": [{"a": ..., "b": ..., "rate_bps": 10000, "security": "qkd"}, ...],
     "costs":   {"qkd_pair": 100, "trusted_node": 60, "pqc_gateway": 15, "capacity_unit": 0.05},
     "settings": {"key_unit_bps": 1000, "max_pairs_per_link": 2, "max_trusted_nodes": 1, ...},
     "physics": {"loss_db_per_km": 0.21, "repetition_rate_hz": 1e9, ...}}

A table given as a string is a CSV file (a header row with the same column names) relative
to the JSON file. docs/apps/qkd-network.md lists every column and key.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from kakehashi.apps._qkd_keyrate import DecoyBB84
from kakehashi.model.io.readers_common import fail, require_file

__all__ = ["read_network"]

EARTH_RADIUS_KM = 6371.0
TOP_KEYS = {
    "name",
    "source",
    "description",
    "sites",
    "links",
    "demands",
    "costs",
    "settings",
    "physics",
}
# every table also takes a free-text "note" column (where a figure comes from), not read
COLUMNS = {
    "sites": (
        {"name"},
        {
            "x_km",
            "y_km",
            "lat",
            "lon",
            "trusted_node_cost",
            "pqc_gateway_cost",
            "trusted_allowed",
            "note",
        },
    ),
    "links": ({"a", "b", "length_km"}, {"loss_db_per_km", "pair_cost", "note"}),
    "demands": ({"a", "b", "rate_bps", "security"}, {"note"}),
}
COSTS = {
    "qkd_pair": "pair_cost",
    "trusted_node": "trusted_node_cost",
    "pqc_gateway": "gateway_cost",
    "capacity_unit": "capacity_unit_cost",
}
SETTINGS = (
    "key_unit_bps",
    "max_pairs_per_link",
    "max_trusted_nodes",
    "routes_per_demand",
    "max_route_hops",
)
PHYSICS = tuple(DecoyBB84.__dataclass_fields__)


def read_network(path: str | Path):
    """A :class:`~kakehashi.apps.qkd_network.QkdNetworkData` from a network JSON file.

    Example:
        >>> from kakehashi.apps.base import shipped_instance_dir
        >>> d = read_network(shipped_instance_dir() / "qkd-network" / "tokyo-qkd.json")
        >>> d.sites[:2]
        ['Koganei', 'Otemachi']
    """
    from kakehashi.apps.qkd_network import QkdNetworkData

    p = require_file(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise fail(
            p, f"is not valid JSON ({exc})", "fix the file (format in docs/apps/qkd-network.md)"
        ) from None
    except UnicodeDecodeError:
        raise fail(p, "is not a UTF-8 text file", "give a network .json file") from None
    if not isinstance(doc, dict):
        raise fail(
            p,
            "holds no JSON object",
            "the file must be one {...} object with sites, links, demands",
        )
    unknown = set(doc) - TOP_KEYS
    if unknown:
        raise fail(p, f"has unknown keys {sorted(unknown)}", f"use only {sorted(TOP_KEYS)}")
    sites = _table(doc, "sites", p)
    links = _table(doc, "links", p)
    demands = _table(doc, "demands", p)

    names = [str(r["name"]) for r in sites]
    index = {n: i for i, n in enumerate(names)}
    if len(index) != len(names):
        raise fail(p, "lists a site name twice", "give every site a unique name")

    def site(row: dict[str, Any], key: str, table: str, k: int) -> int:
        name = str(row[key])
        if name not in index:
            raise fail(
                p,
                f"{table} row {k + 1}: unknown site {name!r} in column {key!r}",
                "use a name from the sites table",
            )
        return index[name]

    fields: dict[str, Any] = {
        "name": str(doc.get("name", p.stem)),
        "sites": names,
        "coords_km": _coordinates(sites, p),
        "links": [
            [site(r, "a", "links", k), site(r, "b", "links", k)] for k, r in enumerate(links)
        ],
        "length_km": [_number(r, "length_km", "links", k, p) for k, r in enumerate(links)],
        "demands": [
            [site(r, "a", "demands", k), site(r, "b", "demands", k)] for k, r in enumerate(demands)
        ],
        "rate_bps": [_number(r, "rate_bps", "demands", k, p) for k, r in enumerate(demands)],
        "security": [str(r["security"]).strip() for r in demands],
    }
    costs = _section(doc, "costs", set(COSTS), p)
    for key, field in COSTS.items():
        if key in costs:
            fields[field] = _plain_number(costs[key], f"costs.{key}", p)
    # per-row figures override the defaults of the costs section
    fields.update(_per_row(links, "pair_cost", fields.get("pair_cost", 100.0), "links", p))
    fields.update(_per_row(links, "loss_db_per_km", None, "links", p, field="link_loss_db_per_km"))
    fields.update(
        _per_row(sites, "trusted_node_cost", fields.get("trusted_node_cost", 60.0), "sites", p)
    )
    fields.update(
        _per_row(
            sites,
            "pqc_gateway_cost",
            fields.get("gateway_cost", 15.0),
            "sites",
            p,
            field="gateway_cost",
        )
    )
    if any(r.get("trusted_allowed") not in (None, "") for r in sites):
        fields["trusted_allowed"] = [
            _flag(r.get("trusted_allowed"), k, p) for k, r in enumerate(sites)
        ]
    settings = _section(doc, "settings", set(SETTINGS), p)
    for key in SETTINGS:
        if key in settings:
            fields[key] = _plain_number(settings[key], f"settings.{key}", p)
    physics = _section(doc, "physics", set(PHYSICS), p)
    fields["physics"] = DecoyBB84(
        **{
            k: (None if v is None else _plain_number(v, f"physics.{k}", p))
            for k, v in physics.items()
        }
    )
    if "link_loss_db_per_km" in fields:
        default = fields["physics"].loss_db_per_km
        fields["link_loss_db_per_km"] = [
            default if v is None else v for v in fields["link_loss_db_per_km"]
        ]
    return QkdNetworkData(**fields)


# ---------------------------------------------------------------------- tables
def _table(doc: dict[str, Any], key: str, path: Path) -> list[dict[str, Any]]:
    if key not in doc:
        raise fail(path, f"has no {key!r} table", f'add "{key}": [...] or "{key}": "{key}.csv"')
    value = doc[key]
    where = f"{key!r}"
    if isinstance(value, str):
        csv_path = require_file(path.parent / value)
        where = str(csv_path)
        with csv_path.open(newline="", encoding="utf-8") as fh:
            rows = [
                {k.strip(): (v.strip() if isinstance(v, str) else v) for k, v in row.items() if k}
                for row in csv.DictReader(fh)
            ]
    elif isinstance(value, list) and all(isinstance(r, dict) for r in value):
        rows = value
    else:
        raise fail(
            path,
            f"{key!r} must be a list of objects or the name of a CSV file",
            f'write "{key}": [{{...}}, ...] or "{key}": "{key}.csv"',
        )
    required, optional = COLUMNS[key]
    for k, row in enumerate(rows):
        missing = sorted(c for c in required if row.get(c) in (None, ""))
        if missing:
            raise fail(
                path,
                f"{where} row {k + 1} lacks {missing}",
                f"give {sorted(required)} in every row",
            )
        unknown = sorted(set(row) - required - optional)
        if unknown:
            raise fail(
                path,
                f"{where} row {k + 1} has unknown columns {unknown}",
                f"use only {sorted(required | optional)}",
            )
    return rows


def _section(doc: dict[str, Any], key: str, allowed: set[str], path: Path) -> dict[str, Any]:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise fail(path, f"{key!r} must be an object", f'write "{key}": {{...}}')
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise fail(path, f"{key!r} has unknown keys {unknown}", f"use only {sorted(allowed)}")
    return value


def _coordinates(sites: list[dict[str, Any]], path: Path) -> np.ndarray:
    """Site positions in km: given as x_km/y_km, or lat/lon projected about their middle."""
    has_xy = all(r.get("x_km") not in (None, "") and r.get("y_km") not in (None, "") for r in sites)
    has_geo = all(r.get("lat") not in (None, "") and r.get("lon") not in (None, "") for r in sites)
    if has_xy:
        return np.array(
            [
                [_number(r, "x_km", "sites", k, path), _number(r, "y_km", "sites", k, path)]
                for k, r in enumerate(sites)
            ]
        )
    if has_geo:
        lat = np.array([_number(r, "lat", "sites", k, path) for k, r in enumerate(sites)])
        lon = np.array([_number(r, "lon", "sites", k, path) for k, r in enumerate(sites)])
        if np.any(np.abs(lat) > 90) or np.any(np.abs(lon) > 180):
            raise fail(
                path, "a site's lat/lon is out of range", "give degrees, lat in ±90, lon in ±180"
            )
        lat0 = math.radians(float(lat.mean()))
        x = np.radians(lon - lon.mean()) * math.cos(lat0) * EARTH_RADIUS_KM
        y = np.radians(lat - lat.mean()) * EARTH_RADIUS_KM
        return np.column_stack([x, y]).round(3)
    raise fail(
        path, "sites need coordinates", "give every site x_km and y_km, or every site lat and lon"
    )


def _per_row(
    rows: list[dict[str, Any]],
    column: str,
    default: Any,
    table: str,
    path: Path,
    *,
    field: str | None = None,
) -> dict[str, Any]:
    if not any(r.get(column) not in (None, "") for r in rows):
        return {}
    values = [
        default if r.get(column) in (None, "") else _number(r, column, table, k, path)
        for k, r in enumerate(rows)
    ]
    return {field or column: values}


def _number(row: dict[str, Any], column: str, table: str, k: int, path: Path) -> float:
    return _plain_number(row[column], f"{table} row {k + 1} column {column!r}", path)


def _plain_number(value: Any, where: str, path: Path) -> float:
    if isinstance(value, bool):
        raise fail(path, f"{where} is {value!r}, not a number", "give a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise fail(path, f"{where} is {value!r}, not a number", "give a number") from None
    if not math.isfinite(number):
        raise fail(path, f"{where} is {value!r}", "give a finite number")
    return number


def _flag(value: Any, k: int, path: Path) -> bool:
    if value in (None, ""):
        return True
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0"):
        return False
    raise fail(path, f"sites row {k + 1}: trusted_allowed is {value!r}", "write true or false")
