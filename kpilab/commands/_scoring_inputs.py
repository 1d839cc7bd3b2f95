"""Arguments shared by the commands that score agents (``score``, ``robustness``): one definition, one reader."""

from __future__ import annotations

import argparse
from typing import Any

from kpilab.framework import Framework, load_framework


def add_scoring_inputs(parser: argparse.ArgumentParser) -> None:
    """``--panel --framework --agents`` and the weights source (``--weights [--weights-column] | --weight-set``)."""
    parser.add_argument("--panel", required=True, help="long panel or wide table (.csv or .parquet)")
    parser.add_argument("--framework", help="framework YAML (default: kpilab's contact-centre framework)")
    parser.add_argument("--agents", help="agents table (agent_id, role, team; .csv or .parquet): role weights, teams")
    src = parser.add_mutually_exclusive_group()
    src.add_argument("--weights", help="weights CSV: 'indicator, weight' (kpilab weights --out), or a table with one "
                                       "column per set (pick it with --weights-column)")
    src.add_argument("--weight-set", help="framework weight set for everyone (default: each agent's role set)")
    parser.add_argument("--weights-column", help="column of --weights to use when it holds several sets")


def read_scoring_inputs(args: argparse.Namespace) -> tuple[Framework, Any]:
    """The framework and the weights source the arguments name (None: each agent's role template)."""
    from kpilab.scoring import read_weights

    fw = load_framework(args.framework)
    if args.weights:
        return fw, read_weights(args.weights, args.weights_column)
    return fw, args.weight_set or None


def scoring_inputs(args: argparse.Namespace) -> list[Any]:
    """The input files of a scoring command (never written over by ``--out``)."""
    return [args.panel, args.framework, args.weights, args.agents]


def write_outputs(command: str, out: str, target: Any, tables: dict[str, Any], provenance: dict[str, Any],
                  record: str, summary: str) -> None:
    """Write ``tables`` (``{file name: DataFrame}``) and the provenance JSON into the checked ``--out``; say so."""
    import json
    from pathlib import Path

    from kpilab.panel import write_table

    written = [write_table(df, Path(out) / name) for name, df in tables.items()]
    meta = Path(out) / record
    meta.write_text(json.dumps(provenance, indent=2, default=str), encoding="utf-8")
    if target.notice():
        print(f"note: {target.notice()}")
    print(f"kpilab {command}: {summary}")
    for p in [*written, meta]:
        print(f"wrote {p}")
