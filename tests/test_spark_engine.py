"""The Spark back end computes the same panel as DuckDB (kpilab.indicators.spark_engine).

Equivalence is checked against the DuckDB engine on the same input: every catalogue
indicator, every unit level, every week of a simulated centre with messy exports (read by
Spark from a Parquet folder URI, through ``kpilab panel --engine spark``), and the real PwC call log
and Helpdesk event log (pandas frames shipped to Spark). Values, counts, intervals,
flags, shrinkage and the accounting must agree to 1e-9. Spark starts once per module
(slow on two cores); these tests skip, saying why, when pyspark or Java is missing.
"""

from __future__ import annotations

import copy
import socket
import time

import pandas as pd
import pytest
import yaml

from kpilab.errors import DataError, FrameworkError, ParameterError
from kpilab.framework import DEFAULT_FRAMEWORK_PATH
from kpilab.indicators import CATALOGUE, check_accounting, compute_panel
from kpilab.indicators.spark_engine import spark_available
from kpilab.indicators.sql_dialect import to_spark
from kpilab.panel import UNIT_LEVELS

MISSING = spark_available()
needs_spark = pytest.mark.skipif(MISSING is not None, reason=f"Spark back end not testable here: {MISSING}")
pytestmark = pytest.mark.xdist_group("spark")  # one worker, one Spark session
LEVELS = list(UNIT_LEVELS)
TOL = {"check_exact": False, "rtol": 1e-9, "atol": 1e-9}


@pytest.fixture(scope="module")
def spark():
    """One local Spark session for the whole module (start-up takes tens of seconds on two cores)."""
    if MISSING is not None:
        pytest.skip(f"Spark back end not testable here: {MISSING}")
    from kpilab.indicators.spark_engine import get_spark, stop_spark

    session = get_spark("local[2]")
    yield session
    stop_spark()


def assert_same(a, b):
    """Same panel (to 1e-9), same accounting, same notices."""
    assert len(a.panel) > 0
    pd.testing.assert_frame_equal(a.panel, b.panel, **TOL)
    pd.testing.assert_frame_equal(a.accounting, b.accounting)
    assert check_accounting(b.accounting)
    assert a.notices == b.notices


# ------------------------------------------------------------------------------ no Spark needed
def test_unknown_engine_is_refused():
    tables = {"contacts": pd.DataFrame({"contact_id": ["c1"]})}
    with pytest.raises(ParameterError, match="engine"):
        compute_panel(tables, engine="sparc")
    with pytest.raises(ParameterError, match="spark_master.*engine='spark'"):
        compute_panel(tables, spark_master="local[2]")


def test_cli_refuses_an_unknown_engine(capsys):
    from kpilab.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["panel", "--data", ".", "--period", "month", "--out", "x.parquet", "--engine", "sparc"])
    assert exc.value.code == 2
    assert "invalid choice: 'sparc'" in capsys.readouterr().err


def test_dialect_rewrites_keep_duckdb_meaning():
    # each DuckDB construct whose meaning sqlglot alone does not carry to Spark
    got = to_spark("SELECT epoch(a) FROM t")
    assert "UNIX_MICROS(CAST(a AS TIMESTAMP))" in got and "1000000.0" in got  # fractional seconds kept
    assert "FROM_UTC_TIMESTAMP(t, 'Europe/Paris')" in to_spark("SELECT timezone('Europe/Paris', t) FROM x")
    assert "SORT_ARRAY(COLLECT_LIST(v) FILTER(WHERE w))" in to_spark(
        "SELECT list(v ORDER BY v) FILTER (WHERE w) FROM t")
    assert "ELEMENT_AT(xs, CAST(i AS INT))" in to_spark("SELECT xs[i] FROM t")  # both 1-based
    assert "COUNT(DISTINCT STRUCT(a, b))" in to_spark("SELECT COUNT(DISTINCT (a, b)) FROM t")
    assert "PERCENTILE(v, 0.9)" in to_spark("SELECT quantile_cont(v, 0.9) FROM t")
    assert "XXHASH64(x)" in to_spark("SELECT hash(x) FROM t")
    assert to_spark("SELECT * EXCLUDE (b) FROM t", lambda sql: ["a", "b", "c"]) == "SELECT `a`, `c` FROM t"


def test_statement_sqlglot_cannot_read_is_a_transpile_error():
    from kpilab.indicators.spark_engine import SparkConnection, SparkSQLError
    from kpilab.indicators.sql_dialect import TranspileError

    with pytest.raises(TranspileError):
        to_spark("SELECT (answered AND FROM t")
    # the Spark connection turns it into an engine error, which the engine reports per indicator
    con = SparkConnection(spark=None)
    with pytest.raises(SparkSQLError, match="cannot be written in Spark SQL"):
        con.execute("SELECT (answered AND FROM t")


# ------------------------------------------------------------------------------ bad input
@needs_spark
def test_unreachable_master_fails_within_bounded_time(monkeypatch):
    from kpilab.indicators import spark_engine

    with socket.socket() as s:  # a local port nobody listens on: connection refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.monotonic()
    with pytest.raises(DataError, match=rf"Spark master spark://127.0.0.1:{port} cannot be reached"):
        compute_panel({"contacts": pd.DataFrame()}, engine="spark", spark_master=f"spark://127.0.0.1:{port}")
    # an address that never answers (TEST-NET-1, RFC 5737): the connect timeout bounds the wait
    monkeypatch.setattr(spark_engine, "CONNECT_TIMEOUT_S", 1.0)
    with pytest.raises(DataError, match="cannot be reached within 1 s"):
        spark_engine.get_spark("spark://192.0.2.1:7077")
    assert time.monotonic() - t0 < 20
    with pytest.raises(ParameterError, match="not a Spark master URL"):
        spark_engine.get_spark("http://example.org")


@needs_spark
def test_path_spark_cannot_read(spark, tmp_path):
    with pytest.raises(DataError, match="Spark cannot find file:///nonexistent-kpilab/data"):
        compute_panel("file:///nonexistent-kpilab/data", engine="spark")
    bad = tmp_path / "contacts.parquet"
    bad.write_text("contact_id,channel\nc1,phone\n")  # text named .parquet
    with pytest.raises(DataError, match=r"Spark cannot read file://.*contacts.parquet as parquet"):
        compute_panel({"contacts": bad.as_uri()}, engine="spark")


@needs_spark
def test_definition_spark_cannot_run_names_the_indicator(spark):
    from kpilab.simulate import simulate

    fw = yaml.safe_load(DEFAULT_FRAMEWORK_PATH.read_text(encoding="utf-8"))
    fw = copy.deepcopy(fw)
    # jaro_winkler_similarity is a DuckDB function Spark does not have
    fw["indicators"].append({"code": "phone_like", "name": "Phone-like channel", "pillar": "cost_control",
                             "direction": "higher", "unit": "share",
                             "compute": {"table": "contacts", "kind": "proportion", "where": "answered",
                                         "condition": "jaro_winkler_similarity(channel, 'phone') > 0.9"}})
    tables = {"contacts": simulate(agents=4, months=1, seed=2).tables["contacts"].head(200)}
    duck = compute_panel(tables, unit="centre", framework=fw, indicators=["phone_like"])
    assert duck.panel["indicator"].eq("phone_like").all()
    with pytest.raises(FrameworkError, match=r"indicators\.phone_like\.compute\.condition: .*jaro_winkler_similarity"
                                             r".*\(.*(UNRESOLVED_ROUTINE|Undefined function)"):
        compute_panel(tables, unit="centre", framework=fw, indicators=["phone_like"], engine="spark")


# ------------------------------------------------------------------------------ equivalence
@needs_spark
def test_simulated_centre_every_indicator_level_and_week_through_the_cli(spark, tmp_path):
    from kpilab.adapters import write_tables
    from kpilab.cli import main
    from kpilab.simulate import simulate

    data = tmp_path / "data"
    # messy exports (zone-aware times, duplicate ids and rows, out-of-range values): validation runs in Spark
    write_tables(simulate(agents=20, months=2, seed=3, realism="messy").tables, data)
    common = ["--period", "week", "--unit", ",".join(LEVELS), "--indicators", ",".join(CATALOGUE), "--shrinkage"]
    assert main(["panel", "--data", str(data), "--out", str(tmp_path / "duck.parquet"), *common]) == 0
    # Spark reads the Parquet folder itself (a URI): nothing is loaded through pandas on this side
    assert main(["panel", "--data", data.as_uri(), "--engine", "spark", "--spark-master", "local[2]",
                 "--out", str(tmp_path / "spark.parquet"), *common]) == 0
    duck = pd.read_parquet(tmp_path / "duck.parquet")
    sparkp = pd.read_parquet(tmp_path / "spark.parquet")
    assert set(duck["unit_level"]) == set(LEVELS)
    assert duck["period"].nunique() >= 8
    assert duck["indicator"].nunique() >= 25  # every catalogue indicator the simulator supports
    assert duck["value_shrunk"].notna().any() and duck["flag"].str.contains("small_n").any()
    pd.testing.assert_frame_equal(duck, sparkp, **TOL)
    acc_d = pd.read_csv(tmp_path / "duck.accounting.csv")
    acc_s = pd.read_csv(tmp_path / "spark.accounting.csv")
    pd.testing.assert_frame_equal(acc_d, acc_s)
    reasons = set(acc_d.loc[acc_d["kind"] == "excluded", "reason"])
    assert {"duplicate id", "duplicate row"} <= reasons  # the planted defects, found by Spark too


@needs_spark
@pytest.mark.shared_data
def test_pwc_call_log_same_panel(spark, shared_data, tmp_path):
    from kpilab.adapters import pwc_call_log, write_tables

    tables = pwc_call_log(shared_data / "pwc-call-center" / "pwc_call_center_dataset.xlsx")
    # a local folder: loaded and checked by kpilab.ingest as for DuckDB, then Spark reads the Parquet files
    write_tables(tables, tmp_path)
    kw = dict(period="month", unit=["agent", "queue", "channel", "centre"], indicators=list(CATALOGUE), min_n=30)
    assert_same(compute_panel(tmp_path, **kw), compute_panel(tmp_path, engine="spark", **kw))


@needs_spark
@pytest.mark.shared_data
def test_helpdesk_event_log_same_panel(spark, shared_data):
    from kpilab.adapters import helpdesk_event_log

    raw = pd.read_csv(shared_data / "helpdesk-eventlog" / "Helpdesk.csv", dtype=str)
    tables = helpdesk_event_log(raw)
    kw = dict(period="quarter", unit=["agent", "centre"], indicators=list(CATALOGUE), shrinkage=True)
    a = compute_panel(tables, **kw)
    assert {"time_to_resolution", "reopen_rate"} <= set(a.panel["indicator"])  # quantiles and proportions
    assert_same(a, compute_panel(tables, engine="spark", **kw))
