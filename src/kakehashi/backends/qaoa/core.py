"""The QAOA sampler shared by every gate-based target (Aer, IBM, Braket).

:class:`QAOABackend` is a :class:`~kakehashi.backends.base.QuboSamplerBackend`: it turns
the compiled Qubo into an Ising cost (hamiltonian.py), lets its target build two
*engines* — one to optimise the angles on, one to draw the final samples from — optimises
the angles (optimize.py) and samples. Constrained problems get the compiler and the
adaptive penalty loop from the base class.

An engine runs QAOA circuits somewhere. An *exact* engine returns the whole probability
distribution (a local statevector simulator); a *sampling* engine returns shot counts (a
QPU, a noisy or matrix-product-state simulator). Optimising on a QPU costs one paid
circuit execution per step, so the device targets default to ``optimize_on="simulator"``:
angles are optimised on a local noiseless statevector (exact, free) and the device only
runs the final sampling circuit; ``optimize_on="device"`` optimises on the device itself.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from kakehashi.backends.base import QuboSamplerBackend, SampleBatch
from kakehashi.backends.params import Param
from kakehashi.backends.qaoa.hamiltonian import DIAGONAL_MAX_QUBITS, IsingCost, cvar
from kakehashi.backends.qaoa.optimize import optimise_angles
from kakehashi.compile.qubo import Qubo
from kakehashi.errors import BudgetError, KakehashiError, UnsupportedError

OPTIMISE_SHARE = 0.8  # of a sampling round's time budget; the rest is for the final sampling
AMPLITUDE_BYTES = 16  # one complex128 amplitude


def statevector_bytes(num_qubits: int) -> int:
    """Memory a statevector of ``num_qubits`` qubits takes: 16·2^n bytes.

    Example:
        >>> statevector_bytes(30) / 2**30
        16.0
    """
    return AMPLITUDE_BYTES * 2 ** int(num_qubits)


def human_bytes(n: float) -> str:
    """``17179869184`` → ``'16 GiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if n < 1024 or unit == "EiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} EiB"


def default_max_memory() -> int:
    """Half of this machine's physical memory: what a local simulation may take."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2)
    except (ValueError, OSError, AttributeError):
        return 4 * 2**30


def parse_memory(value: Any) -> int:
    """``max_memory=`` as bytes: an int, or a string like ``"8GiB"``/``"512 MiB"``."""
    if value is None:
        return default_max_memory()
    if isinstance(value, (int, float)) and value > 0:
        return int(value)
    text = str(value).strip().replace(" ", "")
    for suffix, mult in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10), ("GB", 10**9)):
        if text.endswith(suffix):
            try:
                return int(float(text[: -len(suffix)]) * mult)
            except ValueError:
                break
    raise KakehashiError(f"max_memory={value!r} is not a size; pass bytes or e.g. '8GiB'")


def check_statevector_memory(num_qubits: int, max_memory: int, *, where: str) -> None:
    """Raise :class:`BudgetError` naming the memory when a statevector would not fit."""
    need = statevector_bytes(num_qubits)
    if need > max_memory:
        raise BudgetError(
            f"{where}: simulating {num_qubits} qubits needs {human_bytes(need)} for the "
            f"statevector (16·2^{num_qubits} bytes), more than the {human_bytes(max_memory)} "
            "allowed (max_memory=, default half of this machine's memory). Reduce the "
            "problem, use a classical backend such as 'sa' or 'tabu', or a QPU"
        )


# ---------------------------------------------------------------------- engines
class Engine:
    """Runs the QAOA circuit for given angles. Subclasses implement :meth:`sample` and,
    when ``exact``, :meth:`probabilities`."""

    name = "engine"
    exact = False

    def __init__(self, cost: IsingCost, qubo: Qubo, reps: int) -> None:
        self.cost = cost
        self.qubo = qubo
        self.reps = reps
        self.executions = 0  # circuit executions (tasks/jobs on a device)
        self.shots_used = 0
        self.queue_seconds = 0.0
        self.vendor_timing: dict[str, float] = {}
        self.info: dict[str, Any] = {}
        self._diagonal: np.ndarray | None = None

    def sample(
        self, params: np.ndarray, shots: int, seed: int | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(samples (k, n) uint8 distinct, counts (k,))`` from ``shots`` shots."""
        raise NotImplementedError

    def probabilities(self, params: np.ndarray) -> np.ndarray:
        """All 2^n probabilities, in the order of :meth:`diagonal` (exact engines only)."""
        raise NotImplementedError

    big_endian = False  # index order of probabilities()

    def diagonal(self) -> np.ndarray:
        if self._diagonal is None:
            self._diagonal = self.cost.diagonal(big_endian=self.big_endian)
        return self._diagonal

    def distribution(
        self, params: np.ndarray, *, shots: int, seed: int | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(energies, probabilities)`` at ``params``: exact, or estimated from shots."""
        if self.exact:
            return self.diagonal(), self.probabilities(params)
        X, counts = self.sample(params, shots, seed)
        return self.qubo.energies(X), counts / max(int(counts.sum()), 1)

    def add_vendor_timing(self, timing: dict[str, float]) -> None:
        for k, v in timing.items():
            self.vendor_timing[k] = self.vendor_timing.get(k, 0.0) + float(v)


def draw_shots(
    probs: np.ndarray, shots: int, num_qubits: int, seed: int | None, *, big_endian: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``shots`` basis states from exact probabilities with a seeded generator."""
    rng = np.random.default_rng(seed)
    p = np.clip(np.asarray(probs, dtype=np.float64), 0.0, None)
    idx = rng.choice(p.size, size=int(shots), p=p / p.sum())
    states, counts = np.unique(idx, return_counts=True)
    shifts = (num_qubits - 1 - np.arange(num_qubits)) if big_endian else np.arange(num_qubits)
    X = ((states[:, None] >> shifts[None, :]) & 1).astype(np.uint8)
    return X, counts.astype(np.int64)


# ---------------------------------------------------------------------- the backend
QAOA_PARAMETERS = (
    Param("reps", int, 2, "QAOA layers p", low=1, high=100),
    Param("shots", int, None, "shots of the final sampling (default 1024)", low=1, high=10**7),
    Param("maxiter", int, None, "optimiser evaluations at most", low=1, high=10**6),
    Param("objective", str, "expectation", "what the angles optimise",
          choices=("expectation", "cvar")),
    Param("cvar_alpha", float, 0.25, "share of the best shots CVaR averages",
          low=1e-6, high=1.0),
    Param("initial_params", (list, tuple, np.ndarray), None, "[γ_1 … γ_p, β_1 … β_p]"),
    Param("optimize_on", str, "simulator", "where the angles are optimised",
          choices=("simulator", "device")),
    Param("eval_shots", int, None, "shots per evaluation on a sampling engine",
          low=1, high=10**7),
)  # fmt: skip
MAX_MEMORY = Param("max_memory", (int, str), None, "bytes (or '8GiB') a simulation may take")


class QAOABackend(QuboSamplerBackend):
    """QAOA on a gate-based target. Subclasses implement :meth:`make_engines`.

    Options shared by every target: ``reps`` (layers p, default 2), ``shots`` (final
    sampling), ``maxiter`` (optimiser evaluations), ``objective`` (``"expectation"`` or
    ``"cvar"`` with ``cvar_alpha``), ``initial_params`` (``[γ_1 … γ_p, β_1 … β_p]``,
    replacing the linear-ramp start), ``optimize_on`` (``"simulator"`` or ``"device"``),
    ``eval_shots`` (shots per evaluation when optimising on a sampling engine).
    """

    default_time_limit = 30.0
    default_shots = 1024
    target_parameters: tuple[Param, ...] = ()

    def shared_parameters(self) -> tuple[Param, ...]:
        return (*super().shared_parameters(), *QAOA_PARAMETERS)

    def variable_limit(self) -> int | None:
        return None  # by device and simulation method: make_engines checks

    def make_engines(
        self, cost: IsingCost, qubo: Qubo, *, reps: int, seed: int | None, options: dict[str, Any]
    ) -> tuple[Engine, Engine]:
        """``(optimiser engine, sampling engine)`` — they may be one object. Must raise
        every size/memory/credential error before anything is sent to a device."""
        raise NotImplementedError

    def check_size(self, problem: Any, qubo: Any) -> None:
        # limits depend on the device and the simulation method: make_engines checks them
        return None

    catalog_limit = False  # device targets: refuse by the catalog's qubit limit first

    def check_catalog_limit(self, num_qubits: int, options: dict[str, Any]) -> None:
        """Refuse a problem larger than the catalog's limit for the device, before any
        connection is opened (the device's own qubit count is checked again after)."""
        if not self.catalog_limit:
            return
        from kakehashi.backends.catalog import device_entry

        entry = device_entry(self.name, options.get("device"))
        limit = entry.get("max_variables")
        if isinstance(limit, int) and num_qubits > limit:
            raise UnsupportedError(
                f"{self.name}: the problem compiles to {num_qubits} qubits; "
                f"{entry.get('hardware', 'the device')} takes at most {limit} (catalog "
                "max_variables). Reduce the problem or use a classical backend"
            )

    def estimate(self, problem: Any, **options: Any) -> Any:
        """Money and energy before the run (catalog prices), counting circuit executions:
        one final sampling job per penalty round — plus one per optimiser step when
        ``optimize_on="device"`` — so that ``max_cost`` is an upper bound."""
        from kakehashi.backends.catalog import estimate

        if "tasks" not in options:
            options = {**options, "tasks": self.planned_executions(problem, options)}
        return estimate(self, problem, **options)

    @staticmethod
    def planned_executions(problem: Any, options: dict[str, Any]) -> int:
        constrained = problem is not None and not problem.is_unconstrained()
        fixed = options.get("penalty") == "fixed"
        rounds = int(options.get("max_rounds", 8)) if constrained and not fixed else 1
        per_round = 1
        if options.get("optimize_on", "simulator") == "device":
            per_round += int(options.get("maxiter") or 40)
        return max(rounds, 1) * per_round

    def local_optimiser(
        self, cost: IsingCost, qubo: Qubo, *, reps: int, seed: int | None, max_memory: int
    ) -> Engine:
        """A noiseless Aer statevector engine for ``optimize_on="simulator"``."""
        from kakehashi.backends.qaoa.aer import AerEngine

        check_statevector_memory(cost.num_qubits, max_memory, where=f"{self.name} optimiser")
        return AerEngine(cost, qubo, reps, method="statevector", seed=seed)

    def sample_qubo(
        self,
        qubo: Qubo,
        *,
        time_limit: float,
        seed: int | None,
        reps: int = 2,
        shots: int | None = None,
        maxiter: int | None = None,
        objective: str = "expectation",
        cvar_alpha: float = 0.25,
        initial_params: Any = None,
        eval_shots: int | None = None,
        **options: Any,
    ) -> SampleBatch:
        t0 = time.perf_counter()
        if objective not in ("expectation", "cvar"):
            raise KakehashiError(f"objective={objective!r}; use 'expectation' or 'cvar'")
        if not (isinstance(reps, int) and reps >= 1):
            raise KakehashiError(f"reps={reps!r}; QAOA needs a whole number of layers ≥ 1")
        shots = int(shots or self.default_shots)
        alpha = 1.0 if objective == "expectation" else float(cvar_alpha)
        cost = IsingCost.from_qubo(qubo)
        self.check_catalog_limit(cost.num_qubits, options)
        optimiser, sampler = self.make_engines(cost, qubo, reps=reps, seed=seed, options=options)
        per_eval = int(eval_shots or shots)

        def objective_value(params: np.ndarray) -> float:
            energies, probs = optimiser.distribution(params, shots=per_eval, seed=seed)
            return cvar(energies, probs, alpha)

        deadline = t0 + OPTIMISE_SHARE * max(float(time_limit), 0.0)
        best = optimise_angles(
            objective_value,
            reps,
            maxiter=int(maxiter or (150 if optimiser.exact else 40)),
            deadline=deadline,
            initial=initial_params,
        )
        t = time.perf_counter()
        X, counts = sampler.sample(best.params, shots, seed)
        sample_seconds = time.perf_counter() - t
        energies = qubo.energies(X)
        order = np.argsort(energies, kind="stable")
        X, counts, energies = X[order], counts[order], energies[order]
        engines = [optimiser] if optimiser is sampler else [optimiser, sampler]
        vendor: dict[str, float] = {}
        for eng in engines:
            for k, v in eng.vendor_timing.items():
                vendor[k] = vendor.get(k, 0.0) + v
        info = {
            "sampler": self.name,
            "qubits": cost.num_qubits,
            "reps": reps,
            "objective": objective if alpha < 1 else "expectation",
            "optimised_on": optimiser.name,
            "sampled_on": sampler.name,
            "angles": {
                "gamma": best.params[:reps].tolist(),
                "beta": best.params[reps:].tolist(),
                "hamiltonian_scale": cost.scale,
            },
            "optimiser": {
                "method": "COBYLA from the best linear-ramp start",
                "evaluations": best.evaluations,
                "stopped": best.stopped,
                "start_value": best.initial_value,
                "final_value": best.value,
            },
            # what random guessing scores on average: the yardstick QAOA has to beat
            "random_guess_energy": cost.offset,
            "shots": shots,
            "distinct_samples": int(X.shape[0]),
            "sampled_mean_energy": float(energies @ counts / max(counts.sum(), 1)),
            "best_sample_probability": float(counts[0] / max(counts.sum(), 1)),
            "sampling_seconds": sample_seconds,
        }
        info["engines"] = {eng.name: dict(eng.info) for eng in engines}
        info["circuit_executions"] = sum(e.executions for e in engines)
        return SampleBatch(
            samples=X,
            energies=energies,
            info=info,
            vendor_timing=vendor,
            queue_seconds=sum(e.queue_seconds for e in engines),
        )


def exact_possible(num_qubits: int) -> bool:
    """Whether exact expectations (a table of all 2^n energies) are affordable."""
    return num_qubits <= DIAGONAL_MAX_QUBITS
