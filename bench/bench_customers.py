"""Benchmark the customer-value steps (run by hand: ``.venv/bin/python bench/bench_customers.py``).

Simulates a centre (``--agents`` x ``--months``), builds a customers table from its contacts (churn =
the simulator's own outcome, a customer not retained after some contact; random monthly charges and
tenure) and prints the time of: RFM, tier assignment, the tier panel (one
:func:`kpilab.indicators.compute_panel` run per tier) beside a single centre-level panel of the same
indicators, the customer service measures and the clustered logistic fit.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from kpilab.customers import assign_tiers, customer_service, rfm, service_link, tier_panel
from kpilab.framework import load_framework
from kpilab.indicators import compute_panel
from kpilab.simulate import simulate

EXAMPLE = "data/framework_customer_tiers_example.yaml"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--agents", type=int, default=60)
    ap.add_argument("--months", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    sim = simulate(agents=a.agents, months=a.months, seed=a.seed)
    c = sim.tables["contacts"]
    churned = c[c["customer_id"].notna()].groupby("customer_id")["retained"].agg(lambda s: bool((s == False).any()))  # noqa: E712
    rng = np.random.default_rng(a.seed)
    cust = pd.DataFrame({"customer_id": churned.index, "monthly_charges": rng.gamma(4, 15, len(churned)),
                         "tenure": rng.integers(0, 48, len(churned)).astype(float), "churned": churned.to_numpy()})
    fw = load_framework(EXAMPLE)
    codes = sorted({k for t in fw.customer_tiers for k in t.targets} - {"churn_risk", "churn_rate"})
    print(f"{len(c):,} contacts, {len(cust):,} customers, {len(fw.customer_tiers)} tiers, indicators {codes}")
    steps = [
        ("rfm", lambda: rfm(c, cust)),
        ("assign_tiers", lambda: assign_tiers(cust, fw)),
        ("tier_panel", lambda: tier_panel(sim.tables, cust, fw)),
        ("centre panel (same indicators)", lambda: compute_panel(sim.tables, unit="centre", framework=fw,
                                                                 indicators=codes, shrinkage=False)),
        ("customer_service", lambda: customer_service(c, cust, sim.tables["surveys"])),
    ]
    out = {}
    for name, fn in steps:
        t0 = time.perf_counter()
        out[name] = fn()
        print(f"{name:<32} {time.perf_counter() - t0:7.2f} s")
    t0 = time.perf_counter()
    service_link(out["customer_service"])
    print(f"{'service_link':<32} {time.perf_counter() - t0:7.2f} s")


if __name__ == "__main__":
    main()
