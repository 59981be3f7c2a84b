"""Every rule in the registry fires on a tiny bad input, at the right place.

Each folder ``tests/fixtures/invalid/<CODE>-<rule-name>/`` holds

* the files to lay over a copy of ``tests/fixtures/base`` (same relative paths; a file replaces
  the base file of the same path), and ``delete.txt`` listing base files to delete, one a line;
* ``expected.txt``: one ``relative/path:LINE: CODE`` line per expected finding.

The test copies the base KB, applies the folder, runs the checker in-process and asserts that
every expected finding is reported, that the findings with the folder's code are exactly the
expected ones, and that kedb did not fail internally (KE000). Other codes may appear too: a
fixture breaks one thing, and that can have knock-on findings elsewhere.

The tests after the fixtures cover bad inputs named in issue #2 that need more than a line
number (loaded values, messages), text that must *not* be flagged, and known checker bugs
(``xfail(strict=True)``: when one is fixed, the test passes, fails as XPASS, and the marker goes).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from kedb.check.run import Report, run
from kedb.core.findings import RULES
from kedb.core.load.yamlstrict import parse

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
BASE = FIXTURES_DIR / "base"
INVALID = FIXTURES_DIR / "invalid"
AS_OF = date(2026, 11, 22)

MakeKB = Callable[..., Path]  # the make_kb fixture in conftest.py
Place = tuple[str, int, str]  # (path, line, code)

FOLDER = re.compile(r"^(?P<code>KE\d{3})-(?P<name>[a-z0-9-]+)$")
EXPECTED_LINE = re.compile(r"^(?P<path>[^:\s]+):(?P<line>[1-9]\d*): (?P<code>KE\d{3})$")
CONTROL_FILES = ("expected.txt", "delete.txt")

FIXTURES = sorted(p for p in INVALID.iterdir() if p.is_dir())

# Fixture folders whose own test is a known checker bug: folder name -> reason (xfail, strict).
KNOWN_FIXTURE_BUGS: dict[str, str] = {}


def expected_places(folder: Path) -> set[Place]:
    lines = [ln.strip() for ln in (folder / "expected.txt").read_text(encoding="utf-8").splitlines() if ln.strip()]
    assert len(lines) == len(set(lines)), f"{folder.name}/expected.txt lists a finding twice"
    places: set[Place] = set()
    for ln in lines:
        m = EXPECTED_LINE.match(ln)
        assert m, f"{folder.name}/expected.txt: {ln!r} is not 'relative/path:LINE: CODE'"
        places.add((m["path"], int(m["line"]), m["code"]))
    return places


def fixture_changes(folder: Path) -> tuple[dict[str, bytes], list[str]]:
    """The overlay files and the deletions of a fixture folder."""
    files = {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.relative_to(folder).as_posix() not in CONTROL_FILES
    }
    delete_txt = folder / "delete.txt"
    delete = [ln.strip() for ln in delete_txt.read_text(encoding="utf-8").splitlines() if ln.strip()] if delete_txt.exists() else []
    assert files or delete, f"{folder.name} changes nothing"
    return files, delete


def check(root: Path) -> Report:
    """Run the checker in-process, judged on AS_OF."""
    return run(root, as_of=AS_OF)


def places(report: Report, code: str | None = None) -> set[Place]:
    return {(f.path, f.line, f.code) for f in report.findings if code is None or f.code == code}


def listing(report: Report) -> str:
    return "\n".join(f.format() for f in report.findings) or "(no findings)"


def _param(folder: Path) -> object:
    reason = KNOWN_FIXTURE_BUGS.get(folder.name)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(folder, id=folder.name, marks=marks)


# ---------------------------------------------------------------- one fixture per rule
@pytest.mark.parametrize("folder", [_param(f) for f in FIXTURES])
def test_fixture(folder: Path, make_kb: MakeKB) -> None:
    m = FOLDER.match(folder.name)
    assert m, f"fixture folder {folder.name!r} is not named <CODE>-<rule-name>"
    code = m["code"]
    assert code in RULES, f"{folder.name}: {code} is not a rule in kedb.core.findings.RULES"
    assert m["name"] == RULES[code].name, f"{folder.name}: rule {code} is named {RULES[code].name!r}"
    expected = expected_places(folder)
    assert any(c == code for _, _, c in expected), f"{folder.name}/expected.txt has no {code} line"

    report = check(make_kb(*fixture_changes(folder)))

    assert not places(report, "KE000"), f"kedb failed internally:\n{listing(report)}"
    missing = expected - places(report)
    assert not missing, f"not reported: {sorted(missing)}\nfindings:\n{listing(report)}"
    assert places(report, code) == {p for p in expected if p[2] == code}, f"{code} findings differ from expected.txt:\n{listing(report)}"


def test_every_rule_has_a_fixture() -> None:
    covered = {m["code"] for f in FIXTURES if (m := FOLDER.match(f.name))}
    # Rules that need git history or a base revision, KE014 (a symlink) and KE016 (a named pipe),
    # which a fixture folder cannot hold, are tested with real repos and files in these modules.
    here = Path(__file__).parent
    names = ("test_gitgate.py", "test_gate_bypasses.py", "test_faults.py", "test_reply_approval.py")
    gitgate = "".join((here / name).read_text(encoding="utf-8") for name in names)
    covered |= {c for c in RULES if (c.startswith("KE8") or c in ("KE014", "KE016")) and f'"{c}"' in gitgate}
    missing = sorted(set(RULES) - {"KE000"} - covered)
    assert not missing, f"rules without a fixture in {INVALID}: {', '.join(missing)}"


def test_base_kb_is_clean(make_kb: MakeKB) -> None:
    report = check(make_kb())
    assert report.findings == (), listing(report)
    assert sorted(report.kb.records) == ["KE-0001", "PRB-0001", "WA-0001"]


# ---------------------------------------------------------------- records used by the tests below
PRB = """\
---
id: PRB-0002
title: Print queue stalls after driver update
status: candidate
service: printing
owner: ann.owner
created: 2026-10-01
review_by: 2027-04-01
opened: 2026-10-01
impact: low
---

## Problem statement

Print jobs stay queued after the driver update.
"""
PRB_PATH = "known_errors/PRB-0002-print-queue.md"

KE = """\
---
id: KE-0002
title: Printer shows offline after sleep
status: draft
service: printing
owner: ann.owner
created: 2026-10-01
review_by: 2027-04-01
symptoms:
  - The printer shows as offline
symptom_signature: printing:queue:offline
impact: low
urgency: low
priority: P3
---

## Symptoms

The printer shows as offline after the PC wakes from sleep.

## Cause

The port monitor drops the connection.

## Workaround

None yet.

## Permanent fix

None yet.

## Reply to customer

We are looking into it and will update you.
"""
KE_PATH = "known_errors/KE-0002-printer-offline.md"


def replace(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def in_file(report: Report, path: str) -> list[str]:
    return [f.format() for f in report.findings if f.path == path]


# ---------------------------------------------------------------- YAML 1.1 surprises
@pytest.mark.parametrize(
    ("scalar", "value"),
    [
        ("NO", "NO"),
        ("no", "no"),
        ("yes", "yes"),
        ("on", "on"),
        ("Off", "Off"),
        ("0755", "0755"),
        ("0o17", "0o17"),
        ("0x1F", "0x1F"),
        ("12:30", "12:30"),
        ("1_000", "1_000"),
        ("1e3", "1e3"),
        (".inf", ".inf"),
        ("1.10", "1.10"),
        ("2026-01-05", "2026-01-05"),
        ("true", True),
        ("false", False),
        ("'true'", "true"),
        ("null", None),
        ("~", None),
        ("", None),
    ],
)
def test_only_true_false_and_null_are_typed(scalar: str, value: object) -> None:
    parsed = parse(f"v: {scalar}\n")
    assert parsed.issues == []
    assert parsed.data == {"v": value}


def test_yaml_11_surprises_stay_text_in_a_loaded_record(make_kb: MakeKB) -> None:
    text = replace(
        KE,
        "symptoms:",
        "tags: [0755, no, off, yes]\nerror_codes:\n  - 0755\n  - 12:30\n  - NO\naffected:\n  versions: [2308, 1.10]\nsymptoms:",
    )
    report = check(make_kb({KE_PATH: text}))
    assert in_file(report, KE_PATH) == []
    meta = report.kb.records["KE-0002"].meta
    assert meta.tags == ["0755", "no", "off", "yes"]
    assert meta.error_codes == ["0755", "12:30", "NO"]
    assert meta.affected.versions == ["2308", "1.10"]


def test_urgency_no_is_an_invalid_value_not_false(make_kb: MakeKB) -> None:
    report = check(make_kb({KE_PATH: replace(KE, "urgency: low", "urgency: NO")}))
    [finding] = [f for f in report.findings if f.path == KE_PATH]
    assert (finding.line, finding.code) == (13, "KE103")
    assert "'NO' is not allowed for 'urgency'" in finding.message
    assert "'low', 'medium' or 'high'" in finding.message
    assert "KE-0002" not in report.kb.records


# ---------------------------------------------------------------- refused YAML, more variants
@pytest.mark.parametrize(
    "value",
    ["!!python/object:os.system x", "!!python/object/apply:os.system [ls]", "!!str Print queue stalls", "!custom Print queue stalls"],
)
def test_explicit_tags_are_refused(make_kb: MakeKB, value: str) -> None:
    text = replace(PRB, "title: Print queue stalls after driver update", f"title: {value}")
    report = check(make_kb({PRB_PATH: text}))
    assert places(report, "KE006") == {(PRB_PATH, 3, "KE006")}
    assert "PRB-0002" not in report.kb.records


def test_anchor_alias_and_merge_key_in_program_data(make_kb: MakeKB) -> None:
    services = """\
services:
  - &mail
    id: m365-mail
    name: Exchange Online and Outlook
    description: Mailboxes, Outlook clients and mail flow.
    category: Collaboration
  - <<: *mail
    id: printing
"""
    report = check(make_kb({"content/services.yml": services}))
    got = places(report, "KE007") | places(report, "KE008")
    assert got == {("content/services.yml", 2, "KE007"), ("content/services.yml", 7, "KE007"), ("content/services.yml", 7, "KE008")}
    assert report.kb.program.services is None


@pytest.mark.parametrize("day", ["2026-02-30", "2025-02-29", "2026-13-01", "2026-04-31", "2026-00-10"])
def test_impossible_dates(make_kb: MakeKB, day: str) -> None:
    report = check(make_kb({PRB_PATH: replace(PRB, "created: 2026-10-01", f"created: {day}")}))
    [finding] = [f for f in report.findings if f.path == PRB_PATH]
    assert (finding.line, finding.code) == (7, "KE105")
    assert day in finding.message


def test_leap_day_is_a_real_date(make_kb: MakeKB) -> None:
    report = check(make_kb({PRB_PATH: replace(replace(PRB, "created: 2026-10-01", "created: 2028-02-29"), "2027-04-01", "2028-04-01")}))
    assert in_file(report, PRB_PATH) == []


def test_tab_indentation_in_program_data(make_kb: MakeKB) -> None:
    report = check(make_kb({"content/rhythm.yml": "phases:\n\t- name: Baseline\n"}))
    assert places(report, "KE011") == {("content/rhythm.yml", 2, "KE011")}


@pytest.mark.parametrize("data", ["- services\n- printing\n", "just some text\n", "42\n"])
def test_program_file_that_is_not_a_mapping(make_kb: MakeKB, data: str) -> None:
    report = check(make_kb({"content/services.yml": data}))
    assert places(report, "KE010") == {("content/services.yml", 1, "KE010")}


def test_scalar_front_matter_is_not_a_mapping(make_kb: MakeKB) -> None:
    report = check(make_kb({PRB_PATH: "---\nPrint queue stalls after driver update\n---\n\n## Problem statement\n\nStuck.\n"}))
    assert places(report, "KE010") == {(PRB_PATH, 2, "KE010")}


# ---------------------------------------------------------------- encodings and line endings
def test_bom_and_crlf_are_normalised(make_kb: MakeKB) -> None:
    clean = check(make_kb())
    converted = {
        p.relative_to(BASE).as_posix(): b"\xef\xbb\xbf" + p.read_bytes().replace(b"\n", b"\r\n") for p in BASE.rglob("*") if p.is_file()
    }
    report = check(make_kb(converted))
    assert report.findings == (), listing(report)
    assert {k: r.meta for k, r in report.kb.records.items()} == {k: r.meta for k, r in clean.kb.records.items()}
    assert report.kb.program.services == clean.kb.program.services
    assert report.kb.records["KE-0001"].section("Cause") == "A stale cached credential."


def test_bom_and_crlf_keep_line_numbers(make_kb: MakeKB) -> None:
    rec = "known_errors/KE-0001-outlook-prompts.md"
    text = (BASE / rec).read_text().replace("priority: P2", "priority: P9")
    report = check(make_kb({rec: b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode()}))
    assert places(report, "KE103") == {(rec, 17, "KE103")}


def test_non_utf8_program_file(make_kb: MakeKB) -> None:
    data = (BASE / "content/services.yml").read_text().replace("Print servers", "Druckserver f\u00fcr")
    report = check(make_kb({"content/services.yml": data.encode("cp1252")}))
    assert places(report, "KE001") == {("content/services.yml", 8, "KE001")}


def test_control_character_names_the_field(make_kb: MakeKB) -> None:
    text = replace(PRB, "Print queue stalls", "Print queue\x1b[31m stalls")
    report = check(make_kb({PRB_PATH: text}))
    [finding] = [f for f in report.findings if f.path == PRB_PATH]
    assert (finding.line, finding.code) == (3, "KE108")
    assert "U+001B" in finding.message and "'title'" in finding.message


@pytest.mark.parametrize("char", ["\x00", "\x7f", "\u2028", "\u202e", "\u2066"])
def test_control_characters_in_the_body(make_kb: MakeKB, char: str) -> None:
    report = check(make_kb({PRB_PATH: PRB + f"\nThe driver name ends in{char} a hidden character.\n"}))
    assert places(report, "KE108") == {(PRB_PATH, 17, "KE108")}


# ---------------------------------------------------------------- text that must not be flagged
INNOCENT = """
Reset the user's password in the admin centre, then ask them to sign in again.
The password must be changed every 90 days; the token expires after an hour.
First seen on 2026-01-05 after KB5034441 was installed; the log shows 0x80070005.
The gateway 10.0.0.1 answers, build 10.0.19045.3930 is affected, see Event ID 7031.
Contact servicedesk@example.com or call +44 20 7946 0000 (the service desk).
Type `<br>` for a line break, or read <https://example.com/help> and <mailto:servicedesk@example.com>.
Open [the portal](https://example.com/portal) and pick Settings > Accounts.

```html
<div class="banner">This is shown as code, not rendered.</div>
<!-- neither is this -->
```

~~~
<script src="x.js"></script>
~~~
"""


def test_innocent_text_is_not_flagged(make_kb: MakeKB) -> None:
    report = check(make_kb({PRB_PATH: PRB + INNOCENT}))
    assert in_file(report, PRB_PATH) == []


def test_allowlist_is_what_lets_contact_details_through(make_kb: MakeKB) -> None:
    root = make_kb({PRB_PATH: PRB + INNOCENT})
    kedb_yml = (BASE / "content/kedb.yml").read_text()
    make_kb({"content/kedb.yml": kedb_yml.replace("[servicedesk@example.com]", "[]").replace('["+44 20 7946 0000"]', "[]")})
    report = check(root)
    assert {code for path, _, code in places(report) if path == PRB_PATH} == {"KE402", "KE403"}


def test_wildcard_email_allowlist(make_kb: MakeKB) -> None:
    kedb_yml = (BASE / "content/kedb.yml").read_text().replace("[servicedesk@example.com]", '["*@example.com"]')
    report = check(make_kb({"content/kedb.yml": kedb_yml, PRB_PATH: PRB + "\nWrite to printing@example.com or Jane.Doe@Example.COM.\n"}))
    assert in_file(report, PRB_PATH) == []


@pytest.mark.parametrize(
    "line",
    [
        "password: YOUR-PASSWORD",
        "password: ********",
        "client_secret = ${CLIENT_SECRET}",
        "api_key: {api-key}",
        "token: %TOKEN%",
        "password: changeme",
        "curl https://example.com/api/status",
    ],
)
def test_placeholders_are_not_secrets(make_kb: MakeKB, line: str) -> None:
    report = check(make_kb({PRB_PATH: PRB + f"\n`{line}`\n"}))
    assert places(report, "KE401") == set()


# ---------------------------------------------------------------- known checker bugs
def test_unknown_key_with_a_bracket_is_an_unknown_field_not_an_internal_error(make_kb: MakeKB) -> None:
    report = check(make_kb({PRB_PATH: replace(PRB, "impact: low\n", "impact: low\nlinks[0]: KE-0001\n")}))
    assert places(report, "KE000") == set(), listing(report)
    assert places(report, "KE102") == {(PRB_PATH, 11, "KE102")}


def test_duplicate_id_points_at_the_id_line(make_kb: MakeKB) -> None:
    title_first = replace(
        PRB,
        "id: PRB-0002\ntitle: Print queue stalls after driver update\n",
        "title: Print queue stalls after driver update\nid: PRB-0002\n",
    )
    assert title_first.splitlines()[2] == "id: PRB-0002"
    report = check(make_kb({PRB_PATH: PRB, "known_errors/PRB-0002-z-copy.md": title_first}))
    assert places(report, "KE202") == {("known_errors/PRB-0002-z-copy.md", 3, "KE202")}


def test_entity_encoded_javascript_link_is_unsafe(make_kb: MakeKB) -> None:
    report = check(make_kb({PRB_PATH: PRB + "\n[Driver notes](javascript&#58;alert(1))\n"}))
    assert places(report, "KE502") == {(PRB_PATH, 17, "KE502")}


def test_reference_style_data_link_is_unsafe(make_kb: MakeKB) -> None:
    report = check(make_kb({PRB_PATH: PRB + "\n[Driver notes][n]\n\n[n]: data:text/html;base64,PHNjcmlwdD4=\n"}))
    assert places(report, "KE502") == {(PRB_PATH, 19, "KE502")}


@pytest.mark.parametrize("value", ["0", "1798761600", "2026-03-01T00:00:00"])
def test_date_must_be_written_yyyy_mm_dd(make_kb: MakeKB, value: str) -> None:
    report = check(make_kb({PRB_PATH: replace(PRB, "created: 2026-10-01", f"created: {value}")}))
    assert places(report, "KE105") == {(PRB_PATH, 7, "KE105")}


def test_next_line_character_is_a_control_character(make_kb: MakeKB) -> None:
    report = check(make_kb({PRB_PATH: replace(PRB, "Print queue stalls", "Print queue\x85stalls")}))
    assert places(report, "KE108") == {(PRB_PATH, 3, "KE108")}
    assert places(report, "KE004") == set(), listing(report)


def test_empty_front_matter_is_reported_once(make_kb: MakeKB) -> None:
    report = check(make_kb({PRB_PATH: "---\n---\n\n## Problem statement\n\nStuck.\n"}))
    assert places(report, "KE010") == {(PRB_PATH, 2, "KE010")}
    assert len([f for f in report.findings if f.code == "KE010"]) == 1, listing(report)


def test_file_too_large_message_shows_the_excess(make_kb: MakeKB) -> None:
    kedb_yml = (BASE / "content/kedb.yml").read_text() + "limits:\n  max_file_kb: 1\n"
    report = check(make_kb({"content/kedb.yml": kedb_yml, PRB_PATH: PRB + "\n" + "Print jobs stay queued.\n" * 40}))
    [finding] = [f for f in report.findings if f.code == "KE601"]
    size, limit = re.findall(r"([\d,]+) bytes", finding.message)[:2]
    assert limit == "1,024" and int(size.replace(",", "")) > 1024, finding.message


def test_control_character_in_body_text_is_not_called_a_field(make_kb: MakeKB) -> None:
    report = check(make_kb({PRB_PATH: PRB + "\nNote: press Ctrl+G\x07 to ring the bell.\n"}))
    [finding] = [f for f in report.findings if f.code == "KE108"]
    assert finding.line == 17
    assert "field" not in finding.message, finding.message


def test_duplicate_program_id_points_at_the_duplicate(make_kb: MakeKB) -> None:
    folder = INVALID / "KE703-duplicate-program-id"
    report = check(make_kb({"content/services.yml": (folder / "content/services.yml").read_bytes()}))
    assert places(report, "KE703") == {("content/services.yml", 10, "KE703")}


# ---------------------------------------------------------------- decisions taken on reported doubts
def test_program_data_is_scanned_for_secrets_but_roles_may_hold_staff_contacts(make_kb: MakeKB) -> None:
    risks = (BASE / "content/risks.yml").read_text() + "# run: curl -u admin:S3cret! https://rmm.example\n"
    report = check(make_kb({"content/risks.yml": risks}))
    assert {(f.path, f.code) for f in report.findings} == {("content/risks.yml", "KE401")}
    assert not [f for f in check(make_kb({})).findings if f.path == "content/roles.yml"]


def test_less_than_in_prose_is_not_html(make_kb: MakeKB) -> None:
    report = check(make_kb({PRB_PATH: PRB + "\nIt fails when queue < max and jobs > 0.\n"}))
    assert places(report, "KE501") == set(), listing(report)
    report = check(make_kb({PRB_PATH: PRB + "\nIt fails when queue <max> is set.\n"}))
    assert places(report, "KE501") == {(PRB_PATH, 17, "KE501")}, listing(report)


@pytest.mark.parametrize("text", ["Call +44 20 7946 0123.", "Ring 020 7946 0123.", "Ring (020) 7946 0123."])
def test_phone_number_at_the_end_of_a_sentence_is_found(text: str) -> None:
    from kedb.core.load import scan

    assert [code for code, _, _ in scan.secrets(text + "\n", scan.Allow())] == ["KE403"]


@pytest.mark.parametrize("text", ["Build 10.0.19045.1234 fixed it.", "Version 0100 2024 5678.9 is current."])
def test_version_numbers_are_not_phone_numbers(text: str) -> None:
    from kedb.core.load import scan

    assert [code for code, _, _ in scan.secrets(text + "\n", scan.Allow())] == []
