"""`fujitsu-qc`: QAOA on Fujitsu Quantum Cloud (the RIKEN/Fujitsu superconducting machine).

The QAOA circuit comes from kakehashi's QAOA core; the angles are optimised on a local
noiseless statevector (as for ``qaoa-ibm``), and the device runs the final sampling as one
Fujitsu *sampling task* per penalty round: the bound circuit as OpenQASM 3 through the
SDK's own Qiskit plugin (``fujitsu_quantum.plugins.qiskit.qasm.to_qasm``), ``device=`` a
Fujitsu device id (``"SC"`` the superconducting machine, ``"SVSim"`` the simulator).

Offline, :func:`sampling_request` builds the exact request body the SDK would POST
(``Task._prepare_primitive_task_request``, the SDK's own builder and checks) and
:func:`counts_from_outputs` decodes a task's ``outputs`` in the documented format through
the SDK's ``Result`` class. The login lives where the SDK keeps it
(``~/.fujitsu-quantum/credentials.json`` after ``fujitsu-quantum login``, or under
``FUJITSU_QUANTUM_HOME``).
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from kakehashi import progress
from kakehashi.backends.base import Availability, register
from kakehashi.backends.catalog import catalog_availability, info_for
from kakehashi.backends.params import Param
from kakehashi.backends.qaoa.circuit import counts_to_samples, qiskit_circuit
from kakehashi.backends.qaoa.core import MAX_MEMORY, Engine, QAOABackend, parse_memory
from kakehashi.backends.qaoa.hamiltonian import IsingCost
from kakehashi.compile.qubo import Qubo
from kakehashi.errors import BackendError, KakehashiError

DEVICES = ("SC", "SVSim")


def credentials_path() -> Path:
    """Where the Fujitsu Quantum Cloud SDK keeps its login."""
    home = os.environ.get("FUJITSU_QUANTUM_HOME")
    base = Path(home) if home else Path.home() / ".fujitsu-quantum"
    return base / "credentials.json"


def bound_qasm(cost: IsingCost, reps: int, params: np.ndarray) -> str:
    """The QAOA circuit with its angles bound, as the OpenQASM 3 the SDK submits."""
    from fujitsu_quantum.plugins.qiskit.qasm import to_qasm

    circuit, parameters = qiskit_circuit(cost, reps, measure=True)
    bound = circuit.assign_parameters(dict(zip(parameters, params, strict=True)))
    return to_qasm(bound)


def sampling_request(device_info: dict[str, Any], qasm: str, shots: int) -> dict[str, Any]:
    """The body of ``POST /tasks`` for a sampling task, built by the SDK without sending.

    ``device_info`` is a device description as the service returns it (``deviceId``,
    ``deviceType``, ``status``, ``nQubits``, …).
    """
    from fujitsu_quantum.devices import Device
    from fujitsu_quantum.tasks import Task

    device = Device(device_info)
    body, _uploaded = Task._prepare_primitive_task_request(
        device=device,
        task_type=Task.Type.SAMPLING,
        code=qasm,
        n_shots=int(shots),
        method=None,
        operator=None,
        parameter_values=None,
        name="kakehashi-qaoa",
        note=None,
        skip_transpilation=False,
    )
    return body


def counts_from_outputs(
    request: dict[str, Any], outputs: dict[str, Any], *, status: str = "COMPLETED"
) -> dict[str, int]:
    """Bit-string counts from a sampling task's ``outputs``, parsed by the SDK's Result."""
    from fujitsu_quantum.results import Result as FQResult
    from fujitsu_quantum.tasks import Task

    task_def = {
        **request,
        "taskId": str(uuid.uuid4()),
        "status": status,
        "createdAt": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
    }
    result = FQResult(Task(task_def), outputs)
    counts = result.counts
    if counts is None:
        raise BackendError(f"fujitsu-qc: the task returned no counts ({result.message})")
    return dict(counts)


class FujitsuEngine(Engine):
    """Runs the bound QAOA circuit as a Fujitsu sampling task."""

    def __init__(self, cost: IsingCost, qubo: Qubo, reps: int, *, device: Any) -> None:
        super().__init__(cost, qubo, reps)
        self.device = device
        self.name = f"fujitsu:{device.device_id}"
        self.info = {"device": device.device_id, "task_ids": []}

    def sample(
        self, params: np.ndarray, shots: int, seed: int | None
    ) -> tuple[np.ndarray, np.ndarray]:
        qasm = bound_qasm(self.cost, self.reps, params)
        t = time.perf_counter()
        task = self.device.submit_sampling_task(program=qasm, n_shots=int(shots))
        self.info["task_ids"].append(str(task.task_id))
        try:
            # stopped meanwhile (a cancelled service job, a race lost): cancel it there too
            with progress.on_stop(task.cancel):
                result = task.result()
        except KeyboardInterrupt:
            task.cancel()  # stop the task at the provider, not only here
            raise
        wall = time.perf_counter() - t
        self.executions += 1
        self.shots_used += int(shots)
        profile = result.time_profile if result.counts is not None else {}
        run = 0.0
        if profile.get("execution_start") and profile.get("execution_end"):
            run = (profile["execution_end"] - profile["execution_start"]).total_seconds()
        self.add_vendor_timing({"task_wall_seconds": wall, "execution_seconds": run})
        self.queue_seconds += max(wall - run, 0.0)
        return counts_to_samples(result.counts, self.cost.num_qubits)


@register("fujitsu-qc")
class FujitsuQCBackend(QAOABackend):
    """QAOA on Fujitsu Quantum Cloud (``device="SC"`` or ``"SVSim"``).

    Options (beyond the QAOA ones): ``device`` (default ``"SC"``), ``max_memory`` (the
    local statevector that optimises the angles).

    Example:
        >>> import kakehashi  # doctest: +SKIP
        >>> r = kakehashi.solve(kakehashi.examples.small_maxcut(), backend="fujitsu-qc",
        ...                     device="SVSim", reps=1)  # doctest: +SKIP
    """

    name = "fujitsu-qc"
    catalog_limit = True
    info = info_for("fujitsu-qc")
    default_time_limit = 120.0
    warm_up_modules = ("qiskit", "qiskit_aer", "fujitsu_quantum")
    parameters = (
        Param("device", str, "SC", "a Fujitsu device id", choices=DEVICES),
        MAX_MEMORY,
    )

    def available(self) -> Availability:
        sdk = catalog_availability(self.name)
        if not sdk:
            return sdk
        if not credentials_path().exists():
            return Availability(
                False,
                f"no Fujitsu Quantum Cloud login ({credentials_path()} does not exist)",
                "run `fujitsu-quantum login` (or set FUJITSU_QUANTUM_HOME to the folder "
                "that holds credentials.json)",
            )
        return Availability(True)

    def make_engines(
        self, cost: IsingCost, qubo: Qubo, *, reps: int, seed: int | None, options: dict[str, Any]
    ) -> tuple[Engine, Engine]:
        device_id = options.get("device") or "SC"
        if device_id not in DEVICES:
            raise KakehashiError(
                f"fujitsu-qc: device={device_id!r}; use one of {', '.join(DEVICES)}"
            )
        if options.get("optimize_on", "simulator") != "simulator":
            raise KakehashiError(
                "fujitsu-qc optimises the angles on a local simulator (optimize_on='simulator')"
            )
        avail = self.available()
        if not avail:  # nothing is sent without a login
            raise KakehashiError(f"fujitsu-qc is not available: {avail.reason}. {avail.fix}")
        from fujitsu_quantum.devices import Devices

        device = Devices.get(device_id)
        if cost.num_qubits > device.n_qubits:
            raise KakehashiError(
                f"fujitsu-qc: the problem needs {cost.num_qubits} qubits; {device_id} has "
                f"{device.n_qubits}"
            )
        max_memory = parse_memory(options.get("max_memory"))
        optimiser = self.local_optimiser(cost, qubo, reps=reps, seed=seed, max_memory=max_memory)
        return optimiser, FujitsuEngine(cost, qubo, reps, device=device)
