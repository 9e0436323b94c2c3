"""`qaoa-ibm`: QAOA on IBM Quantum hardware through qiskit-ibm-runtime, or on a fake device.

``device=`` names an IBM device (``"ibm_brisbane"``; needs ``QISKIT_IBM_TOKEN``, optional
``QISKIT_IBM_INSTANCE`` and ``QISKIT_IBM_CHANNEL``) or one of the runtime's fake backends
(``"fake_sherbrooke"``, ``"FakeBrisbane"``; offline). The circuit is transpiled for the
device — its basis gates, coupling map and a seeded layout — with Qiskit's preset pass
manager, and run with the runtime's ``SamplerV2``; shots, job ids, usage seconds and queue
time (from the job's timestamps) are recorded.

A fake device runs locally on Aer with the noise model built from the device's calibration
data (``NoiseModel.from_backend``), restricted to the physical qubits the transpiled
circuit uses: on a 127-qubit device the full model takes ~17 s to build and ~4 s per run to
hand to Aer, the restricted one well under a second — and since the model has no
crosstalk between qubits, the counts are identical (checked on fake_sherbrooke with the
same seed).
"""

from __future__ import annotations

import contextlib
import os
import re
import time
import warnings
from typing import Any

import numpy as np

from kakehashi import progress
from kakehashi.backends.base import Availability, register
from kakehashi.backends.catalog import catalog_availability, info_for
from kakehashi.backends.params import Param
from kakehashi.backends.qaoa.circuit import counts_to_samples, qiskit_circuit
from kakehashi.backends.qaoa.core import (
    MAX_MEMORY,
    Engine,
    QAOABackend,
    check_statevector_memory,
    parse_memory,
)
from kakehashi.backends.qaoa.hamiltonian import IsingCost
from kakehashi.compile.qubo import Qubo
from kakehashi.errors import BackendError, BackendUnavailableError, KakehashiError, UnsupportedError

TOKEN_ENV = "QISKIT_IBM_TOKEN"
INSTANCE_ENV = "QISKIT_IBM_INSTANCE"
CHANNEL_ENV = "QISKIT_IBM_CHANNEL"
DEFAULT_CHANNEL = "ibm_quantum_platform"


def is_fake(device: str) -> bool:
    return re.sub(r"[^a-z]", "", str(device).lower()).startswith("fake")


def fake_backend(device: str) -> Any:
    """The runtime's fake backend for ``"fake_sherbrooke"``, ``"FakeSherbrooke"``, ...

    Example:
        >>> fake_backend("fake_manila").num_qubits
        5
    """
    from qiskit_ibm_runtime import fake_provider

    wanted = _key(device)
    names = [n for n in dir(fake_provider) if n.startswith("Fake") and "Provider" not in n]
    for name in names:
        if _key(name) == wanted:
            cls = getattr(fake_provider, name)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "not typical values" notes
                return cls()
    from difflib import get_close_matches

    close = get_close_matches(device, [_snake(n) for n in names], n=3)
    raise UnsupportedError(
        f"qaoa-ibm: no fake backend named {device!r}"
        + (f"; did you mean {', '.join(close)}?" if close else "")
        + " Fake devices are the classes of qiskit_ibm_runtime.fake_provider, e.g. "
        "'fake_sherbrooke', 'fake_brisbane', 'fake_manila'"
    )


def _key(name: str) -> str:
    """``"fake_manila"``, ``"FakeManila"`` and ``"FakeManilaV2"`` all give ``"fakemanila"``."""
    key = re.sub(r"[^a-z0-9]", "", name.lower())
    return key[:-2] if key.endswith("v2") else key


def _snake(name: str) -> str:
    return "fake_" + _key(name)[4:]


def runtime_backend(device: str) -> Any:
    """A real IBM backend through ``QiskitRuntimeService`` (credentials from the environment)."""
    token = os.environ.get(TOKEN_ENV)
    if not token:
        raise BackendUnavailableError(
            f"qaoa-ibm: device={device!r} is IBM hardware and {TOKEN_ENV} is not set; export "
            f"{TOKEN_ENV}=<your IBM Quantum API key> (and {INSTANCE_ENV}=<instance CRN> if you "
            "have several), or use a fake device such as device='fake_sherbrooke'"
        )
    from qiskit_ibm_runtime import QiskitRuntimeService

    kwargs: dict[str, Any] = {
        "channel": os.environ.get(CHANNEL_ENV, DEFAULT_CHANNEL),
        "token": token,
    }
    if os.environ.get(INSTANCE_ENV):
        kwargs["instance"] = os.environ[INSTANCE_ENV]
    try:
        return QiskitRuntimeService(**kwargs).backend(device)
    except Exception as exc:  # the runtime's account/network/not-found errors
        raise BackendError(
            f"qaoa-ibm: could not reach IBM device {device!r} ({type(exc).__name__}: {exc}); "
            f"check {TOKEN_ENV}, {INSTANCE_ENV} and the device name"
        ) from exc


def restricted_noise_simulator(backend: Any, qubits: list[int]) -> Any:
    """An AerSimulator with ``backend``'s noise model on ``qubits`` only (renumbered 0..k-1)."""
    from qiskit.providers import BackendV2, Options
    from qiskit.transpiler import Target
    from qiskit_aer import AerSimulator
    from qiskit_aer.noise import NoiseModel

    full = backend.target
    index = {q: i for i, q in enumerate(qubits)}
    props = full.qubit_properties
    sub = Target(
        num_qubits=len(qubits),
        dt=full.dt,
        qubit_properties=[props[q] for q in qubits] if props else None,
    )
    for name in full.operation_names:
        op = full.operation_from_name(name)
        inst = full[name]
        if inst is None or None in inst:  # global operations (control flow, ...)
            sub.add_instruction(op, name=name)
            continue
        kept = {
            tuple(index[q] for q in qargs): p
            for qargs, p in inst.items()
            if all(q in index for q in qargs)
        }
        if kept:
            sub.add_instruction(op, kept, name=name)

    class _Restricted(BackendV2):
        def __init__(self) -> None:
            super().__init__(name=f"{backend.name}[{','.join(map(str, qubits))}]")

        @property
        def target(self) -> Target:
            return sub

        @property
        def max_circuits(self) -> None:
            return None

        @classmethod
        def _default_options(cls) -> Options:
            return Options()

        def run(self, run_input: Any, **options: Any) -> Any:
            raise NotImplementedError("used only to build a noise model")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        noise = NoiseModel.from_backend(_Restricted())
    return AerSimulator(noise_model=noise)


def compact_circuit(isa: Any, qubits: list[int]) -> Any:
    """The transpiled circuit on qubits renumbered 0..k-1 in the order of ``qubits``."""
    from qiskit import QuantumCircuit

    index = {q: i for i, q in enumerate(qubits)}
    out = QuantumCircuit(len(qubits), name=isa.name)
    for creg in isa.cregs:
        out.add_register(creg)
    for inst in isa.data:
        out.append(
            inst.operation,
            [out.qubits[index[isa.find_bit(q).index]] for q in inst.qubits],
            inst.clbits,
        )
    return out


class RuntimeEngine(Engine):
    """The QAOA circuit transpiled for an IBM device and run with the runtime's SamplerV2."""

    def __init__(
        self,
        cost: IsingCost,
        qubo: Qubo,
        reps: int,
        *,
        device: Any,
        fake: bool,
        seed: int | None,
        optimization_level: int = 1,
        max_memory: int,
    ) -> None:
        from qiskit.transpiler.preset_passmanagers import generate_preset_pass_manager

        super().__init__(cost, qubo, reps)
        self.name = f"ibm:{device.name}"
        self.fake = fake
        circuit, self.parameters = qiskit_circuit(cost, reps, measure=True)
        t = time.perf_counter()
        pm = generate_preset_pass_manager(
            backend=device, optimization_level=int(optimization_level), seed_transpiler=seed
        )
        self.isa = pm.run(circuit)
        used = sorted(
            {self.isa.find_bit(q).index for inst in self.isa.data for q in inst.qubits}
            - _idle_only(self.isa)
        )
        self.info = {
            "device": device.name,
            "fake_device": fake,
            "device_qubits": int(device.num_qubits),
            "basis_gates": sorted(device.operation_names),
            "physical_qubits": used,
            "transpiled_depth": int(self.isa.depth()),
            "transpiled_ops": {k: int(v) for k, v in self.isa.count_ops().items()},
            "optimization_level": int(optimization_level),
            "transpile_seconds": time.perf_counter() - t,
            "job_ids": [],
        }
        if fake:
            # local run: noise-model simulation of the qubits the circuit touches
            check_statevector_memory(len(used), max_memory, where=f"qaoa-ibm on {device.name}")
            t = time.perf_counter()
            self.mode = restricted_noise_simulator(device, used)
            self.circuit = compact_circuit(self.isa, used)
            self.info["noise_model_seconds"] = time.perf_counter() - t
            self.info["noise_model"] = "NoiseModel.from_backend on the used qubits"
        else:
            self.mode = device
            self.circuit = self.isa
        self.seed = seed

    def sample(
        self, params: np.ndarray, shots: int, seed: int | None
    ) -> tuple[np.ndarray, np.ndarray]:
        from qiskit_ibm_runtime import SamplerV2

        options: dict[str, Any] = {"default_shots": int(shots)}
        if self.fake and seed is not None:
            options["simulator"] = {"seed_simulator": int(seed)}
        with warnings.catch_warnings():
            # SamplerV2 is deprecated from runtime 0.50 in favour of a client-side sampler
            # with another interface; it remains the documented V2 primitive until removed
            warnings.simplefilter("ignore", DeprecationWarning)
            sampler = SamplerV2(mode=self.mode, options=options)
        t = time.perf_counter()
        job = sampler.run([(self.circuit, np.asarray(params, dtype=np.float64))])
        # stopped meanwhile (a cancelled service job, a race lost): cancel it at IBM too
        with progress.on_stop(job.cancel):
            result = job.result()
        wall = time.perf_counter() - t
        self.executions += 1
        self.shots_used += int(shots)
        self.info["job_ids"].append(str(job.job_id()))
        self._record_job_timing(job, wall)
        counts = result[0].join_data().get_counts()
        return counts_to_samples(counts, self.cost.num_qubits)

    def _record_job_timing(self, job: Any, wall: float) -> None:
        if self.fake:
            self.add_vendor_timing({"local_simulation_seconds": wall})
            return
        timing: dict[str, float] = {"job_wall_seconds": wall}
        with contextlib.suppress(Exception):  # metrics need the service; absent offline
            usage = job.usage()
            if usage is not None:
                timing["usage_seconds"] = float(usage)
        queue = None
        with contextlib.suppress(Exception):
            stamps = job.metrics().get("timestamps", {})
            created, running = stamps.get("created"), stamps.get("running")
            if created and running:
                from datetime import datetime

                queue = (
                    datetime.fromisoformat(running.replace("Z", "+00:00"))
                    - datetime.fromisoformat(created.replace("Z", "+00:00"))
                ).total_seconds()
        # without timestamps the whole wall time is waiting: a run takes seconds, queues longer
        self.queue_seconds += max(queue if queue is not None else wall, 0.0)
        self.add_vendor_timing(timing)


def _idle_only(isa: Any) -> set[int]:
    """Qubits that only carry barriers (measure_all's barrier spans every used qubit)."""
    touched: dict[int, bool] = {}
    for inst in isa.data:
        real = inst.operation.name != "barrier"
        for q in inst.qubits:
            i = isa.find_bit(q).index
            touched[i] = touched.get(i, False) or real
    return {q for q, real in touched.items() if not real}


@register("qaoa-ibm")
class QAOAIBMBackend(QAOABackend):
    """QAOA on an IBM device (``device="ibm_..."``) or a fake one (``device="fake_sherbrooke"``).

    Options (beyond the QAOA ones): ``device`` (required), ``optimization_level``
    (transpiler, default 1), ``max_memory`` (for local simulation). By default the angles
    are optimised on a local noiseless statevector and the device runs only the final
    sampling job; ``optimize_on="device"`` sends one job per optimiser step.

    Example:
        >>> import kakehashi
        >>> r = kakehashi.solve(kakehashi.examples.small_maxcut(), backend="qaoa-ibm",
        ...                     device="fake_manila", seed=1, reps=1)
        >>> r.info["rounds"][0]["engines"]["ibm:fake_manila"]["fake_device"]
        True
    """

    name = "qaoa-ibm"
    warm_up_modules = ("qiskit", "qiskit_aer", "qiskit_ibm_runtime")
    catalog_limit = True
    info = info_for("qaoa-ibm")
    default_time_limit = 60.0
    parameters = (
        Param("device", str, None, "an IBM device, or a fake one such as 'FakeSherbrooke'"),
        Param("optimization_level", int, None, "transpiler level", low=0, high=3),
        MAX_MEMORY,
    )

    def available(self) -> Availability:
        # Fake devices run offline, so the backend is usable with only the SDK; the
        # token is checked per device before anything is sent (runtime_backend).
        sdk = catalog_availability(self.name, "fake")
        if not sdk:
            return sdk
        if not os.environ.get(TOKEN_ENV):
            return Availability(
                True,
                f"{TOKEN_ENV} is not set: only fake devices (device='fake_sherbrooke') can run",
                f"export {TOKEN_ENV}=<your IBM Quantum API key> for IBM hardware",
            )
        return Availability(True)

    def make_engines(
        self, cost: IsingCost, qubo: Qubo, *, reps: int, seed: int | None, options: dict[str, Any]
    ) -> tuple[Engine, Engine]:
        device_name = options.get("device")
        if not device_name:
            raise KakehashiError(
                "qaoa-ibm needs device=: an IBM device name such as 'ibm_brisbane', or a fake "
                "device such as 'fake_sherbrooke' to run offline"
            )
        optimize_on = options.get("optimize_on", "simulator")
        if optimize_on not in ("simulator", "device"):
            raise KakehashiError("optimize_on must be 'simulator' or 'device'")
        fake = is_fake(device_name)
        device = fake_backend(device_name) if fake else runtime_backend(device_name)
        if cost.num_qubits > device.num_qubits:
            raise UnsupportedError(
                f"qaoa-ibm: the problem compiles to {cost.num_qubits} qubits but {device.name} "
                f"has {device.num_qubits}; reduce the problem or choose a larger device"
            )
        max_memory = parse_memory(options.get("max_memory"))
        optimiser = None
        if optimize_on == "simulator":
            optimiser = self.local_optimiser(
                cost, qubo, reps=reps, seed=seed, max_memory=max_memory
            )
        runner = RuntimeEngine(
            cost,
            qubo,
            reps,
            device=device,
            fake=fake,
            seed=seed,
            optimization_level=int(options.get("optimization_level", 1)),
            max_memory=max_memory,
        )
        return (optimiser or runner), runner
