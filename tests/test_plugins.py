"""Third-party backends through the `kakehashi.backends` entry point group.

The example plug-in (examples/plugin, a distribution of its own) is installed into a
temporary site directory the way an installer lays it out — the package beside a
``.dist-info`` with its METADATA and the entry points its pyproject.toml declares — and
found by ``importlib.metadata``, as it would be after ``pip install ./examples/plugin``.
"""

from __future__ import annotations

import importlib
import shutil
import sys
import tomllib
from pathlib import Path

import pytest

import kakehashi
from kakehashi.backends import base
from kakehashi.errors import BackendUnavailableError
from kakehashi.testing import check_backend

PLUGIN = Path(__file__).resolve().parents[1] / "examples" / "plugin"


def install(site: Path, name: str, version: str, entry_points: dict[str, str]) -> None:
    """Write the installed layout of a distribution (what pip leaves in site-packages)."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = [f"{k} = {v}" for k, v in entry_points.items()]
    (info / "entry_points.txt").write_text("[kakehashi.backends]\n" + "\n".join(lines) + "\n")
    (info / "RECORD").write_text("")


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A fresh site directory on sys.path; the registry is restored afterwards."""
    factories, instances = dict(base._FACTORIES), dict(base._INSTANCES)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    base._FACTORIES.clear()
    base._FACTORIES.update(factories)
    base._INSTANCES.clear()
    base._INSTANCES.update(instances)
    sys.modules.pop("kakehashi_greedy", None)
    importlib.invalidate_caches()


def test_the_example_plugin_is_found_and_passes_the_kit(site):
    project = tomllib.loads((PLUGIN / "pyproject.toml").read_text())["project"]
    shutil.copytree(PLUGIN / "kakehashi_greedy", site / "kakehashi_greedy")
    install(
        site, project["name"], project["version"], project["entry-points"]["kakehashi.backends"]
    )
    importlib.invalidate_caches()
    assert "greedy" in base.load_plugins(reload=True)
    assert "greedy" in kakehashi.backend_names()
    r = kakehashi.solve(kakehashi.examples.small_maxcut(), backend="greedy", time_limit=0.2)
    assert r.objective == -5.0 and r.backend == "greedy"
    assert check_backend("greedy", time_limit=0.3, time_slack=5.0).ok


def test_a_broken_plugin_is_named_and_a_builtin_is_never_replaced(site):
    install(site, "broken-plugin", "1.0", {"broken": "no_such_module:Backend", "tabu": "x:Y"})
    importlib.invalidate_caches()
    added = base.load_plugins(reload=True)
    assert "broken" in added and "tabu" not in added
    with pytest.raises(BackendUnavailableError, match=r"plug-in broken-plugin.*failed to load"):
        kakehashi.get_backend("broken")
    assert type(kakehashi.get_backend("tabu")).__module__ == "kakehashi.backends.local_engines"
