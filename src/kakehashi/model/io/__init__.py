"""Problem files in and out: ``load(path) -> Problem`` and ``save(problem, path)``.

=========  =====================================  =========================  ======
format     suffixes                               reader                     writer
=========  =====================================  =========================  ======
``mps``    ``.mps``, ``.mps.gz``                  OMMX                       OMMX
``qplib``  ``.qplib``                             OMMX                       —
``ommx``   ``.ommx``                              OMMX artifact / bytes      yes
``opb``    ``.opb``                               own (products, ``~x``)     —
``gset``   ``.gset``, ``.rudy``, sniffed ``.txt``  own, numpy                 —
``bqp``    ``.bqp``, sniffed ``.txt``             own, numpy                 —
``json``   ``.json``                              own (QUBO/Ising form)      yes
=========  =====================================  =========================  ======

Files whose suffix says nothing (``G1.txt``, ``bqp50.txt``) are recognised by content;
``format=`` overrides both. Any of them may be gzip-compressed. See ``docs/formats.md``.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from kakehashi.errors import InputFormatError, UnsupportedError
from kakehashi.model.io.bqp import read_bqp
from kakehashi.model.io.gset import read_gset
from kakehashi.model.io.mps import read_mps, write_mps
from kakehashi.model.io.ommx_file import is_tar, read_ommx, write_ommx
from kakehashi.model.io.opb import read_opb
from kakehashi.model.io.qplib import read_qplib
from kakehashi.model.io.qubo_json import (
    problem_from_json_dict,
    problem_to_json_dict,
    read_json,
    write_json,
)
from kakehashi.model.io.readers_common import read_head, require_file
from kakehashi.model.problem import Problem

__all__ = [
    "READERS",
    "WRITERS",
    "data_file",
    "detect_format",
    "load",
    "problem_from_json_dict",
    "problem_to_json_dict",
    "read_bqp",
    "read_gset",
    "read_json",
    "read_mps",
    "read_ommx",
    "read_opb",
    "read_qplib",
    "save",
]

READERS: dict[str, Callable[..., Problem]] = {
    "mps": read_mps,
    "qplib": read_qplib,
    "ommx": read_ommx,
    "opb": read_opb,
    "gset": read_gset,
    "bqp": read_bqp,
    "json": read_json,
}
WRITERS: dict[str, Callable[[Problem, Any], None]] = {
    "ommx": write_ommx,
    "mps": write_mps,
    "json": write_json,
}
_SUFFIXES = {
    ".mps": "mps",
    ".qplib": "qplib",
    ".ommx": "ommx",
    ".opb": "opb",
    ".json": "json",
    ".gset": "gset",
    ".rudy": "gset",
    ".bqp": "bqp",
}
_QPLIB_CODE = re.compile(r"^[LDCQ][CBMIG][NBMLQ]$")


def data_file(name: str) -> Path:
    """Path of an example file shipped in ``kakehashi/data`` (e.g. ``"bqp50.txt"``).

    Example:
        >>> data_file("maxcut16.txt").name
        'maxcut16.txt'
    """
    path = Path(str(resources.files("kakehashi") / "data" / name))
    if not path.is_file():
        shipped = (
            sorted(p.name for p in path.parent.iterdir() if p.is_file())
            if path.parent.is_dir()
            else []
        )
        raise InputFormatError(
            f"no shipped example named {name!r}; the shipped files are {', '.join(shipped)}"
        )
    return path


def _suffix_format(path: Path) -> str | None:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return _SUFFIXES.get(suffixes[-1]) if suffixes else None


def detect_format(path: str | Path) -> str:
    """The format name of a file, from its suffix or else its content.

    Example:
        >>> detect_format(data_file("bqp50.txt")), detect_format(data_file("maxcut16.txt"))
        ('bqp', 'gset')
    """
    p = require_file(path)
    by_suffix = _suffix_format(p)
    if by_suffix:
        return by_suffix
    head = read_head(p, 65536)
    sniffed = _sniff(head)
    if sniffed:
        return sniffed
    raise InputFormatError(
        f"{p}: cannot tell the file's format from its name ({''.join(p.suffixes) or 'no suffix'}) "
        f"or its content; supported formats are {', '.join(READERS)} — rename it with its "
        "format's suffix or pass format='...'"
    )


def _sniff(head: bytes) -> str | None:
    if is_tar(head):
        return "ommx"
    text = head.decode("utf-8", errors="replace")
    stripped = text.lstrip()
    if stripped.startswith("{"):
        return "json"
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return None
    if any(ln.startswith("*") and "#variable=" in ln for ln in lines[:3]):
        return "opb"
    body = [ln for ln in lines if not ln.startswith("*")]
    if body and (body[0].lower().startswith(("min:", "max:"))):
        return "opb"
    if body and body[0].split()[0].upper() in ("NAME", "ROWS", "OBJSENSE"):
        return "mps"
    qp = [ln.split("#")[0].split() for ln in lines if not ln.startswith("!")]
    if (
        len(qp) >= 3
        and qp[1]
        and _QPLIB_CODE.match(qp[1][0])
        and qp[2]
        and qp[2][0].lower() in ("minimize", "maximize")
    ):
        return "qplib"
    first = lines[0].split()
    if all(_is_int(t) for t in first):
        if len(first) == 2:
            return "gset"
        if len(first) == 1 and len(lines) > 1 and len(lines[1].split()) == 2:
            return "bqp"
    return None


def _is_int(token: str) -> bool:
    return token.lstrip("+-").isdigit()


def load(path: str | Path, *, format: str | None = None, **options: Any) -> Problem:
    """Read a problem file into a :class:`Problem`.

    ``format`` overrides detection (``"mps"``, ``"qplib"``, ``"ommx"``, ``"opb"``,
    ``"gset"``, ``"bqp"``, ``"json"``); ``options`` go to the reader: ``index=`` (bqp,
    1-based problem number), ``pb_info=`` (opb: QPLIB-PB transformer JSON, or True).

    Example:
        >>> p = load(data_file("bqp50.txt"), index=2)
        >>> p.name, p.sense
        ('bqp50-2', 'max')
    """
    p = require_file(path)
    fmt = format.lower() if isinstance(format, str) else detect_format(p)
    reader = READERS.get(fmt)
    if reader is None:
        raise InputFormatError(f"{p}: unknown format {format!r}; use one of {', '.join(READERS)}")
    accepted = [
        name
        for name, prm in inspect.signature(reader).parameters.items()
        if prm.kind is prm.KEYWORD_ONLY
    ]
    unknown = [k for k in options if k not in accepted]
    if unknown:
        raise InputFormatError(
            f"{p}: option {', '.join(repr(k) for k in unknown)} does not apply to {fmt} files; "
            + (f"{fmt} accepts {', '.join(accepted)}" if accepted else f"{fmt} takes no options")
        )
    return reader(p, **options)


def save(problem: Problem, path: str | Path, *, format: str | None = None) -> Path:
    """Write ``problem`` as ``.ommx`` (lossless), ``.mps`` / ``.mps.gz`` or ``.json``.

    Example:
        >>> import tempfile, pathlib
        >>> p = load(data_file("qubo_example.json"))
        >>> out = save(p, pathlib.Path(tempfile.mkdtemp()) / "copy.ommx")
        >>> load(out).num_variables
        4
    """
    target = Path(path)
    fmt = format.lower() if isinstance(format, str) else _suffix_format(target)
    writer = WRITERS.get(fmt or "")
    if writer is None:
        raise UnsupportedError(
            f"cannot write {target}: kakehashi writes {', '.join(WRITERS)} files "
            "(suffixes .ommx, .mps, .mps.gz, .json); pick one of them or pass format='...'"
        )
    if not target.parent.exists():
        raise InputFormatError(
            f"cannot write {target}: the folder {target.parent} does not exist; create it first"
        )
    writer(problem, target)
    return target
