"""Japan's annealing machines through Fixstars' Amplify SDK.

Four backends share one path — translate (``amplify_model.to_amplify``: constraints stay
constraints), send through the vendor's Amplify client, decode every returned solution
through kakehashi's encoding, evaluate against the original problem:

=================  ============================  ==========================================
backend            Amplify client                credential (environment)
=================  ============================  ==========================================
``amplify-ae``     ``AmplifyAEClient``           ``AMPLIFY_TOKEN``
``fujitsu-da``     ``FujitsuDA4Client``          ``FUJITSU_DA_TOKEN``
``toshiba-sqbm``   ``ToshibaSQBM2Client``        ``TOSHIBA_SQBM_URL`` (+ ``TOSHIBA_SQBM_TOKEN``)
``hitachi``        ``HitachiClient``             ``HITACHI_TOKEN``
=================  ============================  ==========================================

Offline, :func:`build_request` writes the exact request a machine would receive, through the
SDK's own ``dry_run`` and ``write_request_data`` (the SDK converts and checks the model as it
would before sending), and :func:`decode_da4_response` decodes a response in the Digital
Annealer's documented JSON format. No run is sent without the machine's credential.

When no returned solution is feasible, the weights of the violated constraint groups are
multiplied by 4 and the model re-sent while the time budget lasts (at most ``max_rounds``
rounds), as the adaptive penalty loop does for QUBO machines.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from kakehashi.backends.amplify_model import AmplifyModel, to_amplify
from kakehashi.backends.base import BaseBackend, RunOutput, register
from kakehashi.backends.catalog import info_for
from kakehashi.backends.params import Param
from kakehashi.errors import BackendError, KakehashiError, OptionError, UnsupportedError
from kakehashi.model.problem import Problem

WEIGHT_GROWTH = 4.0


def _seconds(value: Any) -> float:
    """A timedelta (or number of seconds) from the SDK as float seconds."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value or 0.0)


class _AmplifyMachine(BaseBackend):
    """One machine behind an Amplify SDK client. Subclasses name the client and say how the
    time limit and credential reach it."""

    client_class: str = ""
    default_time_limit = 10.0
    warm_up_modules = ("amplify",)
    versioned = ("amplify",)
    seed_reproducible = False  # the machines take no seed
    parameters = (
        Param("weights", dict, None, "Amplify constraint weight per constraint group"),
        Param("integer_encoding", str, "log", "how integers become bits", choices=("log", "unary")),
        Param(
            "max_rounds",
            int,
            4,
            "sends at most (weights ×4 while nothing is feasible)",
            low=1,
            high=100,
        ),
    )

    def vendor_parameters(self) -> list[str]:
        """The client's own parameter names (``num_run``, ``algo``, …): the SDK checks them."""
        import amplify

        params = getattr(amplify, self.client_class)().parameters
        return sorted(a for a in dir(params) if not a.startswith("_"))

    # ------------------------------------------------------------------ the client
    def make_client(self, *, time_limit: float, options: dict[str, Any]) -> Any:
        """The SDK client with credentials from the environment, the time limit and the
        vendor parameters in ``options`` (names as the client's ``parameters`` has them)."""
        import amplify

        client = getattr(amplify, self.client_class)()
        self.connect(client)
        self.set_time_limit(client, time_limit)
        known = self.vendor_parameters()
        for key, value in options.items():
            if key not in known:
                from difflib import get_close_matches

                close = get_close_matches(key, known, n=3)
                hint = f" Did you mean {', '.join(close)}?" if close else ""
                raise OptionError(
                    f"{self.name}: unknown option {key!r}.{hint} Vendor parameters of "
                    f"{self.client_class}: {', '.join(known)}"
                )
            try:
                setattr(client.parameters, key, value)
            except (TypeError, ValueError) as exc:
                raise OptionError(f"{self.name}: {key}={value!r} refused: {exc}") from exc
        return client

    def connect(self, client: Any) -> None:
        token = self._credential()
        if token:
            client.token = token

    def set_time_limit(self, client: Any, seconds: float) -> None:
        raise NotImplementedError

    def _credential(self) -> str | None:
        from kakehashi.backends.catalog import entry

        for var in entry(self.name)["credentials"]:
            if os.environ.get(var):
                return os.environ[var]
        return None

    # ------------------------------------------------------------------ checks
    def check_translation(self, am: AmplifyModel) -> None:
        limit = self.info.max_variables
        if limit is not None and am.num_bits > limit:
            raise UnsupportedError(
                f"backend {self.name!r} takes at most {limit} binary variables; this problem "
                f"needs {am.num_bits}. Reduce the problem or use 'tabu' or 'sa'"
            )

    # ------------------------------------------------------------------ run
    def run(
        self, problem: Problem, *, time_limit: float, seed: int | None, options: dict[str, Any]
    ) -> RunOutput:
        import amplify

        options = dict(options)
        weights = options.pop("weights", None)
        integer_encoding = options.pop("integer_encoding", "log")
        max_rounds = int(options.pop("max_rounds", 4))
        t0 = time.perf_counter()
        am = to_amplify(problem, weights=weights, integer_encoding=integer_encoding)
        self.check_translation(am)
        compile_seconds = time.perf_counter() - t0
        samples: list[np.ndarray] = []
        rounds: list[dict[str, Any]] = []
        vendor: dict[str, float] = {}
        solve_seconds = queue_seconds = 0.0
        for round_no in range(max_rounds):
            left = time_limit - (time.perf_counter() - t0)
            client = self.make_client(time_limit=max(left, 1.0), options=options)
            t = time.perf_counter()
            try:
                res = amplify.solve(am.model, client, filter_solution=False)
            except RuntimeError as exc:  # the SDK reports HTTP and solver errors this way
                raise BackendError(f"{self.name}: the machine refused the request: {exc}") from exc
            wall = time.perf_counter() - t
            X = self.decode_solutions(res, am)
            samples.append(X)
            execution = _seconds(res.execution_time)
            solve_seconds += execution or wall
            queue_seconds += max(wall - execution, 0.0) if execution else 0.0
            for key, value in self.vendor_timing(res).items():
                vendor[key] = vendor.get(key, 0.0) + value
            ev = problem.evaluate(X) if X.shape[0] else None
            feasible = bool(ev is not None and ev["feasible"].any())
            rounds.append(
                {
                    "round": round_no,
                    "solutions": int(X.shape[0]),
                    "feasible": feasible,
                    "weights": dict(am.weights),
                }
            )
            if feasible or problem.is_unconstrained() or time.perf_counter() - t0 >= time_limit:
                break
            am = to_amplify(
                problem,
                weights=self._raised_weights(problem, ev, am.weights),
                integer_encoding=integer_encoding,
            )
        X = np.vstack(samples) if samples else np.zeros((0, problem.num_variables))
        return RunOutput(
            samples=X,
            compile_seconds=compile_seconds,
            queue_seconds=queue_seconds,
            solve_seconds=solve_seconds,
            vendor_timing=vendor,
            info={"client": self.client_class, "rounds": rounds},
        )

    @staticmethod
    def decode_solutions(res: Any, am: AmplifyModel) -> np.ndarray:
        """Every solution the SDK returned, decoded to the problem's variables."""
        if len(res.solutions) == 0:
            return np.zeros((0, am.compiled.problem.num_variables))
        Z = np.array([np.asarray(am.bits.evaluate(s.values))[: am.num_bits] for s in res])
        return am.decode(Z)

    def vendor_timing(self, res: Any) -> dict[str, float]:
        return {
            "amplify_execution_seconds": _seconds(res.execution_time),
            "amplify_response_seconds": _seconds(res.response_time),
        }

    @staticmethod
    def _raised_weights(
        problem: Problem, ev: dict[str, Any] | None, weights: dict[str, float]
    ) -> dict[str, float]:
        """Multiply the weights of the groups the least-violated solution breaks."""
        if ev is None:
            return {g: w * WEIGHT_GROWTH for g, w in weights.items()}
        best = int(np.argmin(ev["violation"].sum(axis=1)))
        violated = problem.group_violations(ev["violation"][best])
        return {
            g: w * (WEIGHT_GROWTH if violated.get(g, 0.0) > 0 else 1.0) for g, w in weights.items()
        }


@register("amplify-ae")
class AmplifyAEBackend(_AmplifyMachine):
    """Fixstars Amplify AE (GPU annealer) through the Amplify SDK (needs ``AMPLIFY_TOKEN``).

    Options: the client's parameters (``num_gpus``, ``duplicate_solutions``,
    ``penalty_weight_calibration``); ``time_limit`` becomes ``time_limit_ms``.

    Example:
        >>> import kakehashi  # doctest: +SKIP
        >>> r = kakehashi.solve(kakehashi.examples.knapsack(20), backend="amplify-ae",
        ...                     time_limit=1)  # doctest: +SKIP
    """

    name = "amplify-ae"
    info = info_for("amplify-ae")
    client_class = "AmplifyAEClient"

    def set_time_limit(self, client: Any, seconds: float) -> None:
        client.parameters.time_limit_ms = timedelta(seconds=seconds)

    def vendor_timing(self, res: Any) -> dict[str, float]:
        out = super().vendor_timing(res)
        raw = res.client_result
        if raw is not None:
            out["ae_execution_seconds"] = _seconds(raw.execution_time_ms)
            out["ae_queue_seconds"] = _seconds(raw.queue_time_ms)
        return out


@register("fujitsu-da")
class FujitsuDABackend(_AmplifyMachine):
    """Fujitsu Digital Annealer (4th generation) through the Amplify SDK (needs
    ``FUJITSU_DA_TOKEN``). Linear inequalities and one-hot groups go to the machine as its
    own constraint terms (the request's ``inequalities`` and penalty polynomial).

    Options: the client's parameters (``num_run``, ``num_group``, ``num_output_solution``,
    ``gs_level``, ``gs_cutoff``, ``penalty_auto_mode``, ``penalty_coef``, …);
    ``time_limit`` becomes ``time_limit_sec`` (whole seconds, at least 1).

    Example:
        >>> import kakehashi  # doctest: +SKIP
        >>> r = kakehashi.solve(kakehashi.examples.knapsack(20), backend="fujitsu-da",
        ...                     time_limit=1)  # doctest: +SKIP
    """

    name = "fujitsu-da"
    info = info_for("fujitsu-da")
    client_class = "FujitsuDA4Client"

    def set_time_limit(self, client: Any, seconds: float) -> None:
        client.parameters.time_limit_sec = timedelta(seconds=max(1, round(seconds)))

    def vendor_timing(self, res: Any) -> dict[str, float]:
        out = super().vendor_timing(res)
        raw = res.client_result
        timing = getattr(getattr(raw, "qubo_solution", None), "timing", None)
        if timing is not None:
            out["da_solve_seconds"] = _seconds(timing.solve_time)
            out["da_total_elapsed_seconds"] = _seconds(timing.total_elapsed_time)
        return out


@register("toshiba-sqbm")
class ToshibaSQBMBackend(_AmplifyMachine):
    """Toshiba SQBM+ (simulated bifurcation) through the Amplify SDK. SQBM+ runs in the
    user's own cloud account: ``TOSHIBA_SQBM_URL`` is its address and
    ``TOSHIBA_SQBM_TOKEN`` its key when it has one.

    Options: the client's parameters (``algo``, ``steps``, ``loops``, ``maxout``,
    ``target``, …); ``time_limit`` becomes ``timeout`` (seconds).

    Example:
        >>> import kakehashi  # doctest: +SKIP
        >>> r = kakehashi.solve(kakehashi.examples.knapsack(20), backend="toshiba-sqbm",
        ...                     time_limit=1)  # doctest: +SKIP
    """

    name = "toshiba-sqbm"
    info = info_for("toshiba-sqbm")
    client_class = "ToshibaSQBM2Client"

    def connect(self, client: Any) -> None:
        if os.environ.get("TOSHIBA_SQBM_URL"):
            client.url = os.environ["TOSHIBA_SQBM_URL"]
        if os.environ.get("TOSHIBA_SQBM_TOKEN"):
            client.token = os.environ["TOSHIBA_SQBM_TOKEN"]

    def set_time_limit(self, client: Any, seconds: float) -> None:
        client.parameters.timeout = float(seconds)


@register("hitachi")
class HitachiBackend(_AmplifyMachine):
    """Hitachi's CMOS annealing machine (Annealing Cloud Web) through the Amplify SDK
    (needs ``HITACHI_TOKEN``). The SDK converts the model to Ising form and embeds it in
    the machine's 512 × 512 King's graph; the time limit is not a parameter of this machine
    (one anneal per execution): ``num_executions`` sets how many.

    Example:
        >>> import kakehashi  # doctest: +SKIP
        >>> p = kakehashi.examples.small_maxcut()  # doctest: +SKIP
        >>> r = kakehashi.solve(p, backend="hitachi")  # doctest: +SKIP
    """

    name = "hitachi"
    info = info_for("hitachi")
    client_class = "HitachiClient"

    def set_time_limit(self, client: Any, seconds: float) -> None:
        return None  # Annealing Cloud Web takes annealing parameters, not a time limit


MACHINES = {
    "amplify-ae": AmplifyAEBackend,
    "fujitsu-da": FujitsuDABackend,
    "toshiba-sqbm": ToshibaSQBMBackend,
    "hitachi": HitachiBackend,
}


# ---------------------------------------------------------------------- offline paths
def build_request(
    problem: Problem,
    backend: str,
    path: str | os.PathLike[str],
    *,
    time_limit: float = 10.0,
    weights: dict[str, float] | None = None,
    integer_encoding: str = "log",
    **options: Any,
) -> tuple[Path, AmplifyModel, Any]:
    """Write the request ``backend`` would receive for ``problem`` to ``path``, offline.

    Uses the SDK's own ``dry_run`` (conversion and the client's checks, nothing sent) and
    ``write_request_data``. Returns the path, the translation and the SDK's dry-run result
    (whose ``intermediate.mapping`` gives the request's variable indices).

    Example:
        >>> import kakehashi  # doctest: +SKIP
        >>> path, am, dry = build_request(kakehashi.examples.knapsack(6), "fujitsu-da",
        ...                               "da4.json")  # doctest: +SKIP
    """
    import amplify

    if backend not in MACHINES:
        raise KakehashiError(
            f"build_request: {backend!r} is not an Amplify machine; use one of "
            f"{', '.join(sorted(MACHINES))}"
        )
    if backend == "amplify-ae":
        # measured with amplify 1.7.3: AmplifyAEClient contacts its server even on dry_run
        raise UnsupportedError(
            "amplify-ae: the Amplify SDK contacts the AE server even for dry_run, so its "
            "request cannot be built offline"
        )
    machine = MACHINES[backend]()
    am = to_amplify(problem, weights=weights, integer_encoding=integer_encoding)
    machine.check_translation(am)
    machine.validate_options(options)
    client = machine.make_client(time_limit=time_limit, options=options)
    out = Path(path)
    client.write_request_data = out
    dry = amplify.solve(am.model, client, dry_run=True)
    return out, am, dry


def request_indices(dry: Any, am: AmplifyModel) -> np.ndarray:
    """For each bit of the translation, its index in the request (−1: not sent, free)."""
    index = np.full(am.num_bits, -1, dtype=np.int64)
    mapping = dry.intermediate.mapping
    by_id = {int(v.id): poly for v, poly in mapping.items()}
    for i in range(am.num_bits):
        poly = by_id.get(i)
        if poly is None:
            continue
        terms = poly.as_dict()
        # a binary sent as itself maps to exactly one linear term of coefficient 1
        if len(terms) == 1:
            ((key, coef),) = terms.items()
            if len(key) == 1 and coef == 1.0:
                index[i] = int(key[0])
                continue
        raise UnsupportedError(
            f"bit {i} maps to {poly} in the request; only a direct binary map decodes here"
        )
    return index


def decode_da4_response(
    response: dict[str, Any], indices: np.ndarray, am: AmplifyModel
) -> tuple[np.ndarray, dict[str, float]]:
    """A Digital Annealer v4 response (its documented JSON) → problem values and timing.

    ``response["qubo_solution"]["solutions"]`` lists ``{"energy", "penalty_energy",
    "frequency", "configuration": {"<index>": bool}}``; ``timing`` has ``solve_time`` and
    ``total_elapsed_time`` in milliseconds (as strings or numbers). Every solution is kept
    once per ``frequency``.
    """
    try:
        body = response["qubo_solution"]
        solutions = body["solutions"]
    except (KeyError, TypeError) as exc:
        raise BackendError(
            "fujitsu-da: the response has no qubo_solution.solutions; got keys "
            f"{sorted(response) if isinstance(response, dict) else type(response).__name__}"
        ) from exc
    rows = []
    for sol in solutions:
        config = sol.get("configuration", {})
        z = np.zeros(am.num_bits)
        sent = indices >= 0
        z[sent] = [bool(config.get(str(k), False)) for k in indices[sent]]
        rows.extend([z] * max(int(sol.get("frequency", 1)), 1))
    X = am.decode(np.array(rows)) if rows else np.zeros((0, am.compiled.problem.num_variables))
    timing = body.get("timing", {})
    vendor = {
        f"da_{key}_seconds": float(timing[key]) / 1000.0
        for key in ("solve_time", "total_elapsed_time")
        if key in timing
    }
    return X, vendor
