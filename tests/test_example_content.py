"""The bundled example KB is realistic, complete and passes `kedb check --strict`."""

from __future__ import annotations

from collections import Counter
from datetime import date

from kbtest import REPO
from kedb.check.run import run
from kedb.core.records import PROBLEM_ORDER, KnownError, Problem, Workaround


def test_bundled_kb_is_strict_clean_and_covers_the_brief() -> None:
    report = run(REPO, as_of=date(2026, 11, 22))
    assert [f.format() for f in report.findings] == []
    kb = report.kb
    kes = [r.meta for r in kb.known_errors]
    was = [r.meta for r in kb.workarounds]
    prbs = [r.meta for r in kb.problems]
    assert len(kes) >= 15 and len({k.service for k in kes}) >= 5
    assert len(was) >= 10 and len(prbs) >= 6
    assert {p.status for p in prbs} == set(PROBLEM_ORDER)
    assert any(r.meta.status == "retired" for r in kb.records.values())
    assert sum(kb.program.is_high_impact(k) for k in kes) >= 2
    assert all(isinstance(m, KnownError | Workaround | Problem) for m in kes + was + prbs)
    risky = [w for w in was if w.risk != "low"]
    assert risky and all(kb.records[w.id].section("Rollback") for w in risky)
    text = " ".join(" ".join(k.symptoms + k.error_codes) for k in kes)
    for code in ("0x80070005", "AADSTS50076", "KB5034441", "ERR_SSL_PROTOCOL_ERROR", "Event ID 7031"):
        assert code in text, code
    titles = {p.meta.title for p in kb.playbooks}
    assert len(titles) == 5
    assert Counter(p.meta.order for p in kb.playbooks).most_common(1)[0][1] == 1


def test_kpi_baselines_are_the_measured_baseline_month() -> None:
    """content/kpis.yml's baselines are the figures kedb kpi measured for the baseline month."""
    from kedb.core.load.loader import load

    kb, _ = load(REPO)
    kpis = kb.program.kpis
    assert kpis is not None
    (snap,) = [s for s in kb.kpi_snapshots if s.period == kpis.checkpoints.baseline]
    for k in kpis.kpis:
        measured = snap.value(k.id)
        assert measured is not None, k.id
        assert k.baseline == measured.value, f"{k.id}: kpis.yml says {k.baseline}, {snap.period} measured {measured.value}"
