"""Keyed pseudonyms for staff: client reports must not expose agents.

A pseudonym is ``<prefix><hex>``: the first ``length`` hex digits of
``HMAC-SHA-256(key, id)`` (RFC 2104 HMAC over FIPS 180-4 SHA-256), e.g. ``A-3f9c1e``.
The same key gives the same pseudonym every quarter, so trends still join; without
the key the id cannot be recovered by hashing candidate ids (which a plain,
unkeyed hash of a short staff id would allow in seconds).

Two ids whose shortened digests collide are both lengthened two hex digits at a
time until they differ (deterministic: it depends only on the key and the ids).

The key comes from ``$KPILAB_PSEUDONYM_KEY`` or a key file, never from a run
folder; a missing or short key is an error. The id -> pseudonym mapping is
written only when asked for, and only outside the run folder.

:func:`pseudonymise_tables` replaces every staff column of the canonical tables
(``agent_id`` wherever it occurs, the agents table's own name columns, QA
``reviewer_id`` and other staff id and name columns such as ``supervisor``); :func:`write_pseudonymised_inputs`
writes such a copy of a data folder as Parquet for the runner.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kpilab.errors import ParameterError, format_ids

__all__ = [
    "KEY_ENV",
    "MIN_KEY_LENGTH",
    "AGENT_COLUMNS",
    "STAFF_COLUMNS",
    "NAME_COLUMNS",
    "AGENT_NAME_COLUMNS",
    "load_key",
    "key_fingerprint",
    "pseudonym",
    "Pseudonymiser",
    "PseudonymReport",
    "pseudonymise_tables",
    "write_pseudonymised_inputs",
    "read_pseudonymised",
    "write_tables",
    "write_mapping",
]

KEY_ENV = "KPILAB_PSEUDONYM_KEY"
#: Fewer characters than this is refused: staff ids are few and short, so a weak key could be guessed.
MIN_KEY_LENGTH = 16
#: Columns that hold an agent id (same pseudonym as the agents table).
AGENT_COLUMNS = ("agent_id", "unit_id", "employee_id", "staff_id")
#: Other staff id columns and their pseudonym prefix.
STAFF_COLUMNS = {"reviewer_id": "R-", "supervisor_id": "S-", "manager_id": "S-", "team_lead_id": "S-",
                 "coach_id": "S-"}
#: The agent's own name columns: in the agents table they take the agent's pseudonym.
AGENT_NAME_COLUMNS = ("name", "agent_name", "full_name", "first_name", "last_name", "display_name", "email",
                      "agent_email")
#: Person-name columns (other staff anywhere; agents' names outside the agents table) with pseudonyms of their own.
NAME_COLUMNS = AGENT_NAME_COLUMNS + ("reviewer_name", "reviewer", "supervisor", "supervisor_name", "manager",
                                     "manager_name", "team_lead", "coach")
_GENERATE = "python -c \"import secrets; print(secrets.token_hex(32))\""


def load_key(key_file: str | Path | None = None, *, forbidden: Iterable[str | Path] = ()) -> bytes:
    """The pseudonym key: from ``key_file`` when given, else from ``$KPILAB_PSEUDONYM_KEY``.

    Parameters
    ----------
    key_file : path, optional
        A file holding the key (surrounding whitespace is ignored).
    forbidden : paths
        Folders the key file must not be inside (the run folder, the outputs root):
        a key stored beside the report would undo the pseudonyms.

    Raises
    ------
    ParameterError
        No key, an empty or short key (fewer than :data:`MIN_KEY_LENGTH`
        characters), a missing key file, or a key file inside a forbidden folder.
    """
    if key_file:
        path = Path(key_file).expanduser().resolve()
        for folder in forbidden:
            folder = Path(folder).resolve()
            if path == folder or path.is_relative_to(folder):
                raise ParameterError(
                    f"Pseudonym key file {key_file} is inside {folder}, which is shared with the report; "
                    "keep the key outside run and output folders.")
        if not path.is_file():
            raise ParameterError(f"Pseudonym key file {key_file} does not exist; create it with {_GENERATE} "
                                 f"> FILE, or set ${KEY_ENV}.")
        key = path.read_text(encoding="utf-8").strip()
        where = f"key file {key_file}"
    else:
        key = os.environ.get(KEY_ENV, "").strip()
        where = f"${KEY_ENV}"
        if not key:
            raise ParameterError(
                f"Pseudonymisation needs a secret key: set ${KEY_ENV} or pass a key file (--pseudonym-key-file, "
                f"parameter pseudonym_key_file); generate one with {_GENERATE}.")
    if len(key) < MIN_KEY_LENGTH:
        raise ParameterError(f"Pseudonym key from {where} has {len(key)} characters; use at least "
                             f"{MIN_KEY_LENGTH} (generate one with {_GENERATE}).")
    return key.encode("utf-8")


def key_fingerprint(key: bytes) -> str:
    """A short tag that tells whether two runs used the same key (HMAC of a fixed text; reveals no id)."""
    return hmac.new(key, b"kpilab key fingerprint", hashlib.sha256).hexdigest()[:12]


def pseudonym(key: bytes, value: object, *, prefix: str = "A-", length: int = 6) -> str:
    """``prefix + HMAC-SHA-256(key, str(value))[:length]`` (hex), e.g. ``A-3f9c1e``.

    Collisions are not resolved here; use :class:`Pseudonymiser` for a set of ids.
    """
    if not 4 <= length <= 64:
        raise ParameterError(f"Pseudonym length must be 4 to 64 hex digits, got {length}.")
    digest = hmac.new(key, str(value).encode("utf-8"), hashlib.sha256).hexdigest()
    return prefix + digest[:length]


@dataclass
class Pseudonymiser:
    """Collision-free keyed pseudonyms for a set of ids.

    Parameters
    ----------
    key : bytes
        The secret key (see :func:`load_key`).
    prefix : str
        Prefix of every pseudonym (``A-`` agents, ``R-`` QA reviewers, ``S-`` other staff).
    length : int
        Hex digits kept (6 gives about 1 collision in 130 for 500 ids, each resolved by lengthening).

    Attributes
    ----------
    mapping_ : dict
        ``{id: pseudonym}`` of every id seen by :meth:`fit`.
    lengthened_ : list
        Ids whose pseudonym was lengthened to resolve a collision.
    """

    key: bytes
    prefix: str = "A-"
    length: int = 6
    mapping_: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    lengthened_: list[str] = field(default_factory=list, init=False, repr=False)

    def fit(self, ids: Iterable[object]) -> Pseudonymiser:
        """Assign pseudonyms to every distinct non-missing id (added to those already assigned)."""
        new = sorted({str(v) for v in ids if not _missing(v)} - set(self.mapping_))
        digests = {i: hmac.new(self.key, i.encode("utf-8"), hashlib.sha256).hexdigest() for i in new}
        for i in self.mapping_:
            digests.setdefault(i, hmac.new(self.key, i.encode("utf-8"), hashlib.sha256).hexdigest())
        length = {i: self.length for i in digests}
        for i, p in self.mapping_.items():
            length[i] = len(p) - len(self.prefix)
        while True:
            by_short: dict[str, list[str]] = {}
            for i, d in digests.items():
                by_short.setdefault(d[:length[i]], []).append(i)
            clashes = [group for group in by_short.values() if len(group) > 1]
            if not clashes:
                break
            for group in clashes:  # lengthen every member: no order dependence
                for i in group:
                    length[i] += 2
                    if i not in self.lengthened_:
                        self.lengthened_.append(i)
        self.mapping_ = {i: self.prefix + digests[i][:length[i]] for i in sorted(digests)}
        return self

    def transform(self, values: pd.Series) -> pd.Series:
        """Replace each id by its pseudonym (missing stays missing; ids not fitted raise)."""
        s = values.astype(object)
        mask = s.notna()
        unknown = sorted({str(v) for v in s[mask]} - set(self.mapping_))
        if unknown:
            raise ParameterError(f"Ids {format_ids(unknown)} have no pseudonym; call fit() with them first.")
        out = s.copy()
        out[mask] = [self.mapping_[str(v)] for v in s[mask]]
        return out

    def fit_transform(self, values: pd.Series) -> pd.Series:
        """:meth:`fit` then :meth:`transform`."""
        return self.fit(values).transform(values)


@dataclass
class PseudonymReport:
    """What :func:`pseudonymise_tables` replaced.

    Attributes
    ----------
    columns : dict
        ``{table: [column, ...]}`` replaced in each table.
    counts : dict
        ``{kind: distinct ids}`` per pseudonym kind (``agent``, ``reviewer``, ``staff``).
    lengthened : list
        Pseudonyms lengthened to resolve a collision.
    mapping : dict
        ``{kind: {id or name: pseudonym}}``: kept in memory; written only by :func:`write_mapping`.
    key_fingerprint : str
        See :func:`key_fingerprint`.
    inputs : dict
        ``{table: {source, rows, skipped_lines, excluded}}`` as loaded from the original files (set by
        :func:`read_pseudonymised`): the copy's notebooks cannot see lines skipped while reading a CSV.
    """

    columns: dict[str, list[str]]
    counts: dict[str, int]
    lengthened: list[str]
    mapping: dict[str, dict[str, str]] = field(repr=False)
    key_fingerprint: str = ""
    inputs: dict[str, dict[str, object]] = field(default_factory=dict)

    def summary(self) -> str:
        """One line per table with the columns replaced."""
        lines = [f"Pseudonymised {', '.join(f'{n} {k} ids' for k, n in self.counts.items())} "
                 f"(key {self.key_fingerprint})."]
        lines += [f"  {t}: {', '.join(cols)}" for t, cols in self.columns.items() if cols]
        if self.lengthened:
            lines.append(f"  {len(self.lengthened)} pseudonyms lengthened to resolve a collision.")
        return "\n".join(lines)

    def to_record(self) -> dict[str, object]:
        """What ``run.json`` keeps: columns, counts and the key fingerprint (never the mapping)."""
        return {"columns": self.columns, "counts": self.counts, "lengthened": len(self.lengthened),
                "key_fingerprint": self.key_fingerprint, "inputs": self.inputs}


def _missing(v: object) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def pseudonymise_tables(tables: Mapping[str, pd.DataFrame], key: bytes, *,
                        length: int = 6) -> tuple[dict[str, pd.DataFrame], PseudonymReport]:
    """Replace staff ids and names in canonical tables by keyed pseudonyms.

    Agent ids (:data:`AGENT_COLUMNS`, in any table) share one pseudonym space, so
    joins between tables still hold; the agents table's name columns
    (:data:`AGENT_NAME_COLUMNS`) become the agent's pseudonym; other staff ids
    (:data:`STAFF_COLUMNS`) and names (:data:`NAME_COLUMNS`, e.g. ``supervisor``) get pseudonyms of their own kind.

    Returns
    -------
    tables : dict
        Copies of the tables with the columns replaced.
    report : PseudonymReport
    """
    agents = Pseudonymiser(key, "A-", length)
    for df in tables.values():
        for col in AGENT_COLUMNS:
            if col in df.columns:
                agents.fit(df[col])
    staff: dict[str, Pseudonymiser] = {}

    def other(prefix: str) -> Pseudonymiser:
        return staff.setdefault(prefix, Pseudonymiser(key, prefix, length))

    out: dict[str, pd.DataFrame] = {}
    columns: dict[str, list[str]] = {}
    for name, df in tables.items():
        df = df.copy()
        done: list[str] = []
        lower = {c: str(c).lower() for c in df.columns}
        if name == "agents" and "agent_id" in df.columns:
            pseudo = agents.transform(df["agent_id"])
            for col, low in lower.items():
                if low in AGENT_NAME_COLUMNS:
                    df[col] = pseudo.where(df[col].notna(), None)
                    done.append(col)
        for col, low in lower.items():
            if col in done:
                continue
            if low in AGENT_COLUMNS:
                df[col] = agents.transform(df[col])
            elif low in STAFF_COLUMNS:
                df[col] = other(STAFF_COLUMNS[low]).fit_transform(df[col])
            elif low in NAME_COLUMNS:
                df[col] = other("S-").fit_transform(df[col])
            else:
                continue
            done.append(col)
        out[name] = df
        columns[name] = done
    counts = {"agent": len(agents.mapping_)}
    mapping = {"agent": dict(agents.mapping_)}
    lengthened = list(agents.lengthened_)
    for prefix, p in staff.items():
        kind = {"R-": "reviewer", "S-": "staff"}[prefix]
        counts[kind] = len(p.mapping_)
        mapping[kind] = dict(p.mapping_)
        lengthened += p.lengthened_
    if "agents" in tables:
        names = {}
        src = tables["agents"]
        for col in columns.get("agents", []):
            if str(col).lower() in AGENT_NAME_COLUMNS:
                for aid, nm in zip(src["agent_id"], src[col], strict=True):
                    if not _missing(nm) and not _missing(aid):
                        names[str(nm)] = agents.mapping_[str(aid)]
        if names:
            mapping["agent_name"] = names
    return out, PseudonymReport(columns, counts, lengthened, mapping, key_fingerprint(key))


def write_mapping(report: PseudonymReport, path: str | Path, *, forbidden: Iterable[str | Path] = ()) -> Path:
    """Write the id -> pseudonym mapping as CSV (kind, original, pseudonym), refusing forbidden folders.

    Raises
    ------
    ParameterError
        ``path`` is inside a forbidden folder (the run folder): the mapping would undo the pseudonyms.
    """
    path = Path(path).expanduser().resolve()
    for folder in forbidden:
        folder = Path(folder).resolve()
        if path == folder or path.is_relative_to(folder):
            raise ParameterError(f"Pseudonym map {path} is inside {folder}; write it outside the run folder "
                                 "(it undoes the pseudonyms).")
    rows = [(kind, orig, p) for kind, m in report.mapping.items() for orig, p in m.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=["kind", "original", "pseudonym"]).to_csv(path, index=False)
    return path


def write_pseudonymised_inputs(data_dir: str | Path, out_dir: str | Path, key: bytes, *,
                               length: int = 6) -> PseudonymReport:
    """Read every canonical table of ``data_dir`` and write a pseudonymised Parquet copy into ``out_dir``.

    Tables are read as the notebooks read them (:func:`kpilab.ingest.load_folder`: column mappings
    applied, rows never dropped, ingest exclusions kept in ``_ingest_reason``), so the notebooks
    count the same rows from the copy. Only canonical tables are copied (no manifest, no truth file).
    """
    tables, report = read_pseudonymised(data_dir, key, length=length)
    write_tables(tables, out_dir)
    return report


def read_pseudonymised(data_dir: str | Path, key: bytes, *,
                       length: int = 6) -> tuple[dict[str, pd.DataFrame], PseudonymReport]:
    """Every canonical table of ``data_dir``, read as the notebooks read it, with staff pseudonymised."""
    from kpilab.ingest import load_folder

    loaded = load_folder(data_dir)
    frames = {name: lt.to_pandas() for name, lt in loaded.items()}
    tables, report = pseudonymise_tables(frames, key, length=length)
    # counts only: loading notices can quote raw values (ids), so they stay out of the run folder
    report.inputs = {name: {"source": Path(lt.label).name, "rows": lt.n_rows, "skipped_lines": lt.skipped_lines,
                            "excluded": dict(lt.excluded)} for name, lt in loaded.items()}
    return tables, report


def write_tables(tables: Mapping[str, pd.DataFrame], out_dir: str | Path) -> list[Path]:
    """Write each table as ``<out_dir>/<name>.parquet`` (the folder is created)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, df in tables.items():
        paths.append(out_dir / f"{name}.parquet")
        df.to_parquet(paths[-1], index=False)
    return paths
