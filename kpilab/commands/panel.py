"""``kpilab panel``: compute the long indicator panel from a folder of canonical tables."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from kpilab.errors import DataError
from kpilab.levels import PERIODS, UNIT_LEVELS

NAME = "panel"
HELP = "Compute the long indicator panel (unit x period x indicator, with n, CI and flags) from canonical tables."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="folder of canonical tables (.parquet, .csv or .xlsx, each optionally with <table>.mapping.yaml)")
    parser.add_argument("--period", required=True, choices=PERIODS, help="period length (weeks start on Monday)")
    parser.add_argument("--unit", default="agent",
                        help=f"unit level(s), comma-separated, among {', '.join(UNIT_LEVELS)} (default agent)")
    parser.add_argument("--framework", default=None, help="framework YAML file (default: the shipped one)")
    parser.add_argument("--indicators", default=None, help="comma-separated indicator codes (default: framework's)")
    parser.add_argument("--min-n", type=int, default=None, help="flag cells with n below this (default framework.min_n)")
    parser.add_argument("--shrinkage", action="store_true", help="add value_shrunk (empirical Bayes toward the team)")
    parser.add_argument("--start", default=None, help="first day to keep, YYYY-MM-DD")
    parser.add_argument("--end", default=None, help="last day to keep, YYYY-MM-DD")
    parser.add_argument("--out", required=True, help="output panel file (.csv or .parquet)")
    parser.add_argument("--engine", default="duckdb", choices=("duckdb", "spark"),
                        help="where the rows are aggregated: duckdb (default, this machine) or spark (Apache Spark; "
                             "pip install 'kpilab[spark]' and a Java runtime); the panel is the same")
    parser.add_argument("--spark-master", default=None,
                        help="Spark master URL with --engine spark (default local[*]; e.g. spark://HOST:7077). "
                             "--data may then be a folder URI Spark reads (s3a://..., hdfs://..., file:///...)")


def run(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    if getattr(args, "engine", "duckdb") == "duckdb":
        _prefetch_id_screen(Path(args.data))
    from kpilab.indicators import compute_panel
    from kpilab.indicators.stats import preload
    from kpilab.ingest import find_sources, load_source
    from kpilab.outputs import prepare_output
    from kpilab.schema import TABLES

    preload()  # scipy.special (intervals) imports in the background while the tables are read
    out = Path(args.out)
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise DataError(f"--out {out} must end in .csv or .parquet.")
    engine = getattr(args, "engine", "duckdb")
    master = getattr(args, "spark_master", None)
    if master is not None and engine != "spark":
        raise DataError(f"--spark-master {master} needs --engine spark.")
    if engine == "spark":
        from kpilab.indicators.spark_engine import is_uri

        if is_uri(args.data):  # the data stay where Spark reads them; nothing is loaded on this machine
            return _run_spark_uri(args, out, t0, master)
    found = find_sources(args.data)
    if not found:
        raise DataError(f"Data folder {args.data} holds no canonical table ({', '.join(TABLES)} as .parquet, .csv "
                        "or .xlsx).")
    inputs = [p for p, _ in found.values()] + [Path(m.label) for _, m in found.values() if m is not None]
    inputs.append(args.framework)
    target = prepare_output(out, kind="file", inputs=inputs, companions=[".accounting.csv"], protect=[args.data])
    loaded = {}
    for name, (path, mapping) in found.items():
        # agent ids: compute_panel checks their spelling on the keys it groups by (one scan less here)
        lt = load_source(path, name, mapping, defer_spelling=("agent_id",))
        for note in lt.notices:
            print(f"note: {note}")
        lt.notices_reported = True
        loaded[name] = lt
    units = [u.strip() for u in str(args.unit).split(",") if u.strip()]
    indicators = [c.strip() for c in args.indicators.split(",") if c.strip()] if args.indicators else None
    result = compute_panel(
        loaded, period=args.period, unit=units if len(units) > 1 else units[0], framework=args.framework,
        indicators=indicators, min_n=args.min_n, shrinkage=args.shrinkage, start=args.start, end=args.end,
        engine=engine, spark_master=master,
    )
    return _write(result, out, target, t0)


def _prefetch_id_screen(data: Path) -> None:
    """Start the repeated-id screen of ``contacts.parquet`` in the background (kpilab.id_screen.prefetch).

    It is the largest table and its screen the longest check; started before pandas and the engine are
    imported (half a second), it runs on the second core meanwhile. The engine uses the answer only if it
    reads this very file unchanged (a table read through a column mapping, or fixed by ingest, is
    screened again as it is read).
    """
    path = data / "contacts.parquet"
    if path.is_file() and not (data / "contacts.mapping.yaml").exists():
        from kpilab import id_screen

        id_screen.prefetch(path, "contact_id")


def _write(result, out: Path, target, t0: float) -> int:  # noqa: ANN001 - PanelResult, OutputTarget
    from kpilab.panel import write_table

    if target.notice():
        print(f"note: {target.notice()}")
    write_table(result.panel, out)
    acc_path = out.with_name(out.stem + ".accounting.csv")
    write_table(result.accounting, acc_path)
    print(result.summary())
    print(f"wrote {out} ({len(result.panel):,} rows)")
    print(f"wrote {acc_path}")
    print(f"elapsed {time.perf_counter() - t0:.1f} s")
    return 0


def _run_spark_uri(args: argparse.Namespace, out: Path, t0: float, master: str | None) -> int:
    """``--engine spark`` with ``--data`` a URI: Spark reads the canonical tables where they are."""
    from urllib.parse import urlparse

    from kpilab.indicators import compute_panel
    from kpilab.outputs import prepare_output

    local = [urlparse(args.data).path] if args.data.startswith("file:") else []
    target = prepare_output(out, kind="file", inputs=[args.framework, *local], companions=[".accounting.csv"],
                            protect=local)
    units = [u.strip() for u in str(args.unit).split(",") if u.strip()]
    indicators = [c.strip() for c in args.indicators.split(",") if c.strip()] if args.indicators else None
    result = compute_panel(
        args.data, period=args.period, unit=units if len(units) > 1 else units[0], framework=args.framework,
        indicators=indicators, min_n=args.min_n, shrinkage=args.shrinkage, start=args.start, end=args.end,
        engine="spark", spark_master=master,
    )
    return _write(result, out, target, t0)
