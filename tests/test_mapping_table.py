"""Every check→control pair of GRIP says why it is required or only advice, and the tables in
docs/ are what `standards mapping` prints."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cyberstd.catalog import load_catalog
from cyberstd.cli import main
from tests.conftest import REPO


def test_every_grip_pair_has_a_reason_in_both_languages() -> None:
    catalog, problems = load_catalog(REPO)
    assert problems == []
    fw = catalog.framework("grip")
    pairs = [(c, k) for c, m in fw.mappings.items() for k in [*m.checks, *m.recommended]]
    assert len(pairs) > 80
    missing = [(c, k) for c, k in pairs if k not in fw.mappings[c].reasons]
    assert missing == []
    for c, k in pairs:
        reason = fw.mappings[c].reasons[k]
        assert reason.nl != reason.en, (c, k)
        # An advice line says so, a requirement does not.
        advice = k in fw.mappings[c].recommended
        assert reason.nl.startswith("Advies:") is advice, (c, k, reason.nl)
        assert reason.en.startswith("Advice:") is advice, (c, k, reason.en)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_docs_table_is_what_the_command_prints(lang: str) -> None:
    result = CliRunner().invoke(main, ["--root", str(REPO), "standards", "mapping", "--lang", lang])
    assert result.exit_code == 0, result.output
    doc = REPO / "docs" / f"grip-mapping.{lang}.md"
    assert doc.read_text(encoding="utf-8") == result.output, (
        f"regenerate: cyberstd standards mapping --lang {lang} > docs/grip-mapping.{lang}.md"
    )
    assert "| O7 (1) | `entra.mfa-all-users`" in result.output
    assert ("aanbevolen" if lang == "nl" else "recommended") in result.output


def test_an_unknown_framework_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["--root", str(REPO), "standards", "mapping", "gripp"])
    assert result.exit_code == 2
    assert "unknown framework 'gripp'" in result.output and "grip" in result.output
