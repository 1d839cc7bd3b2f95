"""The appendix: indicator definitions in words, parameters, provenance (no machine paths), glossary."""

from __future__ import annotations

from pathlib import PurePath

import pandas as pd

from kpilab.formatting import format_date, format_duration, format_share
from kpilab.report.collect import STEP_TITLES, RunData
from kpilab.report.model import Section, make_table
from kpilab.report.review_sections import format_target
from kpilab.report.text import pillar_name, safe_value
from kpilab.report.traffic import AMBER_TOLERANCE

__all__ = ["definitions_section", "parameters_section", "provenance_section", "glossary_section", "GLOSSARY"]

_DIRECTION = {"higher": "higher is better", "lower": "lower is better", "band": "a range is best"}


def definitions_section(data: RunData) -> Section:
    """Every indicator of the framework: what it measures, in words and formula, its target and where it comes from."""
    s = Section("definitions", "Indicator definitions", appendix=True)
    fw = data.framework
    if fw is None:
        return s.notice("The framework file of this run could not be read, so definitions are not shown.")
    from kpilab.indicators.catalogue import CATALOGUE

    rows = []
    for i in fw.indicators:
        cat = CATALOGUE.get(i.code)
        words = i.definition or (cat.definition if cat is not None else "") or "no definition given"
        source = i.target_source or (cat.source if cat is not None else "") or "not stated"
        rows.append({
            "indicator": i.name,
            "pillar": "outcome (not scored)" if i.outcome else pillar_name(i.pillar, fw),
            "direction": _DIRECTION.get(i.direction, i.direction),
            "target": format_target(i.target, i.unit, i.direction, i.band),
            "definition": words,
            "source": source,
        })
    s.para(f"The {len(rows)} indicators of the framework {fw.name} (version {fw.version}). Formulas are written "
           "in words; the exact computation is in the indicator catalogue of kpilab.")
    s.add(make_table(pd.DataFrame(rows), "Indicator definitions", formats={c: "text" for c in rows[0]},
                     names={"source": "Target and source"}, max_rows=None, small=True,
                     widths=["15%", "11%", "9%", "9%", "38%", "18%"]))
    return s


def parameters_section(data: RunData) -> Section:
    """The parameters this review was run with (everything else at the notebooks' defaults)."""
    s = Section("parameters", "Parameters", appendix=True)
    params = data.params
    if not params:
        return s.para("Every parameter was left at its default.")
    df = pd.DataFrame({"parameter": [k.replace("_", " ") for k in sorted(params)],
                       "value": [safe_value(k, params[k]) for k in sorted(params)]})
    s.para("Parameters given to this review; every other parameter kept the notebooks' default. File and folder "
           "parameters show their name only.")
    return s.add(make_table(df, "Run parameters", formats={"parameter": "text", "value": "text"}, max_rows=None,
                            widths=["35%", "65%"]))


def provenance_section(data: RunData) -> Section:
    """Run id, versions, git commit, steps with timings, input file names with SHA-256 (no machine paths)."""
    s = Section("provenance", "Provenance", appendix=True)
    r = data.record
    rows = [("Run", str(r.get("run_id", data.run_dir.name))),
            ("Started", format_date(r.get("started"), missing="not recorded")),
            ("kpilab version", str(r.get("kpilab_version", "not recorded"))),
            ("Git commit", str(r.get("git_commit") or "not recorded (not a git checkout)"))]
    versions = r.get("versions") or {}
    if versions:
        rows.append(("Packages", "; ".join(f"{k} {v}" for k, v in versions.items())))
    s.add(make_table(pd.DataFrame(rows, columns=["item", "value"]), "Run and software",
                     formats={"item": "text", "value": "text"}, max_rows=None, widths=["25%", "75%"]))
    n_fig = len(list((data.run_dir / "figures").glob("*.png")))
    n_tab = len(list((data.run_dir / "tables").glob("*.csv")))
    s.para(f"The run folder holds {n_tab:,d} tables (tables/, CSV) and {n_fig:,d} figures (figures/, PNG); this "
           "report shows a selection, and the executed notebooks beside it show every step in full.")
    steps = r.get("steps") or []
    if steps:
        df = pd.DataFrame({
            "step": [STEP_TITLES.get(str(x.get("step", ""))[:2], str(x.get("step", "")).replace("_", " "))
                     for x in steps],
            "status": [str(x.get("status", "not recorded")) for x in steps],
            "time": [format_duration(x.get("seconds"), missing="not recorded") for x in steps],
        })
        s.add(make_table(df, "Steps of this review", formats={c: "text" for c in df.columns}, max_rows=None))
    inputs = r.get("inputs") or {}
    if inputs:
        df = pd.DataFrame({"file": [PurePath(str(k).replace("\\", "/")).name for k in inputs],
                           "sha": list(inputs.values())})
        s.add(make_table(df, "Input files and their SHA-256 fingerprints (identical fingerprints mean identical "
                             "files)", formats={"file": "text", "sha": "text"}, names={"sha": "SHA-256"},
                         max_rows=None, widths=["25%", "75%"], small=True))
    else:
        s.notice("This run recorded no input files.")
    return s


#: Terms the report uses, in the order a reader meets them.
GLOSSARY: list[tuple[str, str]] = [
    ("Traffic light", f"Green: the indicator meets its target. Amber: it misses by at most "
                      f"{format_share(AMBER_TOLERANCE)} of the target's size (for a range, {format_share(AMBER_TOLERANCE)} of the "
                      "range's width outside it). Red: it misses by more. No colour: no target is set, or no value "
                      "was measured in the review period."),
    ("Actual (review period)", "The centre-wide value over the review period, pooled from all its contacts "
                               "(a median or other percentile is the latest period's, as percentiles cannot be "
                               "pooled)."),
    ("Keep, review, prune", "The health review's decision: keep when the link with the outcome is clearly at least "
                            "the threshold, prune when clearly weaker (or the indicator is constant or too patchy), "
                            "review when the data cannot tell yet or a person must judge."),
    ("Correlation (r)", "Spearman rank correlation between an indicator and the outcome across agents: 0 = no link, "
                        "1 or -1 = a perfect link."),
    ("95 % interval", "The range that holds the true value with 95 % confidence given the sample."),
    ("Small sample", "A cell computed from fewer observations than the framework's minimum; shown, never ranked."),
    ("Weight", "How much an indicator counts in the score; the weights of a set sum to 100 %."),
    ("Goalposts", "An indicator becomes points linearly: 0 at the floor, 100 at the target, capped at both ends."),
    ("Settled grade", "A grade that holds with at least 80 % probability given the agent's measurement noise."),
    ("Rank range", "The 5-95 % range of an agent's rank when design choices (weights, normalisation, "
                   "aggregation, indicators, noise) are drawn at random."),
    ("Sobol' index", "The share of the variation of an output that one input explains: first-order alone, total "
                     "with its interactions."),
    ("Cronbach's alpha", "How consistently the indicators of a pillar move together (0.7 or more is the usual "
                         "bar)."),
]


def glossary_section() -> Section:
    """The terms of the report in plain words."""
    s = Section("glossary", "Glossary", appendix=True)
    df = pd.DataFrame(GLOSSARY, columns=["term", "meaning"])
    return s.add(make_table(df, "Terms used in this report", formats={"term": "text", "meaning": "text"},
                            max_rows=None, widths=["22%", "78%"]))
