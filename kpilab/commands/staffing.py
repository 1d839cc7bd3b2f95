"""``kpilab staffing (--panel FILE | --data DIR) --out FILE``: can the staffing meet the SL target (Erlang A/C)?"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "staffing"
HELP = "Staffing feasibility per queue and period: offered load, staffed and required agents (Erlang A/C)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--panel", help="long panel with queue-level offered_contacts and aht (an average open hour)")
    src.add_argument("--data", help="folder of canonical tables: per queue, period and hour from the contacts")
    parser.add_argument("--target-sl", type=float, default=None,
                        help="service-level target (default: the framework's service_level target, else 0.8)")
    parser.add_argument("--threshold-s", type=float, default=None,
                        help="SL threshold in seconds (default: the framework's, else 20)")
    parser.add_argument("--framework", help="framework YAML (default: kpilab's)")
    parser.add_argument("--max-occupancy", type=float, default=None,
                        help="occupancy bound (default: the framework's occupancy alert 'above', else 0.8)")
    parser.add_argument("--patience-s", type=float, default=None,
                        help="mean patience for Erlang A (default: estimated from --data; Erlang C with --panel)")
    parser.add_argument("--period", default="month", help="period of the rows with --data (default month)")
    parser.add_argument("--open-hours", type=float, default=14.0, help="open hours a day with --panel (default 14)")
    parser.add_argument("--roster", help="CSV queue, period, agents: staffed agents with --panel")
    parser.add_argument("--out", required=True, help="output CSV")


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from kpilab.framework import load_framework
    from kpilab.operations.staffing import staffing_from_contacts, staffing_from_panel
    from kpilab.outputs import prepare_output
    from kpilab.panel import read_panel

    prepare_output(args.out, kind="file", inputs=[p for p in (args.panel, args.data, args.roster) if p],
                   protect=[args.data] if args.data else [])
    fw = load_framework(args.framework)
    sl = next((i for i in fw.indicators if i.code == "service_level"), None)
    target = args.target_sl if args.target_sl is not None else (sl.target if sl and sl.target else 0.8)
    thr = args.threshold_s if args.threshold_s is not None else float((sl.params if sl else {}).get("threshold_s", 20))
    occ = fw.alerts.get("occupancy")
    max_occ = args.max_occupancy if args.max_occupancy is not None else (occ.above if occ and occ.above else 0.8)
    if args.data:
        table = staffing_from_contacts(args.data, target_sl=target, threshold_s=thr, max_occupancy=max_occ,
                                       patience=args.patience_s if args.patience_s is not None else "estimate",
                                       period=args.period)
    else:
        roster = pd.read_csv(args.roster, dtype={"queue": str, "period": str}) if args.roster else None
        table = staffing_from_panel(read_panel(args.panel), target_sl=target, threshold_s=thr,
                                    open_hours=args.open_hours, patience_s=args.patience_s, max_occupancy=max_occ,
                                    roster=roster)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
    v = table["verdict"].str.split(";").str[0].value_counts().to_dict()
    burn = int(table["verdict"].str.contains("burnout").sum())
    print(f"kpilab staffing: target {target:.0%} within {thr:g} s, occupancy bound {max_occ:.0%}: "
          f"{len(table)} rows ({', '.join(f'{k} {n}' for k, n in v.items())}; burnout {burn})")
    print(f"wrote {out}")
    return 0
