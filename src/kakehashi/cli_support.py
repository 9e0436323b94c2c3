"""What every ``kakehashi`` command shares: literal one-line messages, usage-error handling
whichever copy of click typer carries, and option checks that turn a bad value into exit 2.

Error text is printed *literally*: a fix such as ``pip install 'kakehashi[mip]'`` keeps its
brackets and a path containing ``[/]`` prints as it is, because messages are wrapped in a
:class:`rich.text.Text` instead of being parsed as Rich markup.

Example:
    >>> one_line("first\\n  second")
    'first second'
"""

from __future__ import annotations

import functools
import re
from typing import Any

import typer
from rich.console import Console
from rich.text import Text

from kakehashi.backends.arguments import MAX_SEED, MAX_TIME_LIMIT, check_seed, check_time_limit
from kakehashi.errors import KakehashiError


def one_line(message: object) -> str:
    """``message`` as one line: line breaks (and the indentation after them) become a space,
    and other control characters (an escape sequence in a file name) are shown escaped."""
    text = re.sub(r"\s*\n\s*", " ", str(message).strip())
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def print_line(console: Console, label: str, style: str, message: object) -> None:
    """Print ``label: message`` on one line, the label styled and the message literal.

    Example:
        >>> print_line(Console(), "note", "yellow", "pip install 'kakehashi[mip]'")
        note: pip install 'kakehashi[mip]'
    """
    line = Text.assemble((f"{label}:", style), " ", one_line(message))
    console.print(line, soft_wrap=True, highlight=False)


def literal(text: object) -> Text:
    """``text`` as a Rich renderable that is never parsed as markup (for table cells)."""
    return Text(str(text))


@functools.cache
def usage_error_types() -> tuple[type[BaseException], ...]:
    """The ``ClickException`` classes typer may raise: its vendored copy and/or click's.

    typer ≥ 0.20 carries its own click (``typer._click``), whose exceptions are not
    ``click.ClickException``; older typer raises click's own. ``typer.BadParameter`` derives
    from whichever one is in use, so its ancestry names it.
    """
    found = [c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"]
    try:
        import click

        found.append(click.ClickException)
    except ImportError:  # pragma: no cover  (typer without click)
        pass
    return tuple(dict.fromkeys(found))


def usage_message(exc: BaseException) -> str:
    """One line for a click usage error: the mistake, then where to read how to fix it."""
    fmt = getattr(exc, "format_message", None)
    text = one_line(fmt() if callable(fmt) else exc)
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        text += f" (see '{ctx.command_path} --help')"
    return text


def no_args_help_text(exc: BaseException) -> str:
    """The help a bare group command prints (empty when typer already printed it)."""
    fmt = getattr(exc, "format_message", None)
    return str(fmt() if callable(fmt) else "")


def is_no_args_help(exc: BaseException) -> bool:
    """Whether ``exc`` is click's "no arguments, so here is the help" signal."""
    return type(exc).__name__ == "NoArgsIsHelpError"


def time_limit_option(value: float | None) -> float | None:
    """Typer callback: ``--time-limit`` finite and in (0, one week], else a usage error."""
    if value is None:
        return None
    try:
        return check_time_limit(value)
    except KakehashiError:
        raise typer.BadParameter(
            f"expected a finite number of seconds in (0, {MAX_TIME_LIMIT:.0f}] (one week), "
            f"got {value}; give e.g. --time-limit 10"
        ) from None


def seed_option(value: int | None) -> int | None:
    """Typer callback: ``--seed`` an integer in [0, 2**63 − 1], else a usage error."""
    if value is None:
        return None
    try:
        return check_seed(value)
    except KakehashiError:
        raise typer.BadParameter(
            f"expected an integer in [0, {MAX_SEED}] (2**63 - 1), got {value}; give e.g. --seed 7"
        ) from None


def positive_option(what: str):
    """A typer callback refusing values that are not finite and > 0 (``None`` passes)."""

    def check(value: Any) -> Any:
        if value is None:
            return None
        if not (value == value and abs(value) != float("inf") and value > 0):
            raise typer.BadParameter(f"{what} must be a finite number above 0, got {value}")
        return value

    return check


def non_negative_option(what: str):
    """A typer callback refusing values that are not finite and ≥ 0 (``None`` passes)."""

    def check(value: Any) -> Any:
        if value is None:
            return None
        if not (value == value and abs(value) != float("inf") and value >= 0):
            raise typer.BadParameter(f"{what} must be a finite number ≥ 0, got {value}")
        return value

    return check
