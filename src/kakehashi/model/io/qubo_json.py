"""The JSON form of an unconstrained QUBO or Ising problem.

A JSON object with these keys (anything else is an error)::

    {
      "vartype":   "BINARY" | "SPIN",                 required (case-insensitive)
      "linear":    {"<label>": bias, ...},            optional; or a list of biases for 0..n-1
      "quadratic": {"<label>,<label>": bias, ...},    optional; or nested {"a": {"b": bias}},
                                                      or a list of [label, label, bias]
      "offset":    number,                            optional, default 0
      "sense":     "min" | "max",                     optional, default "min"
      "variables": [label, ...],                      optional: order, and variables with no bias
      "name":      "text"                             optional
    }

Energy: ``offset + Σ linear[a]·v_a + Σ quadratic[a,b]·v_a·v_b`` with ``v ∈ {0,1}`` (BINARY)
or ``v ∈ {−1,+1}`` (SPIN); a pair listed twice (``"a,b"`` and ``"b,a"``) adds up.

Labels are strings (numbers in ``"variables"`` or triples are read as their decimal text).
A label ``"x[3,4]"`` is element (3, 4) of the array ``x``; labels ``"0" … "n-1"`` form the
array ``x``; labels sharing a name whose subscripts fill a box form one array, any other
label is a scalar variable of that name. In a ``"a,b"`` key the separating comma is the one
outside square brackets, so ``"x[0,1],x[2,3]"`` is unambiguous.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from kakehashi.errors import InputFormatError, UnsupportedError
from kakehashi.model.io._layout import infer_blocks, split_label
from kakehashi.model.io.readers_common import read_text
from kakehashi.model.problem import BINARY, SPIN, Problem, VarArray

KEYS = ("vartype", "linear", "quadratic", "offset", "sense", "variables", "name")
_HINTS = {
    "h": "linear",
    "j": "quadratic",
    "type": "vartype",
    "var_type": "vartype",
    "constant": "offset",
    "interactions": "quadratic",
    "biases": "linear",
    "labels": "variables",
}
_VARTYPES = {"BINARY": BINARY, "SPIN": SPIN}


def read_json(path: str | Path) -> Problem:
    """Read the JSON QUBO/Ising form (see the module docstring for the keys).

    Example:
        >>> from kakehashi.model.io import data_file
        >>> p = read_json(data_file("qubo_example.json"))
        >>> p.num_variables, p.sense
        (4, 'min')
    """
    text = read_text(path)
    try:
        doc = json.loads(text)
    except RecursionError:
        raise InputFormatError(
            f"{path}: the JSON nests too deeply to read; a QUBO/Ising JSON file is one object "
            f"with keys {', '.join(KEYS)}, nested at most two levels"
        ) from None
    except ValueError as exc:  # also integers longer than Python's 4300-digit limit
        raise InputFormatError(
            f"{path}: not valid JSON ({exc}); a QUBO/Ising JSON file is one object with keys "
            f"{', '.join(KEYS)}"
        ) from None
    return problem_from_json_dict(doc, source=str(path), name=Path(path).name.split(".")[0])


def problem_from_json_dict(
    doc: Any, *, source: str = "JSON document", name: str = "qubo"
) -> Problem:
    """Build a Problem from the parsed JSON QUBO/Ising form.

    Example:
        >>> doc = {"vartype": "SPIN", "linear": {"a": 1}, "quadratic": {"a,b": -1}}
        >>> p = problem_from_json_dict(doc)
        >>> [v.name for v in p.var_arrays], float(p.objective_values([[1, 1]])[0])
        (['a', 'b'], 0.0)
    """

    def bad(what: str, fix: str) -> InputFormatError:
        return InputFormatError(f"{source}: {what}; {fix}")

    if not isinstance(doc, dict):
        raise bad(
            f"the top level is a {type(doc).__name__}, not an object",
            f"write one object with keys {', '.join(KEYS)}",
        )
    unknown = [k for k in doc if k not in KEYS]
    if unknown:
        hints = [f"{k!r} → {_HINTS[k.lower()]!r}" for k in unknown if k.lower() in _HINTS]
        raise bad(
            f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(repr(k) for k in unknown)}",
            f"the allowed keys are {', '.join(KEYS)}"
            + (f" (did you mean {'; '.join(hints)}?)" if hints else ""),
        )
    if "vartype" not in doc:
        raise bad(
            "the key 'vartype' is missing", 'add "vartype": "BINARY" (0/1 variables) or "SPIN" (±1)'
        )
    vt_raw = doc["vartype"]
    code = _VARTYPES.get(str(vt_raw).upper()) if isinstance(vt_raw, str) else None
    if code is None:
        raise bad(
            f"unknown vartype {vt_raw!r}", 'use "BINARY" (0/1 variables) or "SPIN" (±1 variables)'
        )
    if "linear" not in doc and "quadratic" not in doc:
        raise bad(
            "neither 'linear' nor 'quadratic' is given",
            "give the biases under 'linear' and/or 'quadratic'",
        )

    def number(value: Any, where: str) -> float:
        try:
            ok = not isinstance(value, bool) and isinstance(value, (int, float))
            result = float(value) if ok else math.nan
        except OverflowError:  # an integer with hundreds of digits
            result = math.nan
        if not math.isfinite(result):
            shown = repr(value) if not isinstance(value, int) else f"{str(value)[:20]}…"
            raise bad(
                f"{where} is {shown}, not a finite number",
                "biases must be numbers within ±1.8e308",
            )
        return result

    def label(value: Any, where: str) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise bad(
                f"{where} is {value!r}, not a variable label", "labels are strings (or integers)"
            )
        return value if isinstance(value, str) else str(value)

    order: dict[str, int] = {}
    declared = doc.get("variables")
    if declared is not None:
        if not isinstance(declared, list):
            raise bad("'variables' must be a list of labels", 'e.g. "variables": ["a", "b"]')
        for k, v in enumerate(declared):
            lab = label(v, f"variables[{k}]")
            if lab in order:
                raise bad(
                    f"variable {lab!r} is listed twice in 'variables'", "list each label once"
                )
            order[lab] = len(order)

    def index(lab: str, where: str) -> int:
        k = order.get(lab)
        if k is None:
            if declared is not None:
                raise bad(
                    f"{where} uses variable {lab!r}, which 'variables' does not list",
                    "add it to 'variables'",
                )
            k = order[lab] = len(order)
        return k

    lin_idx: list[int] = []
    lin_val: list[float] = []
    linear = doc.get("linear", {})
    if isinstance(linear, list):
        for k, v in enumerate(linear):
            lin_idx.append(index(str(k), f"linear[{k}]"))
            lin_val.append(number(v, f"linear[{k}]"))
    elif isinstance(linear, dict):
        for lab, v in linear.items():
            lin_idx.append(index(lab, f"linear[{lab!r}]"))
            lin_val.append(number(v, f"linear[{lab!r}]"))
    else:
        raise bad(
            "'linear' must be an object {label: bias} or a list of biases", "fix the 'linear' value"
        )

    q_i: list[int] = []
    q_j: list[int] = []
    q_v: list[float] = []
    quadratic = doc.get("quadratic", {})
    if isinstance(quadratic, list):
        for k, item in enumerate(quadratic):
            if not isinstance(item, list) or len(item) != 3:
                raise bad(f"quadratic[{k}] is {item!r}", "each list entry is [label, label, bias]")
            where = f"quadratic[{k}]"
            q_i.append(index(label(item[0], where), where))
            q_j.append(index(label(item[1], where), where))
            q_v.append(number(item[2], where))
    elif isinstance(quadratic, dict):
        for key, v in quadratic.items():
            if isinstance(v, dict):  # nested {"a": {"b": bias}}
                for key2, w in v.items():
                    where = f"quadratic[{key!r}][{key2!r}]"
                    q_i.append(index(key, where))
                    q_j.append(index(key2, where))
                    q_v.append(number(w, where))
                continue
            where = f"quadratic[{key!r}]"
            a, b = _split_pair(
                key,
                lambda what, k=key: bad(
                    f"quadratic key {k!r} {what}",
                    'write pairs as "a,b" (one comma outside brackets)',
                ),
            )
            q_i.append(index(a, where))
            q_j.append(index(b, where))
            q_v.append(number(v, where))
    else:
        raise bad(
            "'quadratic' must be an object or a list of [label, label, bias]",
            "fix the 'quadratic' value",
        )

    offset = number(doc.get("offset", 0.0), "'offset'")
    sense = doc.get("sense", "min")
    if sense not in ("min", "max"):
        raise bad(f"sense is {sense!r}", 'use "min" or "max"')
    title = doc.get("name", name)
    if not isinstance(title, str):
        raise bad("'name' must be a string", "fix the 'name' value")

    labels = list(order)
    n = len(labels)
    if n == 0:
        raise bad(
            "no variables are defined", "give at least one bias under 'linear' or 'quadratic'"
        )
    split = [split_label(lab) for lab in labels]
    blocks = infer_blocks([s[0] for s in split], [s[1] for s in split])
    src_order = np.concatenate([b.members for b in blocks])
    flat = np.empty(n, dtype=np.int64)
    flat[src_order] = np.arange(n)
    arrays, start = [], 0
    for blk in blocks:
        arrays.append(VarArray(blk.name, blk.shape, start, code))
        start += blk.members.size

    lin = np.bincount(flat[np.array(lin_idx, np.int64)], weights=np.array(lin_val), minlength=n)
    quad = sp.csr_matrix(
        (np.array(q_v), (flat[np.array(q_i, np.int64)], flat[np.array(q_j, np.int64)])),
        shape=(n, n),
    )
    lower, upper = (0.0, 1.0) if code == BINARY else (-1.0, 1.0)
    return Problem(
        var_arrays=arrays,
        lower=np.full(n, lower),
        upper=np.full(n, upper),
        vtype=np.full(n, code, dtype=np.int8),
        constant=offset,
        linear=lin,
        quadratic=quad,
        higher_order={},
        A=sp.csr_matrix((0, n)),
        lo=np.zeros(0),
        hi=np.zeros(0),
        constraint_groups=[],
        sense=sense,
        name=title,
        metadata={"format": "json", "source": source},
    )


def _split_pair(key: str, error) -> tuple[str, str]:
    depth = 0
    cuts = []
    for k, ch in enumerate(key):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "," and depth == 0:
            cuts.append(k)
    if len(cuts) != 1:
        raise error("does not name exactly two variables")
    a, b = key[: cuts[0]].strip(), key[cuts[0] + 1 :].strip()
    if not a or not b:
        raise error("has an empty label")
    return a, b


def problem_to_json_dict(problem: Problem) -> dict[str, Any]:
    """The JSON QUBO/Ising form of an unconstrained, all-binary or all-spin, degree ≤ 2 problem.

    Example:
        >>> from kakehashi.model.problem import Problem
        >>> p = Problem.from_arrays(linear=[1.0, 0.0], quadratic=[[0, -2], [0, 0]])
        >>> problem_to_json_dict(p)["quadratic"]
        {'x[0],x[1]': -2.0}
    """
    codes = np.unique(problem.vtype)
    if problem.num_constraints:
        raise UnsupportedError(
            f"problem {problem.name!r} has {problem.num_constraints} constraints, which the JSON "
            "QUBO/Ising form cannot hold; save it as .ommx (or .mps), or compile it to a QUBO first"
        )
    if codes.size > 1 or (codes.size == 1 and int(codes[0]) not in (BINARY, SPIN)):
        raise UnsupportedError(
            f"problem {problem.name!r} has non-binary or mixed variable types; the JSON form holds "
            "all-BINARY or all-SPIN problems: save it as .ommx instead"
        )
    if problem.higher_order:
        raise UnsupportedError(
            f"problem {problem.name!r} has terms of degree {max(problem.higher_order)}; the JSON "
            "form is quadratic: save it as .ommx instead"
        )
    labels = problem.variable_names()
    q = problem.quadratic.tocoo()
    nz = np.flatnonzero(problem.linear)
    return {
        "vartype": "SPIN" if codes.size and int(codes[0]) == SPIN else "BINARY",
        "name": problem.name,
        "sense": problem.sense,
        "offset": problem.constant,
        "variables": labels,
        "linear": {labels[i]: float(problem.linear[i]) for i in nz.tolist()},
        "quadratic": {
            f"{labels[i]},{labels[j]}": float(v)
            for i, j, v in zip(q.row.tolist(), q.col.tolist(), q.data.tolist(), strict=True)
        },
    }


def write_json(problem: Problem, path: str | Path) -> None:
    """Write the JSON QUBO/Ising form (see :func:`problem_to_json_dict`)."""
    Path(path).write_text(json.dumps(problem_to_json_dict(problem), indent=1) + "\n")
