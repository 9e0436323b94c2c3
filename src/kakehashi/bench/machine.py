"""The machine a benchmark ran on, described for the record (and for the report's first line).

A result without its machine is not a result: every run row points at one of these.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import socket
from pathlib import Path
from typing import Any


def cpu_model() -> str:
    """The CPU's marketing name from ``/proc/cpuinfo`` (Linux), else what Python knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def memory_gb() -> float | None:
    """Physical memory in GiB (``MemTotal``), or ``None`` when the OS does not say."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return None


def usable_cores() -> int:
    """Cores this process may run on (affinity mask, which containers narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def describe_machine() -> dict[str, Any]:
    """Everything recorded about this machine, plus a stable ``fingerprint`` of it.

    Example:
        >>> m = describe_machine()
        >>> m["cores_usable"] >= 1 and len(m["fingerprint"]) == 16
        True
    """
    from kakehashi.bench.accounting import rapl_domains

    info: dict[str, Any] = {
        "hostname": socket.gethostname(),
        "cpu_model": cpu_model(),
        "cores_logical": os.cpu_count() or 1,
        "cores_usable": usable_cores(),
        "memory_gb": round(memory_gb() or 0.0, 2) or None,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "rapl": bool(rapl_domains()),
    }
    key = json.dumps({k: info[k] for k in sorted(info)}, sort_keys=True)
    info["fingerprint"] = hashlib.sha256(key.encode()).hexdigest()[:16]
    return info


def machine_line(m: dict[str, Any]) -> str:
    """One readable line: ``AMD EPYC, 2 of 2 cores, 23.5 GiB, Linux 6.1 (host)``."""
    mem = f"{m['memory_gb']:.1f} GiB" if m.get("memory_gb") else "memory unknown"
    return (
        f"{m.get('cpu_model', '?')}, {m.get('cores_usable', '?')} of {m.get('cores_logical', '?')} "
        f"cores usable, {mem}, {m.get('os', '?')}, Python {m.get('python', '?')} "
        f"(host {m.get('hostname', '?')})"
    )
