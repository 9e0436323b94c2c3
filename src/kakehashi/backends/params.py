"""Declared backend options: what each backend takes, checked before any work.

Every backend class lists its options as :class:`Param` objects in ``parameters`` (the
base classes add the ones they share, such as ``penalty`` for QUBO samplers). Before a run
:func:`validate_options` refuses a name nobody declared — naming the closest valid ones, so
``time_limt=`` or ``num_raeds=`` never pass unnoticed — and a value of the wrong type or
outside its range, with :class:`~kakehashi.errors.OptionError`. This is the model of
dimod's ``Sampler.parameters``, made strict: dimod warns, kakehashi refuses.

Example:
    >>> p = (Param("num_reads", int, None, "independent reads", low=1),)
    >>> validate_options("sa", p, {"num_reads": 8})
    {'num_reads': 8}
    >>> try:
    ...     validate_options("sa", p, {"num_raeds": 8})
    ... except OptionError as exc:
    ...     print(exc)
    backend 'sa' does not take the option 'num_raeds' (unknown option); did you mean \
'num_reads'? It takes num_reads, seed, time_limit
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable, Iterable
from difflib import get_close_matches
from typing import Any

from kakehashi.errors import OptionError

NUMBER = (int, float)
SEQUENCE = (list, tuple)


@dataclasses.dataclass(frozen=True)
class Param:
    """One declared option of a backend.

    ``type`` is a Python type or a tuple of them (``int`` accepts numpy integers but not
    ``bool`` or ``1.5``; ``float`` accepts integers; ``object`` accepts anything). ``None``
    is accepted when the default is ``None``. ``low``/``high`` are inclusive bounds for
    numbers, ``choices`` the allowed values, ``check`` an extra test returning an error
    text (or ``None`` when the value is fine).

    Example:
        >>> p = Param("schedule", str, "geometric", "β schedule", choices=("geometric", "linear"))
        >>> p.check_value("linear")
        'linear'
    """

    name: str
    type: type | tuple[type, ...]
    default: Any
    doc: str
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None
    check: Callable[[Any], str | None] | None = None

    def check_value(self, value: Any, *, backend: str = "backend") -> Any:
        """``value`` when it fits this declaration, else :class:`OptionError` saying why."""
        if value is None and self.default is None:
            return value
        where = f"backend {backend!r}: option {self.name}={_show(value)}"
        if not _is_instance(value, self.type):
            raise OptionError(f"{where} must be {_type_words(self.type)} ({self.doc})")
        if self.choices is not None and value not in self.choices:
            close = get_close_matches(str(value), [str(c) for c in self.choices], n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise OptionError(
                f"{where} is not one of {', '.join(repr(c) for c in self.choices)}{hint}"
            )
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            if not math.isfinite(float(value)):
                raise OptionError(f"{where} must be a finite number")
            if self.low is not None and value < self.low:
                raise OptionError(f"{where} must be ≥ {self.low:g}{_range(self)}")
            if self.high is not None and value > self.high:
                raise OptionError(f"{where} must be ≤ {self.high:g}{_range(self)}")
        if self.check is not None:
            problem = self.check(value)
            if problem:
                raise OptionError(f"{where}: {problem}")
        return value

    def describe(self) -> dict[str, Any]:
        """The declaration as plain data (for `kakehashi backends --json` and docs)."""
        return {
            "name": self.name,
            "type": _type_words(self.type),
            "default": self.default,
            "doc": self.doc,
            "low": self.low,
            "high": self.high,
            "choices": list(self.choices) if self.choices is not None else None,
        }


def validate_options(
    backend: str,
    parameters: Iterable[Param],
    options: dict[str, Any],
    *,
    vendor: Iterable[str] = (),
) -> dict[str, Any]:
    """``options`` checked against the declared ``parameters`` (returned unchanged).

    ``vendor`` names options a vendor SDK takes and checks itself (a dimod sampler's
    ``parameters``); they are passed on untyped. Raises :class:`OptionError` for an unknown
    name (with the closest declared ones) or a value that does not fit.
    """
    declared = {p.name: p for p in parameters}
    passthrough = set(vendor) - set(declared)
    unknown = [k for k in options if k not in declared and k not in passthrough]
    if unknown:
        known = sorted({*declared, *passthrough, "time_limit", "seed"})
        raise OptionError(_unknown_message(backend, unknown, known))
    for key, value in options.items():
        if key in declared:
            declared[key].check_value(value, backend=backend)
    return dict(options)


def _unknown_message(backend: str, unknown: list[str], known: list[str]) -> str:
    names = ", ".join(repr(u) for u in unknown)
    plural = "s" if len(unknown) > 1 else ""
    close = [m for u in unknown for m in get_close_matches(u, known, n=2, cutoff=0.6)]
    hint = f"; did you mean {' or '.join(repr(c) for c in dict.fromkeys(close))}?" if close else ""
    return (
        f"backend {backend!r} does not take the option{plural} {names} (unknown option)"
        f"{hint or '.'} It takes {', '.join(known)}"
    )


def _is_instance(value: Any, types: type | tuple[type, ...]) -> bool:
    types = types if isinstance(types, tuple) else (types,)
    for t in types:
        if t is object:
            return True
        if t is int:
            if isinstance(value, numbers.Integral) and not isinstance(value, bool):
                return True
        elif t is float:
            if isinstance(value, numbers.Real) and not isinstance(value, bool):
                return True
        elif isinstance(value, t):
            return True
    return False


def _type_words(types: type | tuple[type, ...]) -> str:
    types = types if isinstance(types, tuple) else (types,)
    words = {int: "an integer", float: "a number", str: "a string", bool: "True or False"}
    return " or ".join(words.get(t, f"a {t.__name__}") for t in types)


def _range(p: Param) -> str:
    lo = "" if p.low is None else f"{p.low:g} ≤ "
    hi = "" if p.high is None else f" ≤ {p.high:g}"
    return f" ({lo}{p.name}{hi})"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def merged(*groups: Iterable[Param]) -> tuple[Param, ...]:
    """Parameters of several groups, a later declaration of a name replacing an earlier one.

    Example:
        >>> a = (Param("keep", int, 32, "samples kept", low=1),)
        >>> [p.default for p in merged(a, (Param("keep", int, 64, "samples kept"),))]
        [64]
    """
    out: dict[str, Param] = {}
    for group in groups:
        for p in group:
            out[p.name] = p
    return tuple(out.values())
