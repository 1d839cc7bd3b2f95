"""Keyed pseudonyms: HMAC-SHA-256 against the RFC 4231 vectors, collisions, keys, tables, mapping."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpilab.errors import ParameterError
from kpilab.pseudonym import (
    KEY_ENV,
    Pseudonymiser,
    key_fingerprint,
    load_key,
    pseudonym,
    pseudonymise_tables,
    write_mapping,
)

KEY = b"test-key-0123456789abcdef"


def test_hmac_sha256_matches_rfc4231_vectors() -> None:
    # RFC 4231 test case 2 (key "Jefe") and test case 1 (20 bytes of 0x0b, "Hi There")
    assert pseudonym(b"Jefe", "what do ya want for nothing?", prefix="", length=64) == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    assert pseudonym(b"\x0b" * 20, "Hi There", prefix="", length=64) == (
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
    assert pseudonym(b"Jefe", "what do ya want for nothing?") == "A-5bdcc1"


def test_stable_for_a_key_and_different_for_another() -> None:
    ids = pd.Series([f"A{k:04d}" for k in range(1, 61)])
    p1 = Pseudonymiser(KEY).fit_transform(ids)
    p2 = Pseudonymiser(KEY).fit_transform(ids.sample(frac=1, random_state=3)).sort_index()
    assert (p1 == p2).all()  # same key, any order: same pseudonyms (trends join across quarters)
    other = Pseudonymiser(b"another-key-0123456789").fit_transform(ids)
    assert not (p1 == other).any()
    assert p1.str.fullmatch(r"A-[0-9a-f]{6}").all()


def test_collisions_are_lengthened_deterministically() -> None:
    ids = [f"agent{k}" for k in range(3000)]  # 3000 ids in 16^4 = 65,536 codes: collisions are certain
    p = Pseudonymiser(KEY, length=4).fit(ids)
    values = list(p.mapping_.values())
    assert len(set(values)) == len(ids)
    assert p.lengthened_, "expected collisions at 4 hex digits"
    # by hand: a lengthened id shares its first 4 digits with another id; the others keep 4 digits
    short = {i: pseudonym(KEY, i, length=4) for i in ids}
    counts = pd.Series(short).value_counts()
    clashing = {i for i, s in short.items() if counts[s] > 1}
    assert set(p.lengthened_) == clashing
    assert all(len(p.mapping_[i]) == 2 + 4 for i in ids if i not in clashing)
    shuffled = ids[:]
    random.Random(1).shuffle(shuffled)
    assert Pseudonymiser(KEY, length=4).fit(shuffled).mapping_ == p.mapping_


@given(st.sets(st.text(min_size=1, max_size=8), min_size=1, max_size=300))
def test_pseudonyms_are_injective(ids: set[str]) -> None:
    m = Pseudonymiser(KEY, length=4).fit(ids).mapping_
    assert len(set(m.values())) == len(ids)
    assert all(v.startswith(pseudonym(KEY, k, length=4)) for k, v in m.items())


def test_load_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(ParameterError, match="needs a secret key"):
        load_key()
    monkeypatch.setenv(KEY_ENV, "short")
    with pytest.raises(ParameterError, match="has 5 characters"):
        load_key()
    monkeypatch.setenv(KEY_ENV, "  a-long-enough-secret-key  ")
    assert load_key() == b"a-long-enough-secret-key"
    f = tmp_path / "keys" / "k.txt"
    f.parent.mkdir()
    f.write_text("file-key-0123456789abcdef\n")
    assert load_key(f) == b"file-key-0123456789abcdef"  # the file wins over the environment
    with pytest.raises(ParameterError, match="inside"):
        load_key(f, forbidden=[tmp_path / "keys"])
    with pytest.raises(ParameterError, match="does not exist"):
        load_key(tmp_path / "nope")
    assert key_fingerprint(b"a-long-enough-secret-key") != key_fingerprint(b"file-key-0123456789abcdef")


def _tables() -> dict[str, pd.DataFrame]:
    agents = pd.DataFrame({"agent_id": ["A0001", "A0002", "A0003"], "name": ["Li Wei", "Ann Lee", None],
                           "team": ["T1", "T1", "T2"], "supervisor": ["Bo Chen", "Bo Chen", "Di Xu"]})
    contacts = pd.DataFrame({"contact_id": ["c1", "c2", "c3"], "agent_id": ["A0002", None, "A0001"]})
    qa = pd.DataFrame({"contact_id": ["c1"], "agent_id": ["A0002"], "reviewer_id": ["qa7"], "score": [80.0]})
    return {"agents": agents, "contacts": contacts, "qa_reviews": qa}


def test_pseudonymise_tables_replaces_staff_and_keeps_joins() -> None:
    raw = _tables()
    out, rep = pseudonymise_tables(raw, KEY)
    a = out["agents"]
    assert list(a["agent_id"]) == [pseudonym(KEY, x) for x in ["A0001", "A0002", "A0003"]]
    assert list(a["name"][:2]) == list(a["agent_id"][:2])  # a name shows as its agent's pseudonym
    assert a["name"].isna().iloc[2]
    assert set(a["supervisor"]) == {pseudonym(KEY, "Bo Chen", prefix="S-"), pseudonym(KEY, "Di Xu", prefix="S-")}
    assert out["contacts"]["agent_id"].iloc[0] == a["agent_id"].iloc[1]  # joins still hold
    assert out["contacts"]["agent_id"].isna().iloc[1]
    assert out["qa_reviews"]["reviewer_id"].iloc[0] == pseudonym(KEY, "qa7", prefix="R-")
    assert sorted(rep.columns["agents"]) == ["agent_id", "name", "supervisor"]
    assert rep.counts == {"agent": 3, "staff": 2, "reviewer": 1}
    text = "\n".join(df.to_csv() for df in out.values())
    for secret in ["A0001", "A0002", "A0003", "Li Wei", "Ann Lee", "Bo Chen", "Di Xu", "qa7"]:
        assert secret not in text
    assert raw["agents"]["agent_id"].iloc[0] == "A0001"  # inputs untouched
    assert "A0001" not in repr(rep) and "Li Wei" not in rep.summary()


def test_mapping_written_only_outside_forbidden(tmp_path: Path) -> None:
    _, rep = pseudonymise_tables(_tables(), KEY)
    run = tmp_path / "run"
    run.mkdir()
    with pytest.raises(ParameterError, match="outside the run folder"):
        write_mapping(rep, run / "map.csv", forbidden=[run])
    p = write_mapping(rep, tmp_path / "secret" / "map.csv", forbidden=[run])
    m = pd.read_csv(p)
    assert set(m["kind"]) == {"agent", "staff", "reviewer", "agent_name"}
    row = m[(m["kind"] == "agent_name") & (m["original"] == "Li Wei")]
    assert row["pseudonym"].iloc[0] == pseudonym(KEY, "A0001")
