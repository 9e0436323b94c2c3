"""The backend catalog: completeness, BackendInfo from data, availability, estimates, max_cost."""

from __future__ import annotations

import json
import math

import pytest

import kakehashi
from kakehashi.backends import backend_names, get_backend
from kakehashi.backends import catalog as cat
from kakehashi.errors import BudgetError

ISSUE_NAMES = (
    "scip highs cpsat dwave-sa dwave-tabu dwave-sd openjij-sa openjij-sqa dwave-qpu "
    "dwave-hybrid dwave-mock qaoa-aer qaoa-ibm qaoa-braket braket-local "
    "amplify-ae fujitsu-da toshiba-sqbm hitachi fujitsu-qc"
).split()
OWN_NAMES = ["exact", "reference-sa", "sa", "pt", "pa", "tabu", "sb"]


@pytest.fixture
def override(tmp_path, monkeypatch):
    """Write a KAKEHASHI_CATALOG override file and reload; restore the plain catalog after."""

    def write(text: str) -> None:
        path = tmp_path / "override.toml"
        path.write_text(text)
        monkeypatch.setenv(cat.OVERRIDE_ENV, str(path))
        cat.reload_catalog()

    yield write
    monkeypatch.delenv(cat.OVERRIDE_ENV, raising=False)
    cat.reload_catalog()


# ---------------------------------------------------------------------- completeness
@pytest.mark.parametrize("name", ISSUE_NAMES + OWN_NAMES)
def test_every_named_backend_has_a_complete_entry(name):
    e = cat.entry(name)  # raises CatalogError naming any missing field
    assert all(field in e for field in cat.REQUIRED_FIELDS)
    price, power = e["price"], e["power"]
    assert price["currency"] and price["source"] and price["as_of"]
    assert power["source"]
    assert 1 <= e["trl"] <= 9


def test_every_registered_backend_takes_its_info_from_the_catalog():
    for name in backend_names():
        backend = get_backend(name)
        assert backend.info == cat.info_for(name), name


def test_usage_prices_are_positive_numbers_with_their_source():
    for name in cat.catalog_names():
        e = cat.entry(name)
        devices = [cat.device_entry(name, key.replace("*", "x")) for key in e.get("devices", {})]
        for entry in [e, *devices]:
            price = entry["price"]
            if price["model"] == "usage":
                rates = [price.get(k) for k in ("per_task", "per_shot", "per_second")]
                assert any(r for r in rates), name
                assert all(r is None or r > 0 for r in rates), name
                assert "pricing" in price["source"].lower(), name


def test_missing_fields_and_bad_values_are_named(override):
    override('[backends.broken]\nfamily = "x"\n')
    with pytest.raises(cat.CatalogError, match=r"lacks .*modality"):
        cat.entry("broken")
    with pytest.raises(cat.CatalogError, match="no entry"):
        cat.entry("no-such-backend")


# ---------------------------------------------------------------------- availability
def test_missing_package_gives_the_pip_command(override):
    base = cat.load_catalog()["backends"]["highs"]
    fields = {k: v for k, v in base.items() if not isinstance(v, dict)}
    lines = [f"{k} = {json.dumps(v)}" for k, v in fields.items() if k != "requires"]
    override(
        "[backends.fake-mip]\n"
        + "\n".join(lines)
        + '\nrequires = ["kakehashi_no_such_pkg.sub"]\n'
        + 'price = { model = "cpu-time" }\npower = { model = "cpu" }\n'
    )
    avail = cat.catalog_availability("fake-mip")
    assert not avail
    assert "kakehashi_no_such_pkg.sub" in avail.reason
    assert avail.fix == "pip install 'kakehashi[mip]'"


def test_missing_credentials_name_the_environment_variable(monkeypatch):
    monkeypatch.delenv("DWAVE_API_TOKEN", raising=False)
    avail = cat.catalog_availability("dwave-hybrid")
    if "not installed" in avail.reason:
        pytest.skip("the dwave extra is not installed")
    assert not avail and "DWAVE_API_TOKEN" in avail.reason
    assert avail.fix.startswith("export DWAVE_API_TOKEN=")
    monkeypatch.setenv("DWAVE_API_TOKEN", "test-token-not-used")
    assert cat.catalog_availability("dwave-hybrid")


def test_a_local_fake_device_needs_no_credentials(monkeypatch):
    monkeypatch.delenv("QISKIT_IBM_TOKEN", raising=False)
    if "not installed" in cat.catalog_availability("qaoa-ibm").reason:
        pytest.skip("the qiskit extra is not installed")
    assert not cat.catalog_availability("qaoa-ibm")
    assert cat.catalog_availability("qaoa-ibm", device="FakeSherbrooke")


# ---------------------------------------------------------------------- estimates
def test_cpu_estimate_is_threads_times_seconds_at_the_configured_rate(monkeypatch):
    monkeypatch.setenv(cat.CPU_PRICE_ENV, "3.6")  # 0.001 per vCPU-second
    monkeypatch.setenv(cat.CPU_WATTS_ENV, "10")
    p = kakehashi.examples.knapsack(8)
    est = get_backend("highs").estimate(p, time_limit=20)
    assert est.seconds == 20 and est.cpu_seconds == 20  # highs: 1 thread
    assert est.money == pytest.approx(0.02)
    assert est.energy_joules == pytest.approx(200.0)
    assert est.upper_bound and "upper bound" in est.basis
    est4 = cat.estimate("highs", p, time_limit=20, threads=4)
    assert est4.money == pytest.approx(0.08)


def test_exact_estimate_counts_assignments():
    e = cat.entry("exact")
    est = get_backend("exact").estimate(kakehashi.examples.knapsack(10))
    assert est.seconds == pytest.approx(2**10 * e["seconds_per_assignment"])
    assert not est.upper_bound


def test_braket_estimate_is_tasks_and_shots_at_list_price():
    arn = "arn:aws:braket:us-east-1::device/qpu/ionq/Aria-1"
    est = cat.estimate("qaoa-braket", None, device=arn, shots=100, tasks=20)
    assert est.money == pytest.approx(20 * 0.30 + 20 * 100 * 0.03)
    assert est.energy_joules is None  # IonQ publishes no power figure: unknown, not zero
    assert est.device == arn


def test_ibm_estimate_bills_usage_seconds_and_fake_devices_cost_cpu_time():
    e = cat.entry("qaoa-ibm")
    est = cat.estimate("qaoa-ibm", None, device="ibm_torino", shots=1000, tasks=2)
    busy = 2 * (e["timing"]["seconds_per_task"] + 1000 * e["timing"]["seconds_per_shot"])
    assert est.seconds == pytest.approx(busy)
    assert est.money == pytest.approx(busy * 1.60)
    assert est.energy_joules == pytest.approx(busy * e["power"]["watts"])
    fake = cat.estimate("qaoa-ibm", None, device="FakeSherbrooke", time_limit=5)
    assert fake.money < 0.01 and fake.cpu_seconds is not None


def test_unpublished_price_is_unknown_and_an_override_prices_it(override):
    est = cat.estimate("dwave-qpu", None, num_reads=1000)
    assert est.money is None and est.energy_joules > 0
    override('[backends.dwave-qpu.price]\nmodel = "usage"\nper_second = 0.5\n')
    est = cat.estimate("dwave-qpu", None, num_reads=1000)
    assert est.money == pytest.approx(0.5 * est.seconds)


# ---------------------------------------------------------------------- max_cost
def test_max_cost_refuses_before_anything_runs(monkeypatch):
    backend = get_backend("reference-sa")

    def must_not_run(*args, **kwargs):
        raise AssertionError("the backend ran although the estimate exceeded max_cost")

    # the cap is checked on the shared path, before run() (and before warm-up)
    monkeypatch.setattr(backend, "run", must_not_run)
    with pytest.raises(BudgetError, match="max_cost"):
        kakehashi.solve(
            kakehashi.examples.small_maxcut(), backend="reference-sa", time_limit=1, max_cost=1e-9
        )


def test_max_cost_lets_a_cheap_run_through():
    r = kakehashi.solve(kakehashi.examples.small_maxcut(), backend="exact", max_cost=0.01)
    assert r.objective == -5.0


def test_an_unpriceable_run_cannot_be_capped():
    est = cat.Estimate("x", money=None, currency="USD", energy_joules=None, seconds=None)
    with pytest.raises(BudgetError, match="cannot be priced"):
        cat.check_budget(est, 10.0)
    with pytest.raises(BudgetError, match="≥ 0"):
        cat.check_budget(est, -1.0)
    cat.check_budget(est, None)  # no cap, no check


# ---------------------------------------------------------------------- the CLI table
def test_cli_backends_lists_every_backend_with_price_and_fix():
    from typer.testing import CliRunner

    from kakehashi.cli import app

    out = CliRunner().invoke(app, ["backends", "--json"])
    assert out.exit_code == 0, out.output
    rows = {r["name"]: r for r in json.loads(out.output)}
    assert set(backend_names()) <= set(rows)
    for name, row in rows.items():
        assert row["price"] and row["trl"] is not None, name
        if not row["available"]:
            assert row["reason"] and row["fix"], name
    assert math.isclose(rows["dwave-qpu"]["power_watts"], 25000.0)
