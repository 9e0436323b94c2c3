"""`braket-local` and `qaoa-braket`: QAOA through the Amazon Braket SDK.

The circuit is built natively with ``braket.circuits`` (no converter): Hadamards, then per
layer a ZZ rotation per coupling, an RZ per linear term and an RX per qubit — the same
angles as the Qiskit circuit (Braket's ``zz(θ)`` is ``exp(−iθ/2 Z⊗Z)`` like Qiskit's
``rzz``). Where a device does not list ``zz`` among its supported operations (IQM,
Rigetti) each ZZ rotation is written as ``cnot · rz · cnot``, which every gate-based
Braket device supports; Braket's compiler maps either to the native gates.

* ``braket-local`` runs on ``braket.devices.LocalSimulator`` (state vector). It asks the
  simulator for exact probabilities (``shots=0`` with a ``Probability`` result), so the
  optimiser sees the true expectation, and draws the final shots from them with the run's
  seed: the simulator's own sampling takes no seed, and runs must be reproducible.
* ``qaoa-braket`` runs on the ``AwsDevice`` named by ``device=<ARN>`` (credentials: the
  AWS environment variables or profile). Angles are optimised on the local simulator by
  default (one paid task per optimiser step otherwise, ``optimize_on="device"``); the
  device runs the final sampling task. Task ARNs are recorded; since Braket reports no
  start time, the wall time of each task (submission to result) is counted as queue.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from kakehashi.backends.base import Availability, register
from kakehashi.backends.catalog import catalog_availability, info_for
from kakehashi.backends.params import Param
from kakehashi.backends.qaoa.core import (
    MAX_MEMORY,
    Engine,
    QAOABackend,
    check_statevector_memory,
    draw_shots,
    parse_memory,
)
from kakehashi.backends.qaoa.hamiltonian import IsingCost
from kakehashi.compile.qubo import Qubo
from kakehashi.errors import BackendError, BackendUnavailableError, KakehashiError, UnsupportedError

LOCAL_QUBITS = 26  # LocalSimulator("braket_sv") qubitCount, checked against the device too


def braket_circuit(cost: IsingCost, params: np.ndarray, *, zz: bool = True, probability=False):
    """The QAOA circuit with concrete angles ``[γ_1 … γ_p, β_1 … β_p]`` as a Braket Circuit.

    Example:
        >>> from kakehashi.compile.qubo import Qubo
        >>> cost = IsingCost.from_qubo(Qubo.from_upper([1.0, -1.0], [[0, 2.0], [0, 0]]))
        >>> c = braket_circuit(cost, np.array([0.3, 0.7]))
        >>> c.qubit_count, sorted({i.operator.name for i in c.instructions})
        (2, ['H', 'Rx', 'Rz', 'ZZ'])
    """
    from braket.circuits import Circuit

    reps = len(params) // 2
    gammas, betas = params[:reps], params[reps:]
    h = cost.h / cost.scale
    J = cost.J / cost.scale
    n = cost.num_qubits
    circ = Circuit()
    for q in range(n):
        circ.h(q)
    for k in range(reps):
        for (i, j), c in zip(cost.pairs, J, strict=True):
            angle = float(2.0 * c * gammas[k])
            if zz:
                circ.zz(int(i), int(j), angle)
            else:
                circ.cnot(int(i), int(j)).rz(int(j), angle).cnot(int(i), int(j))
        for i in np.flatnonzero(h):
            circ.rz(int(i), float(2.0 * h[i] * gammas[k]))
        for q in range(n):
            circ.rx(q, float(2.0 * betas[k]))
    if probability:
        circ.probability()
    return circ


def supported_operations(device: Any) -> set[str]:
    try:
        action = device.properties.action["braket.ir.openqasm.program"]
        return {op.lower() for op in action.supportedOperations}
    except (AttributeError, KeyError):
        return set()


def device_qubits(device: Any) -> int | None:
    try:
        return int(device.properties.paradigm.qubitCount)
    except AttributeError:
        return None


def measurement_to_samples(counts: dict[str, int], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Braket counts (qubit 0 first in each bitstring) → (k, n) 0/1 samples and counts."""
    keys = list(counts)
    if not keys:
        return np.zeros((0, n), dtype=np.uint8), np.zeros(0, dtype=np.int64)
    bits = np.array([[int(b) for b in k[:n]] for k in keys], dtype=np.uint8)
    return bits, np.array([counts[k] for k in keys], dtype=np.int64)


class LocalSimulatorEngine(Engine):
    """Braket's LocalSimulator: exact probabilities, shots drawn with the run's seed."""

    name = "braket-local-simulator"
    exact = True
    big_endian = True  # Braket's probability vector has qubit 0 as the most significant bit

    def __init__(self, cost: IsingCost, qubo: Qubo, reps: int, *, max_memory: int) -> None:
        from braket.devices import LocalSimulator

        super().__init__(cost, qubo, reps)
        self.device = LocalSimulator("braket_sv")
        limit = device_qubits(self.device) or LOCAL_QUBITS
        if cost.num_qubits > limit:
            raise UnsupportedError(
                f"braket-local: the problem compiles to {cost.num_qubits} qubits but Braket's "
                f"LocalSimulator takes at most {limit}; reduce the problem or use a classical "
                "backend"
            )
        check_statevector_memory(cost.num_qubits, max_memory, where="braket-local")
        self.zz = "zz" in supported_operations(self.device) or not supported_operations(self.device)
        self.info = {"device": "LocalSimulator(braket_sv)", "exact_expectation": True}

    def probabilities(self, params: np.ndarray) -> np.ndarray:
        circ = braket_circuit(self.cost, params, zz=self.zz, probability=True)
        result = self.device.run(circ, shots=0).result()
        self.executions += 1
        return np.asarray(result.values[0], dtype=np.float64)

    def sample(
        self, params: np.ndarray, shots: int, seed: int | None
    ) -> tuple[np.ndarray, np.ndarray]:
        probs = self.probabilities(params)
        self.shots_used += int(shots)
        self.info["sampling"] = "exact probabilities from LocalSimulator, shots drawn with seed"
        return draw_shots(probs, shots, self.cost.num_qubits, seed, big_endian=True)


class AwsDeviceEngine(Engine):
    """An Amazon Braket QPU or managed simulator by ARN: one task per circuit execution."""

    def __init__(self, cost: IsingCost, qubo: Qubo, reps: int, *, device: Any, arn: str) -> None:
        super().__init__(cost, qubo, reps)
        self.device = device
        self.name = f"braket:{getattr(device, 'name', arn)}"
        ops = supported_operations(device)
        self.zz = "zz" in ops
        if ops and not self.zz and not {"cnot", "rz", "rx", "h"} <= ops:
            raise UnsupportedError(
                f"qaoa-braket: {arn} supports neither zz nor cnot/rz/rx/h; it is not a "
                "gate-model device QAOA can run on"
            )
        self.info = {"device_arn": arn, "native_zz": self.zz, "task_arns": []}

    def sample(
        self, params: np.ndarray, shots: int, seed: int | None
    ) -> tuple[np.ndarray, np.ndarray]:
        circ = braket_circuit(self.cost, params, zz=self.zz)
        t = time.perf_counter()
        task = self.device.run(circ, shots=int(shots))
        self.info["task_arns"].append(str(task.id))
        result = task.result()
        wall = time.perf_counter() - t
        self.executions += 1
        self.shots_used += int(shots)
        # Braket reports creation and end, not start: the wait counts as queue
        self.queue_seconds += wall
        self.add_vendor_timing({"task_wall_seconds": wall})
        return measurement_to_samples(dict(result.measurement_counts), self.cost.num_qubits)


@register("braket-local")
class BraketLocalBackend(QAOABackend):
    """QAOA on Braket's ``LocalSimulator``: the Braket path, offline.

    Options (beyond the QAOA ones): ``max_memory``.

    Example:
        >>> import kakehashi
        >>> r = kakehashi.solve(kakehashi.examples.small_maxcut(), backend="braket-local",
        ...                     seed=1, reps=1, maxiter=20)
        >>> r.objective
        -5.0
    """

    name = "braket-local"
    warm_up_modules = ("qiskit_aer", "braket.devices")
    info = info_for("braket-local")
    default_time_limit = 30.0
    parameters = (MAX_MEMORY,)

    def available(self) -> Availability:
        return catalog_availability(self.name)

    def make_engines(
        self, cost: IsingCost, qubo: Qubo, *, reps: int, seed: int | None, options: dict[str, Any]
    ) -> tuple[Engine, Engine]:
        engine = LocalSimulatorEngine(
            cost, qubo, reps, max_memory=parse_memory(options.get("max_memory"))
        )
        return engine, engine


def aws_credentials_present() -> bool:
    """AWS credentials in the environment or the shared files (no network lookup)."""
    if os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_PROFILE"):
        return True
    home = Path(os.environ.get("AWS_SHARED_CREDENTIALS_FILE", Path.home() / ".aws/credentials"))
    return home.is_file()


@register("qaoa-braket")
class QAOABraketBackend(QAOABackend):
    """QAOA on an Amazon Braket device: ``device="arn:aws:braket:…"``.

    Options (beyond the QAOA ones): ``device`` (required ARN), ``max_memory`` (local
    optimiser). Angles are optimised locally unless ``optimize_on="device"``.

    Example:
        >>> import kakehashi  # doctest: +SKIP
        >>> aria = "arn:aws:braket:us-east-1::device/qpu/ionq/Aria-1"
        >>> r = kakehashi.solve(kakehashi.examples.small_maxcut(), backend="qaoa-braket",
        ...                     device=aria, shots=100)  # doctest: +SKIP
    """

    name = "qaoa-braket"
    warm_up_modules = ("qiskit_aer", "braket.aws")
    catalog_limit = True
    info = info_for("qaoa-braket")
    default_time_limit = 600.0
    default_shots = 1000
    parameters = (
        Param("device", str, None, "a Braket device ARN"),
        MAX_MEMORY,
    )

    def available(self) -> Availability:
        avail = catalog_availability(self.name)
        if not avail and "credentials" in avail.reason and aws_credentials_present():
            return Availability(True)
        return avail

    def make_engines(
        self, cost: IsingCost, qubo: Qubo, *, reps: int, seed: int | None, options: dict[str, Any]
    ) -> tuple[Engine, Engine]:
        arn = options.get("device")
        if not arn or not str(arn).startswith("arn:aws:braket"):
            raise KakehashiError(
                f"qaoa-braket needs device=<a Braket device ARN>, e.g. "
                f"'arn:aws:braket:us-east-1::device/qpu/ionq/Aria-1' (got {arn!r}); for the "
                "local simulator use backend='braket-local'"
            )
        if not self.available():
            raise BackendUnavailableError(
                "qaoa-braket: no AWS credentials; set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "
                "or AWS_PROFILE (and AWS_DEFAULT_REGION to the device's region)"
            )
        optimize_on = options.get("optimize_on", "simulator")
        if optimize_on not in ("simulator", "device"):
            raise KakehashiError("optimize_on must be 'simulator' or 'device'")
        from braket.aws import AwsDevice

        try:
            device = AwsDevice(str(arn))
        except Exception as exc:  # boto/Braket errors: no such device, wrong region, access
            raise BackendError(
                f"qaoa-braket: could not open {arn} ({type(exc).__name__}: {exc}); check the "
                "ARN, the region (AWS_DEFAULT_REGION) and your Braket permissions"
            ) from exc
        limit = device_qubits(device)
        if limit is not None and cost.num_qubits > limit:
            raise UnsupportedError(
                f"qaoa-braket: the problem compiles to {cost.num_qubits} qubits but {arn} has "
                f"{limit}; reduce the problem or choose a larger device"
            )
        runner = AwsDeviceEngine(cost, qubo, reps, device=device, arn=str(arn))
        if optimize_on == "device":
            return runner, runner
        local = LocalSimulatorEngine(
            cost, qubo, reps, max_memory=parse_memory(options.get("max_memory"))
        )
        return local, runner
