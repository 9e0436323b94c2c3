"""save() then load(): .ommx is lossless, .mps keeps the model, .json keeps QUBO/Ising problems."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kakehashi.errors import UnsupportedError
from kakehashi.model.io import data_file, load, save
from kakehashi.model.io._random import random_problem, random_samples
from kakehashi.model.ommx_io import to_ommx
from kakehashi.model.problem import BINARY, CONTINUOUS, INTEGER, SPIN, Problem


def _same_evaluation(p: Problem, q: Problem, X: np.ndarray, Y: np.ndarray | None = None) -> None:
    ev_p, ev_q = p.evaluate(X), q.evaluate(X if Y is None else Y)
    assert np.allclose(ev_p["objective"], ev_q["objective"])
    assert np.array_equal(ev_p["feasible"], ev_q["feasible"])


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_ommx_file_round_trip_is_lossless(tmp_path, seed):
    rng = np.random.default_rng(seed)
    p = random_problem(rng)
    p.metadata = {"origin": "test", "seed": seed}
    path = save(p, tmp_path / "p.ommx")
    q = load(path)
    assert q.var_arrays == p.var_arrays
    assert [(g.name, g.shape) for g in q.constraint_groups] == [
        (g.name, g.shape) for g in p.constraint_groups
    ]
    assert q.metadata["origin"] == "test" and q.metadata["format"] == "ommx"
    _same_evaluation(p, q, random_samples(p, rng))
    save(q, path)  # overwriting an existing archive works
    assert load(path).num_variables == p.num_variables


def test_raw_instance_bytes_are_read_as_ommx(tmp_path):
    p = load(data_file("small_mip.mps"))
    raw = tmp_path / "raw.ommx"
    raw.write_bytes(to_ommx(p).to_bytes())
    q = load(raw)
    assert q.var_arrays == p.var_arrays
    _same_evaluation(p, q, np.array([[1, 0.5, 1], [0, 0.5, 1]]))


@pytest.mark.parametrize("name", ["p.mps", "p.mps.gz"])
def test_mps_round_trip_keeps_the_model(tmp_path, name):
    rng = np.random.default_rng(7)
    p = random_problem(rng, vtypes=(BINARY, INTEGER, CONTINUOUS), higher_order=False)
    q = load(save(p, tmp_path / name))
    assert q.num_variables == p.num_variables and q.sense == p.sense
    assert np.array_equal(q.vtype, p.vtype)
    _same_evaluation(p, q, random_samples(p, rng))  # names are OMMX_VAR_<id>, order kept


def test_mps_writes_spins_as_binaries(tmp_path):
    p = Problem.from_arrays(linear=[1.0, -1.0], quadratic=[[0, 2.0], [0, 0]], vtype="spin")
    q = load(save(p, tmp_path / "s.mps"))
    S = np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]], dtype=float)
    _same_evaluation(p, q, S, (S + 1) / 2)


def test_mps_refuses_higher_order(tmp_path):
    p = Problem.from_arrays(linear=[1.0, 0.0, 0.0])
    p.higher_order = {3: (np.array([[0, 1, 2]]), np.array([1.0]))}
    with pytest.raises(UnsupportedError, match=r"degree 3.*ommx"):
        save(p, tmp_path / "h.mps")


@pytest.mark.parametrize("vtype", ["binary", "spin"])
def test_json_round_trip(tmp_path, vtype):
    rng = np.random.default_rng(3)
    p = random_problem(
        rng,
        vtypes=({"binary": BINARY, "spin": SPIN}[vtype],),
        higher_order=False,
        constraints=False,
    )
    path = save(p, tmp_path / "q.json")
    doc = json.loads(path.read_text())
    assert doc["vartype"] == vtype.upper() and doc["variables"] == p.variable_names()
    q = load(path)
    assert q.var_arrays == p.var_arrays and (q.sense, q.name) == (p.sense, p.name)
    _same_evaluation(p, q, random_samples(p, rng))


def test_json_refuses_constraints_and_integers(tmp_path):
    p = Problem.from_arrays(linear=[1.0, 1.0], A=np.ones((1, 2)), lo=[1.0], hi=[1.0])
    with pytest.raises(UnsupportedError, match=r"constraints.*ommx"):
        save(p, tmp_path / "c.json")
    ints = Problem.from_arrays(linear=[1.0], vtype="integer", lower=0, upper=3)
    with pytest.raises(UnsupportedError, match="all-BINARY or all-SPIN"):
        save(ints, tmp_path / "i.json")
