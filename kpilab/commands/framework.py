"""``kpilab framework show [FILE]`` and ``kpilab framework check FILE``."""

from __future__ import annotations

import argparse

import pandas as pd

from kpilab.framework import Framework, load_framework

NAME = "framework"
HELP = "Show a KPI framework as a table, or check a framework file."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = sub.add_parser("show", help="print the framework (default: the shipped contact-centre one)")
    show.add_argument("file", nargs="?", help="framework YAML file (default: kpilab's default framework)")
    check = sub.add_parser("check", help="validate a framework file; exit 2 with the offending key if invalid")
    check.add_argument("file", help="framework YAML file")


def render(fw: Framework) -> str:
    """Readable text rendering: indicators, weight sets, grades and tiers."""
    lines = [f"{fw.name} (version {fw.version}): {len(fw.indicators)} indicators, "
             f"{len(fw.pillars)} pillars, index '{fw.index}'", ""]
    table = fw.to_frame().drop(columns=["target_source"])
    table["target"] = table["target"].map(lambda v: "" if pd.isna(v) else f"{v:g}")
    table["outcome"] = table["outcome"].map({True: "yes", False: ""})
    with pd.option_context("display.width", 200, "display.max_colwidth", 48, "display.max_rows", 500):
        lines.append(table.to_string(index=False))
    lines += ["", "Weight sets:"]
    for name, ws in fw.weight_sets.items():
        total = sum(ws.weights.values())
        shares = ", ".join(f"{k} {v / total:.0%}" for k, v in ws.weights.items())
        lines.append(f"  {name} ({ws.level}): {shares}")
    if fw.grades:
        lines += ["", "Grades: " + ", ".join(f"{g.grade} >= {g.min:g}" for g in fw.grades)]
    if fw.tiers:
        lines.append("Tiers:  " + ", ".join(
            f"{t.tier} >= {t.min:g}" + (f" for {t.consecutive_periods} periods" if t.consecutive_periods > 1 else "")
            for t in fw.tiers))
    if fw.exemptions:
        lines += ["", "Exemption windows:"]
        lines += [f"  {e.start:%Y-%m-%d} .. {e.end:%Y-%m-%d} {e.scope}: {e.reason} ({e.action})" for e in fw.exemptions]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    fw = load_framework(args.file)
    if args.action == "show":
        print(render(fw))
    else:
        print(f"{args.file}: OK ({len(fw.indicators)} indicators, {len(fw.pillars)} pillars, "
              f"{len(fw.weight_sets)} weight sets)")
    return 0
