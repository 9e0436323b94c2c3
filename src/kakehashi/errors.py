"""The error hierarchy: every bad input raises a subclass of :class:`KakehashiError`.

Messages say what is wrong *and* what to do about it; the CLI prints them and exits 2,
the service answers 4xx with them as JSON.
"""

from __future__ import annotations


class KakehashiError(Exception):
    """Base of every error kakehashi raises on purpose."""


class InputFormatError(KakehashiError):
    """A file or a document could not be read: malformed, truncated, wrong keys."""


class ModelError(KakehashiError):
    """A problem is ill-formed: bad bounds, unknown variables, empty, inconsistent shapes."""


class UnsupportedError(KakehashiError):
    """A problem uses something the target (backend, format) cannot express."""


class BackendUnavailableError(KakehashiError):
    """A backend cannot run here: missing extra, missing credentials."""


class BackendError(KakehashiError):
    """A backend failed while solving."""


class BudgetError(KakehashiError):
    """A run would exceed the user's spending cap or memory limit."""


class OptionError(UnsupportedError):
    """A backend was given an option it does not declare, or a value of the wrong type or
    outside its range (see ``backend.parameters``)."""
