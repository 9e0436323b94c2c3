"""Cancelling a running job cancels its task at the provider too: the worker stops its runner
with SIGTERM first, and a run that holds a cloud task has registered the vendor's cancel call
with :func:`kakehashi.progress.on_stop` (as the D-Wave, Braket, IBM and Fujitsu backends do),
which runs before the runner exits.

No cloud machine answers here, so the run is a plug-in backend of this test's own that holds
a pretend task the same way and records its cancel call in a file; the worker, the runner
and the signal path are the real ones, in a live ``kakehashi serve``."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

import kakehashi
from service_support import server_factory

BACKEND = '''
"""Holds a pretend remote task until its time is up or the run is stopped."""
import os
import time
from pathlib import Path

import numpy as np

from kakehashi import progress
from kakehashi.backends import BackendInfo, QuboSamplerBackend, SampleBatch


class HeldTaskBackend(QuboSamplerBackend):
    name = "held-task"
    info = BackendInfo(
        family="test",
        modality="classical heuristic",
        vendor="test",
        hardware="local CPU",
        accepts=("qubo",),
        price_model={"model": "cpu-time"},
        description="waits on a pretend remote task",
    )
    parameters = ()

    def sample_qubo(self, qubo, *, time_limit, seed):
        marker = Path(os.environ["KH_TEST_TASK_MARKER"])
        with progress.on_stop(lambda: marker.write_text("cancelled at the provider")):
            marker.with_suffix(".started").write_text("waiting")
            deadline = time.monotonic() + time_limit
            while time.monotonic() < deadline:
                time.sleep(0.02)
        X = np.zeros((1, qubo.num_variables), dtype=np.uint8)
        return SampleBatch(samples=X, energies=qubo.energies(X), info={})
'''


def install_plugin(site: Path) -> None:
    """The installed layout pip would leave: the module and its entry point."""
    (site / "kh_held_task.py").write_text(BACKEND)
    info = site / "kh_held_task-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: kh-held-task\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[kakehashi.backends]\nheld-task = kh_held_task:HeldTaskBackend\n"
    )
    (info / "RECORD").write_text("")


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_cancelling_a_running_job_cancels_its_task_at_the_provider(
    server_factory,
    tmp_path,
    monkeypatch,
):
    site = tmp_path / "site"
    site.mkdir()
    install_plugin(site)
    monkeypatch.setenv("PYTHONPATH", f"{site}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    marker = tmp_path / "task.cancel"
    server = server_factory(workers=1, KH_TEST_TASK_MARKER=str(marker))
    admin = kakehashi.Client(server.url, server.admin_key)
    client = kakehashi.Client(server.url, admin.create_tenant("a")["api_key"])
    job = client.submit(kakehashi.examples.small_maxcut(), backend="held-task", time_limit=120)
    wait_for(marker.with_suffix(".started").exists, 60, "the run to hold its task")
    client.cancel(job)
    wait_for(lambda: client.status(job)["status"] == "cancelled", 30, "the job to be cancelled")
    assert marker.read_text() == "cancelled at the provider"
    assert client.status(job)["charges"]["money"] >= 0
