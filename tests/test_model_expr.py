"""Model expressions evaluate exactly like the numpy formulas they mirror.

The central property: for random expression programs (indexing, broadcasting, sums, matmul,
products of variable arrays, powers), ``model.to_problem().evaluate(X)`` and
``expr.evaluate(X)`` agree with the same program run in plain numpy on the sample values.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kakehashi import Model


def random_samples(m: Model, rng: np.random.Generator, k: int = 6) -> np.ndarray:
    """Valid samples for every variable type: 0/1, ±1, integers within bounds."""
    p_vtype = m._vtype_array()
    lower = np.concatenate(m._lower)
    upper = np.concatenate(m._upper)
    X = np.empty((k, m.num_variables))
    for j, t in enumerate(p_vtype):
        if t == 0:
            X[:, j] = rng.integers(0, 2, k)
        elif t == 1:
            X[:, j] = rng.choice([-1.0, 1.0], k)
        elif t == 2:
            X[:, j] = rng.integers(lower[j], upper[j] + 1, k)
        else:
            X[:, j] = rng.uniform(-2, 2, k)
    return X


def values_of(m: Model, X: np.ndarray) -> dict[str, np.ndarray]:
    """Per-array values with a leading sample axis: {name: (k, *shape)}."""
    out = {}
    for va in m._arrays:
        out[va.name] = X[:, va.start : va.stop].reshape((X.shape[0], *va.shape))
    return out


# ---------------------------------------------------------------------- random programs
def _ops(draw, pair, rng, names):
    """Apply one random numpy operation to (expr, fn) where fn maps values → ndarray.

    Numpy arrays carry a leading sample axis, so axes of the expression are shifted by one.
    """
    expr, fn = pair
    ops = ["scale", "add_const", "neg"]
    if expr.ndim >= 1:
        ops += ["index", "sum_axis", "roll", "matmul", "rmatmul", "slice"]
    if expr.ndim >= 2:
        ops += ["transpose"]
    ops += ["sum_all", "square", "mul_var", "add_var"]
    op = draw(st.sampled_from(ops))
    shape = expr.shape
    if op == "scale":
        w = rng.normal(size=shape[-1:] if shape else ())
        return expr * w, lambda V, f=fn, w=w: f(V) * w
    if op == "add_const":
        c = float(rng.normal())
        return c + expr, lambda V, f=fn, c=c: c + f(V)
    if op == "neg":
        return -expr, lambda V, f=fn: -f(V)
    if op == "index":
        i = draw(st.integers(0, shape[0] - 1))
        return expr[i], lambda V, f=fn, i=i: f(V)[:, i]
    if op == "slice":
        lo = draw(st.integers(0, shape[0] - 1))
        idx = np.array([lo, lo, 0])  # fancy indexing with a repeat
        return expr[idx], lambda V, f=fn, idx=idx: f(V)[:, idx]
    if op == "sum_axis":
        ax = draw(st.integers(0, expr.ndim - 1))
        return expr.sum(axis=ax), lambda V, f=fn, ax=ax: f(V).sum(axis=ax + 1)
    if op == "sum_all":
        return expr.sum(), lambda V, f=fn: f(V).reshape(V[names[0]].shape[0], -1).sum(axis=1)
    if op == "roll":
        s = draw(st.integers(-2, 2))
        return expr.roll(s, axis=0), lambda V, f=fn, s=s: np.roll(f(V), s, axis=1)
    if op == "transpose":
        perm = (0, *range(expr.ndim, 0, -1))
        return expr.T, lambda V, f=fn, perm=perm: np.transpose(f(V), perm)
    if op == "matmul":
        q = draw(st.integers(1, 3))
        D = rng.normal(size=(shape[-1], q))
        D[rng.random(D.shape) < 0.3] = 0.0
        return expr @ D, lambda V, f=fn, D=D: f(V) @ D
    if op == "rmatmul":
        D = rng.normal(size=(2, shape[0]))
        if expr.ndim == 1:
            return D @ expr, lambda V, f=fn, D=D: f(V) @ D.T
        if expr.ndim == 2:
            return D @ expr, lambda V, f=fn, D=D: np.einsum("qp,kpr->kqr", D, f(V))
        return expr, fn
    if op == "square":
        return expr**2, lambda V, f=fn: f(V) ** 2
    if op in ("mul_var", "add_var"):
        name = draw(st.sampled_from(names))
        var = expr.model[name]
        nd = expr.ndim
        width = shape[-1] if nd else 0
        if nd and var.size >= width:
            # the first `width` variables, lined up with the expression's last axis
            v = var.reshape(-1)[:width]

            def vf(V, n=name, w=width, nd=nd):
                k = V[n].shape[0]
                return V[n].reshape(k, -1)[:, :w].reshape((k,) + (1,) * (nd - 1) + (w,))
        else:
            v = var.sum()

            def vf(V, n=name, nd=nd):
                k = V[n].shape[0]
                return V[n].reshape(k, -1).sum(axis=1).reshape((k,) + (1,) * nd)

        if op == "mul_var":
            return expr * v, lambda V, f=fn, vf=vf: f(V) * vf(V)
        return expr + v, lambda V, f=fn, vf=vf: f(V) + vf(V)
    raise AssertionError(op)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_random_programs_match_numpy(data, seed):
    rng = np.random.default_rng(seed)
    m = Model("prog")
    x = m.binary("x", shape=(3, 4))
    m.spin("s", shape=(4,))
    m.integer("k", shape=(2, 4), lower=-1, upper=2)
    names = ["x", "s", "k"]
    start = data.draw(st.sampled_from(names))
    pair = (m[start], lambda V, n=start: V[n])
    for _ in range(data.draw(st.integers(1, 4))):
        pair = _ops(data.draw, pair, rng, names)
        if pair[0].num_terms > 20000:  # keep the test quick; size is not the point here
            break
    expr, fn = pair
    X = random_samples(m, rng)
    V = values_of(m, X)
    want = fn(V)
    got = expr.evaluate(X)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)

    # the same through the canonical Problem: the sum of all elements as the objective
    m.minimize(expr.sum())
    m.constrain(x.sum() >= 0, name="keeps_the_problem_non_empty")  # expr may be constant
    p = m.to_problem()
    obj = p.evaluate(X)["objective"]
    np.testing.assert_allclose(obj, want.reshape(X.shape[0], -1).sum(axis=1), rtol=1e-9, atol=1e-8)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 7), seed=st.integers(0, 2**32 - 1))
def test_tsp_objective_matches_numpy(n, seed):
    rng = np.random.default_rng(seed)
    d = rng.random((n, n))
    m = Model("tsp")
    x = m.binary("x", shape=(n, n))
    m.minimize(((x @ d) * x.roll(-1, axis=0)).sum())
    p = m.to_problem()
    X = rng.integers(0, 2, size=(8, n * n)).astype(float)
    Xs = X.reshape(8, n, n)
    want = np.einsum("ij,bki,bkj->b", d, Xs, np.roll(Xs, -1, axis=1))
    np.testing.assert_allclose(p.evaluate(X)["objective"], want, rtol=1e-10)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_quadratic_form_and_linear(n, seed):
    """x @ Q @ x + c @ x + const, with x binary, spin or integer."""
    rng = np.random.default_rng(seed)
    Q, c = rng.normal(size=(n, n)), rng.normal(size=n)
    for kind in ("binary", "spin", "integer"):
        m = Model()
        x = m.integer("x", n, lower=-2, upper=3) if kind == "integer" else getattr(m, kind)("x", n)
        m.minimize(x @ Q @ x + c @ x + 1.5)
        X = random_samples(m, rng)
        want = np.einsum("bi,ij,bj->b", X, Q, X) + X @ c + 1.5
        np.testing.assert_allclose(
            m.to_problem().evaluate(X)["objective"], want, rtol=1e-9, atol=1e-9
        )


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), power=st.integers(0, 4))
def test_powers_and_higher_order(seed, power):
    rng = np.random.default_rng(seed)
    m = Model()
    x = m.binary("x", 3)
    s = m.spin("s", 3)
    k = m.integer("k", 2, lower=0, upper=3)
    w = rng.normal(size=3)
    e = (w @ x + s.sum() - k[0]) ** power + x[0] * x[1] * s[2] * k[1]
    m.maximize(e)
    p = m.to_problem()
    X = random_samples(m, rng, 16)
    xv, sv, kv = X[:, :3], X[:, 3:6], X[:, 6:]
    want = (xv @ w + sv.sum(1) - kv[:, 0]) ** power + xv[:, 0] * xv[:, 1] * sv[:, 2] * kv[:, 1]
    np.testing.assert_allclose(p.evaluate(X)["objective"], want, rtol=1e-9, atol=1e-9)
    assert p.sense == "max"
    if power >= 3:
        assert p.max_degree >= 3


# ---------------------------------------------------------------------- shapes & numpy interop
def test_indexing_shapes():
    m = Model()
    x = m.binary("x", shape=(3, 4, 5))
    assert x[0].shape == (4, 5)
    assert x[:, 1:].shape == (3, 3, 5)
    assert x[..., 0].shape == (3, 4)
    assert x[[0, 2]][:, None].shape == (2, 1, 4, 5)
    assert x[x.shape[0] - 1, 2, 4].shape == ()
    assert x.sum(axis=(0, 2)).shape == (4,)
    assert x.sum(axis=1, keepdims=True).shape == (3, 1, 5)
    assert x.T.shape == (5, 4, 3)
    assert x.transpose(1, 0, 2).shape == (4, 3, 5)
    assert x.reshape(12, 5).shape == (12, 5)
    assert x.reshape(-1).shape == (60,)
    assert (x[0] @ np.ones((5, 2))).shape == (4, 2)
    assert (np.ones((2, 4)) @ x[0]).shape == (2, 5)
    assert (x * np.ones((2, 1, 1, 1))).shape == (2, 3, 4, 5)
    mask = np.zeros((3, 4, 5), dtype=bool)
    mask[0, 0, :2] = True
    assert x[mask].shape == (2,)


def test_numpy_functions_and_reflected_operators():
    m = Model()
    x = m.binary("x", shape=(2, 3))
    X = np.array([[1, 0, 1, 1, 1, 0]], dtype=float)
    Xv = X.reshape(2, 3)
    cases = {
        "np.sum": (np.sum(x, axis=0), Xv.sum(axis=0)),
        "np.roll": (np.roll(x, 1, axis=1), np.roll(Xv, 1, axis=1)),
        "np.transpose": (np.transpose(x), Xv.T),
        "ndarray*": (np.arange(3.0) * x, np.arange(3.0) * Xv),
        "ndarray+": (np.arange(3.0) + x, np.arange(3.0) + Xv),
        "ndarray-": (np.arange(3.0) - x, np.arange(3.0) - Xv),
        "ndarray@": (np.ones((4, 2)) @ x, np.ones((4, 2)) @ Xv),
        "np.dot": (np.dot(x, np.ones(3)), Xv @ np.ones(3)),
        "concatenate": (np.concatenate([x, 2 * x], axis=1), np.concatenate([Xv, 2 * Xv], 1)),
        "stack": (
            np.stack([x[0], x[1], np.ones(3)], axis=1),
            np.stack([Xv[0], Xv[1], np.ones(3)], axis=1),
        ),
        "mean": (x.mean(axis=1), Xv.mean(axis=1)),
        "div": (x / 4, Xv / 4),
        "diagonal": (x.diagonal(), Xv.diagonal()),
        "iter": (sum(row for row in x), Xv.sum(axis=0)),
    }
    for label, (expr, want) in cases.items():
        np.testing.assert_allclose(expr.evaluate(X[0]), want, err_msg=label)


def test_folding_binary_spin_integer():
    m = Model()
    x = m.binary("x", 2)
    s = m.spin("s", 2)
    k = m.integer("k", 1, lower=0, upper=4)
    assert (x * x).degree == 1  # x² = x
    assert (s * s).degree == 0  # s² = 1
    assert float((s * s).const.sum()) == 2.0
    assert (x[0] * x[0] * x[1]).degree == 2
    assert (s[0] * s[0] * s[0]).degree == 1
    assert (k * k).degree == 2  # integers keep their square
    m.minimize((k * k).sum())
    p = m.to_problem()
    assert p.quadratic[4, 4] == 1.0  # the diagonal term k²
    np.testing.assert_allclose(p.evaluate(np.array([0, 0, 1, 1, 3.0]))["objective"], [9.0])


def test_duplicate_terms_are_summed():
    m = Model()
    x = m.binary("x", 3)
    m.minimize(x.sum() ** 2)  # 9 products, x_i x_j and x_j x_i merge, x_i² folds
    p = m.to_problem()
    np.testing.assert_allclose(p.linear, [1, 1, 1])
    np.testing.assert_allclose(p.quadratic.toarray(), [[0, 2, 2], [0, 0, 2], [0, 0, 0]])
    s = x.sum() * 2 - x.sum()
    assert s.simplify().num_terms == 3


def test_objective_accumulation_and_evaluate_by_name():
    m = Model()
    x = m.binary("x", (2, 2))
    y = m.integer("y", (), lower=0, upper=5)
    m.minimize(x.sum())
    m.objective += 3 * y
    m.objective -= x[0, 0] * y
    vals = {"x": [[1, 1], [0, 1]], "y": 2}
    assert float(m.objective.evaluate(vals)) == 3 + 6 - 2
    p = m.to_problem()
    flat = np.concatenate([np.ravel(vals["x"]), [vals["y"]]])
    assert float(p.evaluate(flat)["objective"][0]) == 7.0
    assert p.unflatten(flat)["x"].shape == (2, 2)


EINSUM_CASES = [
    "ij,jk->ik",
    "ij->ji",
    "ij,ij",
    "ki,kj->ij",
    "ij,jk,kl->il",
    "ab,bc,ca",
    "ij,kl->ik",
    "ij,ab->",
    "ij,jk->kij",
    "ij,i->j",
    "ij,ki,kj->",
]


@pytest.mark.parametrize("subscripts", EINSUM_CASES)
def test_einsum_matches_numpy(subscripts):
    """Operands alternate between variable arrays and constant arrays of matching sizes."""
    rng = np.random.default_rng(len(subscripts))
    m = Model()
    ins = subscripts.split("->")[0].split(",")
    size = dict(zip("ijklabc", (3, 2, 4, 2, 3, 2, 4), strict=True))
    operands, values = [], []
    for k, sub in enumerate(ins):
        shape = tuple(size[c] for c in sub)
        if k % 2 == 0 or len(ins) == 1:
            var = m.integer(f"v{k}", shape, lower=-2, upper=2)
            operands.append(var)
            values.append(var)
        else:
            arr = rng.normal(size=shape)
            operands.append(arr)
            values.append(arr)
    X = random_samples(m, rng, 1)[0]
    V = {va.name: X[va.start : va.stop].reshape(va.shape) for va in m._arrays}
    numeric = [V[f"v{k}"] if isinstance(v, type(operands[0])) else v for k, v in enumerate(values)]
    want = np.einsum(subscripts, *numeric)
    got = np.einsum(subscripts, *operands).evaluate(X)
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_einsum_and_matmul_build_the_same_tsp():
    n = 6
    d = np.random.default_rng(0).random((n, n))
    problems = []
    for build in (
        lambda x: ((x @ d) * x.roll(-1, axis=0)).sum(),
        lambda x: np.einsum("ij,ki,kj->", d, x, x.roll(-1, axis=0)),
    ):
        m = Model()
        x = m.binary("x", (n, n))
        m.minimize(build(x))
        problems.append(m.to_problem())
    assert abs(problems[0].quadratic - problems[1].quadratic).max() < 1e-12
