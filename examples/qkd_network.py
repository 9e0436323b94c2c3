"""Quantum-secure network planning: where to put QKD links and trusted nodes, and which
traffic falls back to post-quantum cryptography, on a network modelled on the Tokyo QKD
Network — then a generated nationwide backbone.

Run:  python examples/qkd_network.py [backend]      (default: tabu; try highs, sa, auto)
"""

import sys

from kakehashi.apps import get_use_case

backend = sys.argv[1] if len(sys.argv) > 1 else "tabu"
qkd = get_use_case("qkd-network")

data = qkd.load("tokyo-qkd")
print(f"{data.name}: {data.num_sites} sites, {data.num_links} links, {data.num_demands} demands")
print(f"QKD reach at {data.physics.loss_db_per_km} dB/km: {data.physics.max_distance_km():.0f} km")
for e, rate in enumerate(data.link_rate_bps()):
    print(
        f"  {data.link_name(e):<24} {data.length_km[e]:5.1f} km "
        f"{data.link_loss_db_per_km[e]:.2f} dB/km  {rate / 1e3:8.1f} kbit/s per pair"
    )
run = qkd.run(data, backend=backend, time_limit=10, seed=1, baseline_time_limit=30)
print(run.summary())

national = qkd.generate(15, seed=1, scale="national")
ref = qkd.baseline(national, time_limit=30)
print(f"\nnationwide, 15 sites: HiGHS {ref.status} in {ref.seconds:.2f} s")
print(ref.answer.describe())
