"""No silent loss (issue #15, item 5): what an author writes is either in the outputs or reported.

- Text before a record's first ``## `` heading is in no output: KE109 at its first line.
- A ``...`` line inside front-matter ends the YAML: whatever follows it is KE009 at its line, and a
  front-matter closed only by ``...`` is unterminated (KE003), never half read.
- Control characters that YAML escapes decode to (``"\\e"``, ``"\\x0b"``, ``"\\u202e"``) are KE108 at
  the value's line, and kedb prints no control character of a record or an error message as it is.
- Cloud credentials are secrets (KE401): AWS secret access keys after their name, Azure storage
  connection strings and SAS signatures, Google service-account keys, private key blocks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from kbtest import kedb
from kedb.check.run import Report, run
from kedb.core.findings import Finding, shown
from kedb.core.load import frontmatter, scan
from kedb.core.load.yamlstrict import parse, parse_events, parse_simple

AS_OF = date(2026, 11, 22)
BASE = Path(__file__).resolve().parent / "fixtures" / "base"
WA = "known_errors/WA-0001-clear-cached-credentials.md"
KE = "known_errors/KE-0001-outlook-prompts.md"
PLAYBOOK = "content/playbooks/loop.md"

MakeKB = Callable[..., Path]


def base(rel: str) -> str:
    return (BASE / rel).read_text(encoding="utf-8")


def check(root: Path) -> Report:
    return run(root, as_of=AS_OF)


def found(report: Report, code: str) -> list[tuple[str, int, str]]:
    return [(f.path, f.line, f.message) for f in report.findings if f.code == code]


def listing(report: Report) -> str:
    return "\n".join(f.format() for f in report.findings) or "(no findings)"


# ---------------------------------------------------------------- 1. text before the first section
LEAD_MESSAGE = (
    "text before the first '## ' heading is in no output (a record is shown section by section); "
    "move it under '## Steps' or another section"
)


def test_text_before_the_first_section_of_a_record_is_reported_where_it_starts(make_kb: MakeKB) -> None:
    wa = base(WA).replace("---\n\n## Steps", "---\n\n\nIMPORTANT: call the user first.\nThen go on.\n\n## Steps")
    report = check(make_kb({WA: wa}))
    assert found(report, "KE109") == [(WA, 17, LEAD_MESSAGE)], listing(report)


def test_a_record_that_opens_with_its_first_section_has_no_lead(make_kb: MakeKB) -> None:
    report = check(make_kb({WA: base(WA).replace("---\n\n## Steps", "---\n\n  \n\n## Steps")}))
    assert found(report, "KE109") == [], listing(report)


def test_a_playbook_may_open_with_text_its_page_shows_it(make_kb: MakeKB) -> None:
    text = base(PLAYBOOK)
    body = text.split("\n---\n", 1)[1]
    assert frontmatter.lead(body, 1) is not None  # the base playbook opens with text before its first section
    assert found(check(make_kb({})), "KE109") == []


@pytest.mark.parametrize(
    ("body", "line"),
    [
        ("\n## Steps\n\ntext\n", None),
        ("", None),
        ("\n\n   \n", None),
        ("intro\n\n## Steps\ntext\n", 10),
        ("\n\n# Title\n\n## Steps\n", 12),  # a level-1 heading is not a section
        ("\n### Detail\n## Steps\n", 11),
        ("\n```\n## in a fence\n```\n## Steps\n", 11),  # the fence is text, and comes first
        ("\n##Steps\n", 11),  # not a heading without the space
        ("\n   indented text\n## Steps\n", 11),
        ("\n## Steps ##\n", None),
    ],
)
def test_lead_finds_the_first_line_of_text_before_a_section(body: str, line: int | None) -> None:
    assert frontmatter.lead(body, 10) == line


# ---------------------------------------------------------------- 2. '...' inside front-matter
def test_fields_after_a_document_end_are_reported_not_dropped(make_kb: MakeKB) -> None:
    ke = base(KE).replace("priority: P2\n", "priority: P2\n...\nrisk_tags: [security]\n")
    report = check(make_kb({KE: ke}))
    assert found(report, "KE009") == [
        (KE, 19, "text after the '...' on line 18 is not read: '...' ends the YAML document; remove that line")
    ], listing(report)
    assert found(report, "KE109") == [], "the fields after '...' must not become body text"


def test_a_document_end_right_before_the_closing_fence_loses_nothing(make_kb: MakeKB) -> None:
    ke = base(KE).replace("  status: none\n---\n", "  status: none\n...\n---\n")
    report = check(make_kb({KE: ke}))
    assert [f for f in report.findings if f.path == KE] == [], listing(report)
    assert report.kb.records["KE-0001"].meta.risk_tags == [] and report.kb.records["KE-0001"].meta.fix.status == "none"


def test_front_matter_closed_only_by_a_document_end_is_unterminated(make_kb: MakeKB) -> None:
    ke = base(KE).replace("  status: none\n---\n", "  status: none\n...\n")
    report = check(make_kb({KE: ke}))
    assert found(report, "KE003") == [
        (
            KE,
            1,
            "the front-matter opened on line 1 is never closed with '---' (the '...' on line 22 ends a YAML document, not the "
            "front-matter)",
        )
    ], listing(report)


def test_a_data_file_with_text_after_a_document_end(make_kb: MakeKB) -> None:
    text = base("content/risks.yml") + "...\nmore: [x]\n"
    line = text.count("\n") - 1
    report = check(make_kb({"content/risks.yml": text}))
    assert found(report, "KE009") == [
        ("content/risks.yml", line + 1, f"text after the '...' on line {line} is not read: '...' ends the YAML document; remove that line")
    ], listing(report)


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\n...\nb: 2\n",
        "a: 1\n... # end\nb: 2\n",
        "a:\n  b: 1\n...\n  c: 2\n",
        "a:\n  - x\n...\nb: 2\n",
        "a: |\n  text\n...\nb: 2\n",
        "a: 1\n...\n",
    ],
)
def test_the_fast_path_leaves_a_document_end_to_libyaml(text: str) -> None:
    assert parse_simple(text) is None
    assert parse(text, 4) == parse_events(text, 4)
    codes = [code for code, _, _ in parse(text).issues]
    assert codes == ([] if text.endswith("...\n") else ["KE009"])


def test_an_indented_or_quoted_ellipsis_is_text() -> None:
    assert parse("a: ...\nb: '...'\n").data == {"a": "...", "b": "..."}
    assert parse("a: |\n  ...\n").data == {"a": "...\n"}


# ---------------------------------------------------------------- 3. control characters written as escapes
@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        (
            "title: Outlook prompts for credentials again and again\n",
            'title: "Outlook \\e[31mprompts"\n',
            3,
            "control character U+001B in field 'title' (written as an escape); remove it",
        ),
        (
            "  - Outlook keeps asking for my password\n",
            '  - "Outlook keeps\\x0b asking"\n',
            12,
            "control character U+000B in field 'symptoms[0]' (written as an escape); remove it",
        ),
        (
            "  status: none\n",
            '  status: none\n  change_ref: "CHG\\u202e0042\\u2066"\n',
            22,
            "control characters U+202E, U+2066 in field 'fix.change_ref' (written as an escape); remove it",
        ),
        (
            "urgency: medium\n",
            'urgency: "medium\\r"\n',
            16,
            "control character U+000D in field 'urgency' (written as an escape); remove it",
        ),
    ],
)
def test_control_characters_written_as_escapes_are_reported_at_the_value(
    make_kb: MakeKB, old: str, new: str, line: int, message: str
) -> None:
    ke = base(KE)
    assert old in ke
    report = check(make_kb({KE: ke.replace(old, new)}))
    assert found(report, "KE108") == [(KE, line, message)], listing(report)


def test_an_escaped_control_character_is_removed_from_the_value(make_kb: MakeKB) -> None:
    ke = base(KE).replace("title: Outlook prompts for credentials again and again", 'title: "Outlook \\e[31mprompts\\u202e"')
    report = check(make_kb({KE: ke}))
    assert report.kb.records["KE-0001"].meta.title == "Outlook [31mprompts"


def test_escapes_that_are_text_stay(make_kb: MakeKB) -> None:
    ke = base(KE).replace("  - Outlook keeps asking for my password\n", '  - "Tab\\there, line\\nbreak, C:\\\\Users, caf\\u00e9"\n')
    report = check(make_kb({KE: ke}))
    assert found(report, "KE108") == [], listing(report)
    assert report.kb.records["KE-0001"].meta.symptoms[0] == "Tab\there, line\nbreak, C:\\Users, café"


def test_a_program_file_with_an_escaped_control_character(make_kb: MakeKB) -> None:
    text = base("content/risks.yml").replace("    title: A secret is pasted into a record\n", '    title: "A secret is pasted\\e[8m"\n')
    report = check(make_kb({"content/risks.yml": text}))
    assert found(report, "KE108") == [
        ("content/risks.yml", 3, "control character U+001B in field 'risks[0].title' (written as an escape); remove it")
    ], listing(report)
    # reported and removed, as in a record (program files and stored aggregates are read by one function)
    assert report.kb.program.risks.risks[0].title == "A secret is pasted[8m"


def test_a_control_character_in_a_key_is_reported_and_printed_escaped(make_kb: MakeKB) -> None:
    ke = base(KE).replace("impact: medium\n", 'impact: medium\n"ti\\etle": x\n')
    root = make_kb({KE: ke})
    report = check(root)
    assert (KE, 16, "control character U+001B in the name of field 'ti\x1btle' (written as an escape); remove it") in found(report, "KE108")
    result = kedb("--root", str(root), "check")
    assert result.exit_code == 1
    out = result.stdout + result.stderr
    assert "\x1b" not in out and "ti\\x1btle" in out, out


def test_a_hostile_file_name_is_printed_escaped(make_kb: MakeKB) -> None:
    root = make_kb({"known_errors/notes-\x1b[2J\u202e.md": "# notes\n"})
    result = kedb("--root", str(root), "check")
    out = result.stdout + result.stderr
    assert "notes-\\x1b[2J\\u202e.md" in out and "\x1b" not in out and "\u202e" not in out, out


def test_a_finding_prints_no_control_character() -> None:
    f = Finding("known_errors/KE-0001-x.md", 3, "KE103", "'\x1b[31mred\x07' is not allowed\r\nfake: line\u202e\u2066\x85 tab\tok")
    line = f.format()
    assert line == (
        "known_errors/KE-0001-x.md:3: KE103 invalid-value (error): '\\x1b[31mred\\x07' is not allowed\\x0d\\x0afake: "
        "line\\u202e\\u2066\\x85 tab\tok"
    )
    assert shown("plain text") == "plain text"
    assert shown("two\nlines\x1b", keep="\n") == "two\nlines\\x1b"


def test_an_error_message_prints_no_control_character(capsys: pytest.CaptureFixture[str]) -> None:
    from kedb.cli.errors import handle_errors
    from kedb.core.errors import UsageError

    @handle_errors
    def command() -> None:
        raise UsageError("unknown record 'KE-\x1b]0;owned\x07'\nsecond line")

    with pytest.raises(SystemExit) as exit_:
        command()
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert err == "kedb: unknown record 'KE-\\x1b]0;owned\\x07'\nsecond line\n"


# ---------------------------------------------------------------- 4. cloud credentials
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"  # AWS's documented example, split so no scanner trips here


def ke401(text: str) -> list[tuple[int, str]]:
    return [(line, msg) for code, line, msg in scan.secrets(text, scan.Allow()) if code == "KE401"]


def looks_like(what: str) -> str:
    return f"this looks like {what}; never put credentials in the KB"


def test_an_exported_aws_secret_access_key_is_a_secret(make_kb: MakeKB) -> None:
    ke = base(KE).replace("A stale cached credential.", f"A stale cached credential.\n\n    export AWS_SECRET_ACCESS_KEY={AWS_SECRET}")
    report = check(make_kb({KE: ke}))
    assert found(report, "KE401") == [(KE, 32, looks_like("an AWS secret access key"))], listing(report)


@pytest.mark.parametrize(
    ("text", "what"),
    [
        (f"export AWS_SECRET_ACCESS_KEY={AWS_SECRET}", "an AWS secret access key"),
        (f'$env:AWS_SECRET_ACCESS_KEY = "{AWS_SECRET}"', "an AWS secret access key"),
        (f"aws_secret_access_key={AWS_SECRET}", "an AWS secret access key"),
        (f"  SecretAccessKey: '{AWS_SECRET}'", "an AWS secret access key"),
        (
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=" + "Zm9vYmFy" * 11 + ";EndpointSuffix=core.windows.net",
            "a storage or bus key",
        ),
        (
            "https://acct.blob.core.windows.net/c/f?sv=2022-11-02&sp=r&sig=" + "Q2xhdWRl%2BZm9vYmFyYmF6cXV4cXV1eA%3D%3D",
            "an Azure SAS signature",
        ),
        ("-----BEGIN EC " + "PRIVATE KEY-----", "a private key"),
        ("-----BEGIN ENCRYPTED " + "PRIVATE KEY-----", "a private key"),
    ],
)
def test_cloud_credentials_by_name_and_shape(text: str, what: str) -> None:
    assert ke401(f"intro\n{text}\nend\n") == [(2, looks_like(what))]


def test_a_google_service_account_key_file_is_found_at_its_private_key() -> None:
    key_file = (
        "{\n"
        '  "type": "service_account",\n'
        '  "project_id": "desk-tools",\n'
        '  "private_key_id": "' + "0a1b2c3d" * 5 + '",\n'
        '  "private_key": "' + "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" + '...",\n'
        '  "client_email": "bot@desk-tools.iam.gserviceaccount.com"\n'
        "}\n"
    )
    assert ke401(key_file) == [(5, looks_like("a Google Cloud service-account key"))]
    with_pem = key_file.replace('"MIIE', '"-----BEGIN ' + "PRIVATE KEY-----\\nMIIE")
    assert ke401(with_pem) == [(5, looks_like("a private key"))]  # one finding per line


def test_a_secret_after_an_environment_variable_name_is_found() -> None:
    assert ke401("export DB_PASSWORD=Hunter2x\nAZURE_CLIENT_SECRET=abc8Q~defGhi\n") == [
        (1, "'PASSWORD' is followed by what looks like a real value; use a placeholder such as `YOUR-PASSWORD`"),
        (2, "'CLIENT_SECRET' is followed by what looks like a real value; use a placeholder such as `YOUR-CLIENT_SECRET`"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "export AWS_SECRET_ACCESS_KEY=YOUR-SECRET-ACCESS-KEY",
        "aws_secret_access_key: ${AWS_SECRET_ACCESS_KEY}",
        "AWS_SECRET_ACCESS_KEY=" + "*" * 40,
        "Set the AWS secret access key in the vault, never here.",
        "commit 4b825dc642cb6eb9a060e54bf8d69288fbee4904 fixed it",  # 40 characters, no key name
        '"type": "service_account" files live in the vault',
        "the SAS token ends with &sig=<signature>",
        "-----BEGIN PUBLIC KEY-----",
        "the designer used sig=short",
        "password_file: /etc/app/secret.txt",
        "passwordless sign-in: enabled2",
    ],
)
def test_near_misses_of_the_cloud_rules(text: str) -> None:
    assert ke401(f"intro\n{text}\n") == []
