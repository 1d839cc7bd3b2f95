"""``kpilab alerts --panel FILE --out DIR``: threshold alerts with intervals and control charts."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "alerts"
HELP = "Threshold alerts (confirmed/possible by interval) and control charts with run rules from a panel."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--panel", required=True, help="long panel (.csv or .parquet), e.g. a day or week panel")
    parser.add_argument("--framework", help="framework YAML with alert thresholds (default: kpilab's)")
    parser.add_argument("--out", required=True, help="output folder: alerts.csv, control_charts.csv, one figure "
                                                     "per charted indicator")
    parser.add_argument("--level", action="append", dest="levels",
                        help="unit level(s) to alert on (repeatable; default all in the panel)")
    parser.add_argument("--seasonal", choices=["none", "last_year", "weekday"], default="none",
                        help="compare with the same period last year or the same weekday (default none)")
    parser.add_argument("--chart-level", default="centre", help="unit level of the control charts (default centre)")
    parser.add_argument("--min-periods", type=int, default=8, help="periods needed for control limits (default 8)")


def run(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kpilab.framework import load_framework
    from kpilab.operations.alerts import _alerts_of, control_charts, threshold_alerts
    from kpilab.operations.plots import plot_control_chart
    from kpilab.outputs import prepare_output
    from kpilab.panel import read_panel
    from kpilab.plots import save_figure

    prepare_output(args.out, kind="dir", inputs=[p for p in (args.panel, args.framework) if p])
    out = Path(args.out)
    panel = read_panel(args.panel)
    panel = panel.panel if hasattr(panel, "panel") else panel
    fw = load_framework(args.framework)
    seasonal = None if args.seasonal == "none" else args.seasonal
    alerts = threshold_alerts(panel, fw, unit_levels=args.levels, seasonal=seasonal)
    out.mkdir(parents=True, exist_ok=True)
    cols = ["unit_id", "period", "indicator", "value", "ci_low", "ci_high", "threshold", "status", "rule",
            "unit_level", "side", "value_raw", "seasonal"]
    alerts[cols].to_csv(out / "alerts.csv", index=False)
    written = [out / "alerts.csv"]
    present = [c for c in _alerts_of(fw) if c in set(panel["indicator"])]
    if present and args.chart_level in set(panel["unit_level"]):
        charts = control_charts(panel, present, unit_level=args.chart_level, min_periods=args.min_periods,
                                seasonal=seasonal)
        charts.to_csv(out / "control_charts.csv", index=False)
        written.append(out / "control_charts.csv")
        for (unit, ind), c in charts.groupby(["unit_id", "indicator"]):
            if c["center"].notna().any():
                fig = plot_control_chart(c, f"{ind} - {unit}")
                written.append(save_figure(fig, out / "figures" / f"{ind}_{unit}.png"))
                plt.close(fig)
    counts = alerts["status"].value_counts().to_dict()
    print(f"kpilab alerts: {len(alerts)} alert cells ({', '.join(f'{k} {v}' for k, v in counts.items()) or 'none'})")
    absent = [c for c in _alerts_of(fw) if c not in set(panel["indicator"]) and c in fw.codes]
    if absent:
        # "no alert" must not be read as "all is well" when the indicator was never measured
        print(f"kpilab alerts: not checked, the panel has no {', '.join(absent)} rows (queue indicators: compute "
              "the panel with --unit queue,centre, e.g. kpilab panel --data DIR --period day --unit queue,centre "
              f"--indicators {','.join(absent)} --out FILE)")
    for p in written:
        print(f"wrote {p}")
    return 0
