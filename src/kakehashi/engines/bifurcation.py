"""Simulated bifurcation (Goto et al., 2019 and 2021): ballistic (bSB) and discrete (dSB).

Each variable is an oscillator with position ``x_i`` and momentum ``y_i``; the pumping
amplitude ``a(t)`` grows from 0 to ``a0`` so that every position bifurcates to ±1, while the
couplings pull it towards a low-energy spin configuration (symplectic Euler steps, perfectly
inelastic walls at |x| = 1). dSB feeds the *signs* of the positions into the couplings, which
lets it reach exact optima more often; bSB feeds the positions themselves.

Many replicas run at once: the CPU kernel lays replicas out along the fast axis so each
coupling multiplies a contiguous block; chunks of replicas go to different threads. A GPU
path (PyTorch, CUDA) runs the same iteration when ``device="cuda"`` — or ``"auto"`` and a
CUDA device is present.
"""

from __future__ import annotations

import warnings
from typing import Any

import numba as nb
import numpy as np

from kakehashi.engines._core import (
    Improvements,
    OnImprove,
    QuboArrays,
    as_arrays,
    clock,
    deadline_of,
    energy_tolerance,
    finish,
    merge_traces,
    now,
    prune,
    resolve_seed,
    seed_states,
    target_of,
    using_threads,
)
from kakehashi.engines.descent import polish_rows
from kakehashi.engines.presolve import presolved

_TRACE_CAP = 256


def ising_arrays(q: QuboArrays) -> tuple[np.ndarray, np.ndarray, float]:
    """Spin form of the QUBO: ``E = off + hs·s + ½ sᵀ Js s`` with ``s = 2x - 1``.
    Returns ``(hs, Js data (same CSR pattern as J), off)``."""
    rows = np.repeat(np.arange(q.n), np.diff(q.indptr))
    row_sums = np.bincount(rows, weights=q.data, minlength=q.n) if q.data.size else np.zeros(q.n)
    hs = q.h / 2 + row_sums / 4
    off = q.offset + q.h.sum() / 2 + q.data.sum() / 8
    return hs, q.data / 4, float(off)


@nb.njit(cache=True, parallel=True)
def _sb_kernel(
    hs,
    indptr,
    indices,
    js,
    offset,
    X,
    Y,
    steps,
    dt,
    a0,
    c0,
    discrete,
    deadline,
    target,
    tol,
    stop,
    eval_every,
    Sbest,
    best_out,
    rec_t,
    rec_e,
    rec_n,
    steps_out,
):
    # X, Y: (chunks, n, C) positions/momenta; Sbest: (chunks, n) best spins of each chunk
    B, n, C = X.shape
    for b in nb.prange(B):
        x = X[b]
        y = Y[b]
        f = np.empty((n, C))
        sg = np.empty((n, C))
        best = np.inf
        nrec = 0
        done = 0
        for step in range(steps):
            if (step & 63) == 0:
                if stop[0] != 0 or now() > deadline:
                    break
            at = a0 * (step + 1) / steps
            for i in range(n):
                for r in range(C):
                    sg[i, r] = 1.0 if x[i, r] >= 0.0 else -1.0
            src = sg if discrete else x
            # f = -(hs + Js·src): the force that lowers the energy
            for i in range(n):
                for r in range(C):
                    f[i, r] = -hs[i]
                for k in range(indptr[i], indptr[i + 1]):
                    j = indices[k]
                    w = js[k]
                    for r in range(C):
                        f[i, r] -= w * src[j, r]
            evaluate = discrete or (step + 1) % eval_every == 0 or step == steps - 1
            if evaluate:
                ebest = np.inf
                rbest = 0
                for r in range(C):
                    e = offset
                    if discrete:
                        for i in range(n):
                            e += sg[i, r] * (hs[i] + 0.5 * (-f[i, r] - hs[i]))
                    else:  # bSB: the energy of the signs needs its own Js·sg
                        for i in range(n):
                            acc = 0.0
                            for k in range(indptr[i], indptr[i + 1]):
                                acc += js[k] * sg[indices[k], r]
                            e += sg[i, r] * (hs[i] + 0.5 * acc)
                    if e < ebest:
                        ebest = e
                        rbest = r
                if ebest < best - tol:
                    best = ebest
                    for i in range(n):
                        Sbest[b, i] = sg[i, rbest]
                    slot = nrec if nrec < rec_t.shape[1] else rec_t.shape[1] - 1
                    rec_t[b, slot] = now()
                    rec_e[b, slot] = best
                    nrec = min(nrec + 1, rec_t.shape[1])
                    if best <= target + tol:
                        stop[0] = 1
            # symplectic Euler step with inelastic walls
            for i in range(n):
                for r in range(C):
                    y[i, r] += dt * (-(a0 - at) * x[i, r] + c0 * f[i, r])
                    xi = x[i, r] + dt * a0 * y[i, r]
                    if xi > 1.0:
                        xi = 1.0
                        y[i, r] = 0.0
                    elif xi < -1.0:
                        xi = -1.0
                        y[i, r] = 0.0
                    x[i, r] = xi
            done += 1
        best_out[b] = best
        rec_n[b] = nrec
        steps_out[b] = done


def _c0(q: QuboArrays, hs: np.ndarray, js: np.ndarray) -> float:
    norm = np.sqrt((js**2).sum() + (hs**2).sum())
    return 0.5 * np.sqrt(max(q.n - 1, 1)) / norm if norm > 0 else 1.0


@presolved("sb")
def bifurcate(
    qubo: Any,
    *,
    variant: str = "discrete",
    num_replicas: int | None = None,
    steps: int | None = None,
    num_runs: int | None = None,
    dt: float | None = None,
    a0: float = 1.0,
    c0: float | None = None,
    seed: int | None = None,
    time_limit: float | None = None,
    target: float | None = None,
    threads: int | None = None,
    device: str = "cpu",
    polish: bool = True,
    presolve: bool = True,
    on_improve: OnImprove | None = None,
) -> Any:
    """Simulated bifurcation on a QUBO → :class:`~kakehashi.engines.EngineResult`.

    ``variant`` is ``"discrete"`` (dSB, default) or ``"ballistic"`` (bSB). One run evolves
    ``num_replicas`` replicas (default 32 per thread on the CPU, 1024 on a GPU) for ``steps``
    steps (default 1000) of size ``dt`` (default 1.25 for dSB, 1.0 for bSB). ``num_runs`` runs
    are made (default 1; with a ``time_limit`` and no ``num_runs``, runs repeat with fresh seeds
    until the time is up or ``target`` is reached, keeping the best samples — and when
    ``steps`` is not given, each run takes twice the steps of the one before, so long budgets
    get slow, thorough bifurcations). ``device`` is ``"cpu"``,
    ``"cuda"`` (PyTorch) or ``"auto"`` (CUDA when PyTorch sees one, else the CPU);
    ``"torch-cpu"`` runs the PyTorch path on the CPU (to check it without a GPU).
    ``on_improve(row, energy)`` is called after each run that improved the best sample.

    Example:
        >>> import numpy as np, scipy.sparse as sp
        >>> h = np.array([-1.0, -1.0, 2.0])
        >>> J = sp.csr_matrix(np.array([[0, 2, 0], [2, 0, -3], [0, -3, 0.0]]))
        >>> bifurcate((h, J), seed=1, steps=200).best_energy
        -2.0
    """
    if variant not in ("discrete", "ballistic"):
        raise ValueError("variant must be 'discrete' or 'ballistic'")
    q = as_arrays(qubo)
    seed = resolve_seed(seed)
    t0 = clock()
    deadline = deadline_of(t0, time_limit)
    discrete = variant == "discrete"
    dt = (1.25 if discrete else 1.0) if dt is None else float(dt)
    hs, js, off = ising_arrays(q)
    c0 = _c0(q, hs, js) if c0 is None else float(c0)
    grow = steps is None and num_runs is None and time_limit is not None
    steps = 1000 if steps is None else int(steps)
    device = _resolve_device(device)
    if device != "cpu":
        return _bifurcate_torch(
            q,
            hs,
            js,
            off,
            discrete,
            num_replicas or 1024,
            steps,
            dt,
            a0,
            c0,
            seed,
            t0,
            deadline,
            target,
            device,
            polish,
            threads,
            num_runs,
            grow,
            Improvements(q, on_improve),
        )
    tol = energy_tolerance(q)
    improvements = Improvements(q, on_improve)
    stop = np.zeros(1, dtype=np.int64)
    n = q.n
    with using_threads(threads) as nthreads:
        R = int(num_replicas) if num_replicas is not None else 32 * nthreads
        B = max(1, min(nthreads, R))
        C = -(-R // B)
        samples, traces = [], []
        total_steps = 0
        run = 0
        while True:
            rng = np.random.default_rng(seed_states(seed, 1, stream=run)[0])
            X = rng.uniform(-0.1, 0.1, size=(B, n, C))
            Y = rng.uniform(-0.1, 0.1, size=(B, n, C))
            Sbest = np.ones((B, n))
            best_out = np.zeros(B)
            rec_t = np.zeros((B, _TRACE_CAP))
            rec_e = np.zeros((B, _TRACE_CAP))
            rec_n = np.zeros(B, dtype=np.int64)
            steps_out = np.zeros(B, dtype=np.int64)
            if n:
                _sb_kernel(
                    hs,
                    q.indptr,
                    q.indices,
                    js,
                    off,
                    X,
                    Y,
                    int(steps),
                    dt,
                    a0,
                    c0,
                    discrete,
                    deadline,
                    target_of(target),
                    tol,
                    stop,
                    max(1, steps // 20),
                    Sbest,
                    best_out,
                    rec_t,
                    rec_e,
                    rec_n,
                    steps_out,
                )
            final = (X >= 0).transpose(0, 2, 1).reshape(B * C, n)[:R]
            samples.append(final.astype(np.int8))
            samples.append((Sbest > 0).astype(np.int8))
            improvements.offer(np.concatenate(samples[-2:]))
            traces.append((rec_t, rec_e, rec_n))
            samples = prune(q, samples, 8 * R)
            total_steps += int(steps_out.sum())
            run += 1
            if stop[0] or clock() >= deadline:
                break
            done = run >= num_runs if num_runs is not None else time_limit is None
            if done:
                break
            if grow and clock() + 2 * (clock() - t0) / run < deadline:
                steps = min(2 * steps, 1 << 17)
        X01 = np.concatenate(samples)
        if polish:
            polish_rows(q, X01, nthreads)
    trace = merge_traces(
        np.concatenate([t[0] for t in traces]),
        np.concatenate([t[1] for t in traces]),
        np.concatenate([t[2] for t in traces]),
        t0,
    )
    info = {
        "engine": "sb",
        "variant": variant,
        "device": "cpu",
        "seed": seed,
        "threads": nthreads,
        "num_replicas": R,
        "runs": run,
        "last_steps": int(steps),
        "dt": dt,
        "a0": a0,
        "c0": c0,
        "replica_steps": total_steps * C,
        "elapsed": clock() - t0,
        "stopped": "target" if stop[0] else ("time" if clock() >= deadline else "done"),
    }
    return finish(q, X01, trace, info)


def gpu_available() -> bool:
    """Whether the GPU path can run here (PyTorch with a CUDA device)."""
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def _resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if gpu_available() else "cpu"
    if device == "cpu":
        return "cpu"
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        raise ValueError(
            f"device={device!r} needs PyTorch: pip install torch (or use device='cpu')"
        ) from exc
    return device


def _bifurcate_torch(
    q,
    hs,
    js,
    off,
    discrete,
    R,
    steps,
    dt,
    a0,
    c0,
    seed,
    t0,
    deadline,
    target,
    device,
    polish,
    threads,
    num_runs,
    grow,
    improvements,
):
    import torch

    dev = torch.device("cpu" if device == "torch-cpu" else device)
    dtype = torch.float32
    n = q.n
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
        Jt = (
            torch.sparse_csr_tensor(
                torch.as_tensor(q.indptr),
                torch.as_tensor(q.indices.astype(np.int64)),
                torch.as_tensor(js),
                size=(n, n),
                dtype=torch.float64,
                check_invariants=False,
            )
            .to(dtype)
            .to(dev)
        )
    h = torch.as_tensor(hs, dtype=dtype, device=dev).unsqueeze(1)
    tgt = target_of(target)
    tol = energy_tolerance(q)
    samples, rec = [], []
    best = np.inf
    run = 0
    total = 0
    while True:
        gen = torch.Generator(device=dev).manual_seed(int(seed_states(seed, 1, stream=run)[0] >> 1))
        x = (torch.rand((n, R), generator=gen, device=dev, dtype=dtype) - 0.5) * 0.2
        y = (torch.rand((n, R), generator=gen, device=dev, dtype=dtype) - 0.5) * 0.2
        stopped = False
        first_of_run = len(samples)
        for step in range(steps):
            at = a0 * (step + 1) / steps
            sg = torch.where(x >= 0, 1.0, -1.0).to(dtype)
            src = sg if discrete else x
            f = -(h + Jt @ src)
            if discrete or (step + 1) % max(1, steps // 20) == 0 or step == steps - 1:
                Js = -f - h if discrete else Jt @ sg
                e = off + (sg * (h + 0.5 * Js)).sum(0)
                eb, rb = torch.min(e, 0)
                eb = float(eb)
                if eb < best - tol:
                    best = eb
                    rec.append((clock(), best))
                    samples.append(((sg[:, rb] > 0).to(torch.int8)).cpu().numpy()[None, :])
                    if best <= tgt + tol:
                        stopped = True
            y += dt * (-(a0 - at) * x + c0 * f)
            x += dt * a0 * y
            wall = x.abs() > 1
            x = torch.where(wall, torch.sign(x), x)
            y = torch.where(wall, torch.zeros_like(y), y)
            total += 1
            if stopped or ((step & 63) == 0 and clock() > deadline):
                break
        samples.append((x >= 0).to(torch.int8).T.cpu().numpy())
        improvements.offer(np.concatenate(samples[first_of_run:]))
        samples = prune(q, samples, 8 * R)
        run += 1
        if stopped or clock() >= deadline:
            break
        done = run >= num_runs if num_runs is not None else deadline == np.inf
        if done:
            break
        if grow:
            steps = min(2 * steps, 1 << 17)
    X01 = np.ascontiguousarray(np.concatenate(samples), dtype=np.int8)
    if polish:
        polish_rows(q, X01, threads)
    if rec:
        t = np.array([[r[0] for r in rec]])
        e = np.array([[r[1] for r in rec]])
        trace = merge_traces(t, e, np.array([len(rec)]), t0)
    else:
        trace = np.zeros((0, 2))
    info = {
        "engine": "sb",
        "variant": "discrete" if discrete else "ballistic",
        "device": device,
        "seed": seed,
        "num_replicas": R,
        "runs": run,
        "steps": steps,
        "dt": dt,
        "a0": a0,
        "c0": c0,
        "replica_steps": total * R,
        "elapsed": clock() - t0,
        "stopped": "target" if best <= tgt + tol else ("time" if clock() >= deadline else "done"),
    }
    return finish(q, X01, trace, info)
