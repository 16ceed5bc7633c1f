"""The message catalog: every id in Dutch and English, every id the code names is there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cyberstd import messages
from cyberstd.messages import CatalogError, Msg, load, msg, render, verbatim
from cyberstd.results import FindingStatus, ProbeOutcome

SOURCE = Path(messages.__file__).resolve().parent
# msg("id", ...), t("id", ...), Msg("id", ...) with a literal id
NAMED = re.compile(r"""\b(?:msg|t|Msg)\(\s*["']([a-z0-9_.-]+)["']""")


def test_every_message_has_both_languages_and_the_same_values() -> None:
    found = messages.catalog()
    assert len(found) > 50
    for id, entry in found.items():
        assert set(entry) == {"nl", "en"}, id
        assert messages.fields(entry["nl"]) == messages.fields(entry["en"]), id


def test_every_id_the_code_names_is_in_the_catalog() -> None:
    missing = []
    for path in SOURCE.rglob("*.py"):
        if path.name == "messages.py":  # its docstring shows the format
            continue
        for match in NAMED.finditer(path.read_text(encoding="utf-8")):
            if match.group(1) not in messages.catalog():
                missing.append(f"{path.relative_to(SOURCE)}: {match.group(1)}")
    assert missing == []


def test_plural_forms_follow_n() -> None:
    assert render("why.passed", "nl", {"n": 3}).startswith("3 ")
    assert "{" not in render("why.passed", "en", {"n": 1})


def test_a_message_renders_its_parts_in_the_same_language() -> None:
    part = msg("status.compliant")
    outer = msg("why.na", reason=part)
    assert outer.render("nl") == "niet van toepassing: in orde"
    assert outer.render("en") == "not applicable: compliant"
    listed = msg("why.na", reason=[msg("status.partial"), verbatim("x")])
    assert listed.render("nl") == "niet van toepassing: gedeeltelijk; x"


def test_an_unknown_id_is_an_error_naming_it() -> None:
    with pytest.raises(KeyError, match=r"no\.such"):
        Msg("no.such").render("nl")


def test_an_outcome_said_from_the_catalog_carries_both_languages() -> None:
    out = ProbeOutcome.said(
        FindingStatus.PASS, msg("status.compliant"), {}, [msg("status.partial")]
    )
    assert (out.message, out.messages) == ("compliant", {"nl": "in orde"})
    assert (out.warning, out.warning_messages) == ("partial", {"nl": "gedeeltelijk"})


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("a.b:\n  nl: x\n", "exactly nl and en"),
        ("a.b:\n  nl: '{x}'\n  en: '{y}'\n", "other values"),
        ("a.b:\n  nl: {one: x}\n  en: y\n", "one and other"),
        ("a.b:\n  nl: ''\n  en: y\n", "not a text"),
    ],
)
def test_a_broken_catalog_is_refused_naming_file_and_id(
    tmp_path: Path, text: str, error: str
) -> None:
    (tmp_path / "x.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError, match=rf"x\.yaml: message 'a.b'.*{error}"):
        load(tmp_path)


def test_an_id_in_two_files_is_refused(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.yaml").write_text("x.y:\n  nl: a\n  en: b\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"b\.yaml: message 'x\.y' is also in a\.yaml"):
        load(tmp_path)


def test_the_dutch_advice_says_je_not_u() -> None:
    """Remediation speaks to the coordinator as "je" throughout, never the formal "u"."""
    from cyberstd.catalog import load_catalog

    catalog, problems = load_catalog(None)
    assert problems == []
    formal = re.compile(r"\b(u|uw|uzelf)\b")
    found = [
        f"{check.id}: {m.group(0)}"
        for check in catalog.checks.values()
        for m in formal.finditer(check.remediation.nl)
    ]
    assert found == []
