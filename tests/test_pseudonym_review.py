"""A pseudonymised review leaves no raw agent id or name anywhere in its run folder.

The slow test runs the whole review pipeline on a small simulated centre (12 agents, 3 months, with
agent names added) and scans every file: text, CSV, HTML, notebook JSON, Parquet values and metadata,
and the text chunks of every PNG (files, and images embedded in notebooks and the report).
The fast tests check the runner's refusals, which happen before any run folder exists.
"""

from __future__ import annotations

import base64
import re
import struct
import zlib
from pathlib import Path

import pandas as pd
import pytest

from kpilab.errors import ParameterError, RunError
from kpilab.pseudonym import KEY_ENV, pseudonym, write_pseudonymised_inputs
from kpilab.run import execute
from kpilab.simulate import simulate, write_simulation

KEY = "review-test-key-0123456789abcdef"
NAMES = ["Zhang Xiuying", "Wang Fangfang", "Li Jianguo", "Liu Yongmei", "Chen Guiying", "Yang Xiaohong",
         "Huang Zhiqiang", "Zhao Lanying", "Wu Haiyan", "Zhou Dongmei", "Xu Jianhua", "Sun Yulan"]
_DATA_URI = re.compile(rb"data:image/png;base64,([A-Za-z0-9+/=\s]+)")
_NB_PNG = re.compile(rb'"image/png":\s*"([A-Za-z0-9+/=\\n]+)"')


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("sim")
    write_simulation(simulate(agents=12, months=3, seed=7), d)
    agents = pd.read_parquet(d / "agents.parquet")
    assert len(agents) == len(NAMES)
    agents["name"] = NAMES
    agents.to_parquet(d / "agents.parquet", index=False)
    return d


def png_text(data: bytes) -> list[bytes]:
    """Keys and values of a PNG's tEXt, zTXt and iTXt chunks (PNG specification, section 11.3.4)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    out, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"tEXt":
            out.append(body)
        elif kind == b"zTXt":
            key, _, rest = body.partition(b"\0")
            out.append(key + b"\0" + zlib.decompress(rest[1:]))
        elif kind == b"iTXt":
            key, _, rest = body.partition(b"\0")
            flag, rest = rest[0], rest[2:]
            _lang, _, rest = rest.partition(b"\0")
            _tkey, _, text = rest.partition(b"\0")
            out.append(key + b"\0" + (zlib.decompress(text) if flag else text))
        pos += 12 + length
    return out


def readable_parts(path: Path) -> list[bytes]:
    """Every piece of text a person or program could read from a file of the run folder."""
    data = path.read_bytes()
    if path.suffix == ".png":
        return png_text(data)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        t = pq.read_table(path)
        parts = [str(t.schema).encode(), str(t.schema.metadata).encode()]
        for col in t.columns:
            parts.append("\n".join(map(str, col.to_pylist())).encode())
        return parts
    parts = []
    # embedded images: their text chunks; the base64 itself is not text (and could match by chance)
    for rx in (_DATA_URI, _NB_PNG):
        for m in rx.finditer(data):
            raw = base64.b64decode(re.sub(rb"\\n|\s", b"", m.group(1)))
            parts += png_text(raw)
        data = rx.sub(b"IMAGE", data)
    parts.append(data)
    return parts


def test_refusals_before_anything_runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data_dir: Path) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    out = tmp_path / "outputs"
    nb = "notebooks/00_data_overview.ipynb"
    with pytest.raises(ParameterError, match="needs a secret key"):
        execute(nb, {"data_dir": str(data_dir), "pseudonymise": True}, output_root=out)
    key_in_outputs = out / "key.txt"
    out.mkdir()
    key_in_outputs.write_text(KEY)
    with pytest.raises(ParameterError, match="keep the key outside run and output folders"):
        execute(nb, {"data_dir": str(data_dir), "pseudonymise": True, "pseudonym_key_file": str(key_in_outputs)},
                output_root=out)
    monkeypatch.setenv(KEY_ENV, KEY)
    with pytest.raises(ParameterError, match="inside the outputs folder"):
        execute(nb, {"data_dir": str(data_dir), "pseudonymise": True}, output_root=out,
                pseudonym_map=out / "map.csv")
    with pytest.raises(ParameterError, match="without pseudonymise"):
        execute(nb, {"data_dir": str(data_dir)}, output_root=out, pseudonym_map=tmp_path / "map.csv")
    with pytest.raises(RunError, match="not a kpilab run folder"):
        execute(nb, {"data_dir": str(data_dir), "previous_run": str(tmp_path)}, output_root=out)
    acts = tmp_path / "acts.yaml"
    acts.write_text("- action: drop\n  indicator: call_duration\n")
    with pytest.raises(ParameterError, match="unknown indicator.*'call_duration'"):
        execute(nb, {"data_dir": str(data_dir), "actions": str(acts)}, output_root=out)
    assert [p.name for p in out.iterdir()] == ["key.txt"]  # no run folder was created


def test_pseudonyms_stable_for_a_key_and_differ_for_another(tmp_path: Path, data_dir: Path) -> None:
    r1 = write_pseudonymised_inputs(data_dir, tmp_path / "a", KEY.encode())
    r2 = write_pseudonymised_inputs(data_dir, tmp_path / "b", KEY.encode())
    r3 = write_pseudonymised_inputs(data_dir, tmp_path / "c", b"another-key-0123456789abcdef")
    assert r1.mapping["agent"] == r2.mapping["agent"]
    assert set(r1.mapping["agent"].values()).isdisjoint(r3.mapping["agent"].values())
    a = pd.read_parquet(tmp_path / "a" / "agents.parquet")
    assert list(a["agent_id"]) == list(a["name"])


@pytest.mark.slow
def test_pseudonymised_review_leaks_no_agent(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                             data_dir: Path) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    key_file = tmp_path / "secret" / "key.txt"
    key_file.parent.mkdir()
    key_file.write_text(KEY)
    raw_ids = list(pd.read_parquet(data_dir / "agents.parquet")["agent_id"])
    # show_agent names a raw id: the runner must translate it, not write it into run.json or the notebook
    res = execute("review", {"data_dir": str(data_dir), "pseudonymise": True, "pseudonym_key_file": str(key_file),
                             "draws": 100, "sobol": 0, "n_boot": 50, "show_agent": raw_ids[0]},
                  name="pseudo", output_root=tmp_path / "outputs", pseudonym_map=tmp_path / "secret" / "map.csv")
    run = res.run_dir
    assert res.status == "succeeded"
    files = [p for p in run.rglob("*") if p.is_file()]
    kinds = {p.suffix for p in files}
    assert {".csv", ".png", ".ipynb", ".parquet", ".json", ".html"} <= kinds
    secrets = [s.encode() for s in raw_ids + NAMES] + [s.split()[0].encode() + b" " + s.split()[1].encode()
                                                        for s in NAMES]
    leaks = []
    for p in files:
        for part in readable_parts(p):
            for s in secrets:
                if s in part:
                    leaks.append((str(p.relative_to(run)), s.decode()))
    assert not leaks, leaks[:10]
    # the pseudonyms are there instead, keyed as documented, and the scorecards use them
    expected = {pseudonym(KEY.encode(), a) for a in raw_ids}
    cards = {p.stem for p in (run / "scorecards").glob("A-*.html")}
    assert cards and cards <= expected
    scores = pd.read_csv(run / "tables" / "scores.csv")
    assert set(scores["unit_id"]) <= expected
    record = res.record
    assert record["parameters"]["show_agent"] == pseudonym(KEY.encode(), raw_ids[0])
    assert all(str(data_dir) in k for k in record["inputs"])  # the ORIGINAL inputs are recorded
    assert not any("key.txt" in k for k in record["inputs"])  # the key file is never hashed
    m = pd.read_csv(tmp_path / "secret" / "map.csv")
    assert set(m.loc[m["kind"] == "agent", "original"]) == set(raw_ids)
