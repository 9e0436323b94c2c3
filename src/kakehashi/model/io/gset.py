"""Gset / rudy graph files read as max-cut.

Format: a first line ``N E``, then ``E`` lines ``i j w`` (vertices numbered from 1; ``w``
optional, default 1). The problem is over binaries ``x`` of shape (N,) — the side of each
vertex — and **maximises the cut value itself**::

    cut(x) = Σ_{(i,j) ∈ E} w_ij (x_i + x_j − 2 x_i x_j)

so a 0/1 certificate evaluates to exactly the published cut value (sense ``"max"``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from kakehashi.model.io.readers_common import (
    declared_count,
    fail,
    line_of_number,
    parse_numbers,
    read_text,
)
from kakehashi.model.problem import Problem


def read_gset(path: str | Path) -> Problem:
    """Read a Gset/rudy graph as a max-cut Problem whose objective is the cut value.

    Example:
        >>> from importlib.resources import files
        >>> p = read_gset(files("kakehashi.data") / "maxcut16.txt")
        >>> p.sense, p.num_variables
        ('max', 16)
    """
    text = read_text(path)
    skipped = len(text) - len(text.lstrip())
    first_line = 1 + text.count("\n", 0, skipped)
    lines = text[skipped:].split("\n", 2)
    if not lines or not lines[0].strip():
        raise fail(path, "the file is empty", "a Gset/rudy file starts with a line 'N E'")
    header = lines[0].split()
    if len(header) != 2:
        raise fail(
            path,
            f"line {first_line}: the first line should be 'N E' (vertices, edges) but is "
            f"{lines[0].strip()[:60]!r}",
            "check that this is a Gset/rudy graph file",
        )
    width = len(lines[1].split()) if len(lines) > 1 and lines[1].strip() else 3
    if width not in (2, 3):
        raise fail(
            path,
            f"line {first_line + 1}: edge lines should be 'i j w' or 'i j', found "
            f"{lines[1].strip()[:60]!r}",
            "check the file",
        )
    body_text = text[skipped + len(lines[0]) :]
    n_nodes = declared_count(path, header[0], "the vertex count N", line=first_line)
    # the edge count is compared with the edges present once they are parsed (below)
    n_edges = declared_count(path, header[1], "the edge count E", line=first_line, budget="terms")
    if n_nodes < 1:
        raise fail(path, f"line {first_line}: the graph has no vertices (N = 0)", "fix N")
    body = parse_numbers(body_text, path, "a Gset/rudy graph", first_line=first_line)
    if body.size != width * n_edges:
        have = body.size // width
        what = "ends early" if body.size < width * n_edges else "has more numbers than declared"
        raise fail(
            path,
            f"line {first_line}: the header declares {n_edges} edges but the file {what} "
            f"({have} complete edge lines)",
            "the file is truncated or the header is wrong: re-download it or fix the header",
        )
    edges = body.reshape(n_edges, width)
    ends = edges[:, :2]
    if np.any(ends != np.round(ends)) or (n_edges and (ends.min() < 1 or ends.max() > n_nodes)):
        bad = int(
            np.flatnonzero(
                np.any((ends != np.round(ends)) | (ends < 1) | (ends > n_nodes), axis=1)
            )[0]
        )
        line = first_line - 1 + line_of_number(body_text, bad * width)
        raise fail(
            path,
            f"line {line}: edge line {bad + 1} names vertex {edges[bad, 0]:g} or "
            f"{edges[bad, 1]:g}, outside 1..{n_nodes}",
            "vertices are whole numbers from 1 to N",
        )
    i = ends[:, 0].astype(np.int64) - 1
    j = ends[:, 1].astype(np.int64) - 1
    w = edges[:, 2] if width == 3 else np.ones(n_edges)
    return maxcut_problem(n_nodes, i, j, w, name=Path(path).name.split(".")[0], source=str(path))


def maxcut_problem(
    n_nodes: int,
    i: np.ndarray,
    j: np.ndarray,
    w: np.ndarray,
    *,
    name: str = "maxcut",
    source: str = "",
) -> Problem:
    """Max-cut over binaries: maximise Σ w_ij (x_i + x_j − 2 x_i x_j) (self-loops add 0)."""
    linear = np.bincount(i, weights=w, minlength=n_nodes) + np.bincount(
        j, weights=w, minlength=n_nodes
    )
    quadratic = sp.csr_matrix(
        (-2.0 * w, (np.minimum(i, j), np.maximum(i, j))), shape=(n_nodes, n_nodes)
    )
    problem = Problem.from_arrays(linear=linear, quadratic=quadratic, sense="max", name=name)
    problem.metadata = {
        "format": "gset",
        "source": source,
        "nodes": n_nodes,
        "edges": len(w),
        "objective": "cut value: total weight of edges whose ends lie on different sides",
    }
    return problem
