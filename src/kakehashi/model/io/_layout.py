"""Names ↔ arrays: rebuild ``var_arrays`` / ``constraint_groups`` from per-element labels.

Every interchange format stores one label per variable (OMMX ``name`` + ``subscripts``, a dimod
label such as ``"x[3,4]"``, a JSON key). :func:`infer_blocks` groups those labels back into
named arrays: elements sharing a name whose subscripts fill a box ``0..s_k-1`` exactly become
one array of that shape (in C order); anything else (gaps, duplicates, mixed ranks, mixed
types) becomes one scalar array per element, named by its full label, so nothing is lost.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Hashable, Sequence

import numpy as np

# subscripts are ASCII digits, at most 18 of them (so each fits an int64); a label with longer
# or other digits ("x[²]", a 20-digit number) is kept whole as a scalar's name
_SUBSCRIPT = r"-?[0-9]{1,18}"
_BRACKETED = re.compile(rf"^(.*?)\[\s*({_SUBSCRIPT}(?:\s*,\s*{_SUBSCRIPT})*)\s*\]$")
_INDEX = re.compile(r"^[0-9]{1,18}$")


@dataclasses.dataclass(frozen=True)
class Block:
    """One inferred array: ``name`` with ``shape``; ``members`` are source positions in C order."""

    name: str
    shape: tuple[int, ...]
    members: np.ndarray


def element_label(name: str, subscripts: Sequence[int]) -> str:
    """``x`` or ``x[3,4]``: the one-string label of an array element."""
    if not subscripts:
        return name
    return f"{name}[{','.join(str(int(s)) for s in subscripts)}]"


def split_label(label: Hashable, default_name: str = "x") -> tuple[str, tuple[int, ...]]:
    """Split a label into (array name, subscripts).

    ``"x[3,4]"`` → ``("x", (3, 4))``; ``"y"`` → ``("y", ())``; ``7`` or ``"7"`` →
    ``(default_name, (7,))``; ``("x", 3, 4)`` → ``("x", (3, 4))``; anything else →
    ``(str(label), ())``.
    """
    if isinstance(label, (bool, np.bool_)):
        return str(label), ()
    if isinstance(label, (int, np.integer)) and abs(int(label)) < 10**18:
        return default_name, (int(label),)
    if isinstance(label, tuple) and label and isinstance(label[0], str):
        rest = label[1:]
        if all(
            isinstance(s, (int, np.integer)) and not isinstance(s, bool) and abs(int(s)) < 10**18
            for s in rest
        ):
            return label[0], tuple(int(s) for s in rest)
        return str(label), ()
    text = str(label)
    if _INDEX.match(text):
        return default_name, (int(text),)
    m = _BRACKETED.match(text)
    if m and m.group(1):
        return m.group(1), tuple(int(s) for s in m.group(2).split(","))
    return text, ()


def infer_blocks(
    names: Sequence[str | None],
    subscripts: Sequence[Sequence[int]],
    kinds: np.ndarray | None = None,
    *,
    default_name: str = "x",
) -> list[Block]:
    """Group elements ``(names[i], subscripts[i])`` into dense named arrays.

    Elements with no name get ``default_name`` (or ``default_name_`` when that name is
    taken) and, when they carry no subscripts, consecutive subscripts in source order.
    ``kinds`` (one code per element) must be uniform within an array (variable types).

    Example:
        >>> [(b.name, b.shape) for b in infer_blocks(["x", "x", "y"], [(0,), (1,), ()])]
        [('x', (2,)), ('y', ())]
    """
    count = len(names)
    named = {nm for nm in names if nm}
    anon = default_name
    while anon in named:
        anon += "_"
    groups: dict[str, list[int]] = {}
    subs: list[tuple[int, ...]] = [()] * count
    next_anon = 0
    for i in range(count):
        nm = names[i]
        s = tuple(int(v) for v in subscripts[i]) if len(subscripts[i]) else ()
        if not nm:
            nm = anon
            if not s:
                s = (next_anon,)
                next_anon += 1
        subs[i] = s
        groups.setdefault(nm, []).append(i)

    blocks: list[Block] = []
    used: set[str] = set()

    def unique(candidate: str) -> str:
        name, k = candidate, 1
        while name in used:
            name, k = f"{candidate}#{k}", k + 1
        used.add(name)
        return name

    for nm, members in groups.items():
        block = _dense_block(nm, members, subs, kinds)
        if block is not None:
            blocks.append(dataclasses.replace(block, name=unique(nm)))
            continue
        # not a dense box: one scalar array per element, named by its full label
        for i in members:
            blocks.append(Block(unique(element_label(nm, subs[i])), (), np.array([i], np.int64)))
    return blocks


def _dense_block(
    name: str, members: list[int], subs: list[tuple[int, ...]], kinds: np.ndarray | None
) -> Block | None:
    idx = np.asarray(members, dtype=np.int64)
    if kinds is not None and np.unique(kinds[idx]).size > 1:
        return None
    ranks = {len(subs[i]) for i in members}
    if len(ranks) != 1:
        return None
    rank = ranks.pop()
    if rank == 0:
        return Block(name, (), idx) if len(members) == 1 else None
    arr = np.array([subs[i] for i in members], dtype=np.int64).reshape(len(members), rank)
    if arr.min() < 0:
        return None
    shape = tuple(int(v) for v in arr.max(axis=0) + 1)
    if math.prod(shape) != len(members):
        return None
    flat = np.ravel_multi_index(arr.T, shape)
    order = np.argsort(flat, kind="stable")
    if np.any(flat[order] != np.arange(len(members))):
        return None  # duplicates leave a gap somewhere
    return Block(name, shape, idx[order])
