"""The shipped catalog (GRIP, checks, profiles) and the cross-checks between catalog files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cyberstd.catalog import load_catalog
from cyberstd.cli import main
from cyberstd.probes import probes
from cyberstd.profiles import resolve
from cyberstd.schema import ProbeKind
from tests.conftest import REPO


def test_shipped_catalog_is_valid() -> None:
    _, problems = load_catalog(REPO)
    assert [str(p) for p in problems] == []


def test_validate_command_on_what_ships() -> None:
    result = CliRunner().invoke(
        main, ["--root", str(REPO), "validate", str(REPO / "examples" / "demo-school")]
    )
    assert result.exit_code == 0, result.output


def test_grip_has_52_controls_over_6_levels() -> None:
    result = CliRunner().invoke(
        main, ["--root", str(REPO), "standards", "list", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    controls = json.loads(result.output)
    grip = [c for c in controls if c["framework"] == "grip"]
    assert len(grip) == 52
    ids = {c["id"] for c in grip}
    expected = {f"O{i}" for i in range(1, 30) if i not in (9, 10)}
    expected |= {f"O9.{n}" for n in range(1, 7)} | {f"O10.{n}" for n in range(1, 7)}
    expected |= {f"T{i}" for i in range(1, 14)}
    assert ids == expected
    assert {c["level"] for c in grip} == {1, 2, 3, 4, 5, 6}
    by_id = {c["id"]: c for c in grip}
    assert by_id["O9.4"]["level"] == 4 and by_id["O10.6"]["level"] == 6
    assert by_id["T10"]["level"] == 4 and by_id["O1"]["level"] == 1
    assert {c["type"] for c in grip if c["id"].startswith("T")} == {"technical"}
    assert by_id["T12"]["checks"]


def test_every_control_is_bilingual_with_crosswalks() -> None:
    catalog, _ = load_catalog(REPO)
    fw = catalog.frameworks["grip"]
    for control in fw.controls.values():
        for text in (control.title, control.description, control.verification):
            assert text.nl != text.en
    assert fw.controls["T6"].crosswalks["cyfun2023"] == ["PR.IP-4"]
    assert fw.mappings["O3"].attestation.questions


def test_basis_profiles_are_cumulative() -> None:
    catalog, _ = load_catalog(REPO)
    sizes = [len(resolve(catalog, f"grip-basis-{n}").controls) for n in range(1, 7)]
    assert sizes == sorted(sizes) and sizes[-1] == 52
    level_one = resolve(catalog, "grip-basis-1")
    assert {c.level for c in level_one.controls} == {1}


def test_profiles_tailor() -> None:
    catalog, _ = load_catalog(REPO)
    primary = resolve(catalog, "primary-school")
    assert "T13" in primary.not_applicable
    group = resolve(catalog, "school-group")
    assert group.checks["web.hsts"].params.model_dump()["min_max_age_days"] == 365
    ci = resolve(catalog, "ci-baseline")
    registry = probes()
    assert all(registry[p.check.probe].kind is ProbeKind.CONFIG for p in ci.checks.values())


def test_standards_show(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["--root", str(REPO), "standards", "show", "T12", "--lang", "en"]
    )
    assert result.exit_code == 0
    assert "T12" in result.output and "web.hsts" in result.output
    assert "  part hsts: HSTS on the website <- web.hsts" in result.output
    nl = CliRunner().invoke(main, ["--root", str(REPO), "standards", "show", "O7"]).output
    assert nl.startswith("O7 (grip, niveau 1, organisatorisch): Authenticatiebeleid")
    assert "verklaring nodig: tenzij de controles elk deel dekken" in nl
    assert "<- verklaring" in nl  # the written policy: only a person can answer it
    for english in ("evidence:", "checks:", "recommended:", "part ", "attestation", "level "):
        assert english not in nl, english
    result = CliRunner().invoke(main, ["--root", str(REPO), "standards", "show", "T99"])
    assert result.exit_code == 2 and "unknown control 'T99'" in result.output


def test_framework_cross_checks(mini_root: Path) -> None:
    controls = mini_root / "standards" / "mini" / "controls.yaml"
    text = controls.read_text()
    text = text.replace(
        "  - id: A2\n    level: 1\n    type: technical",
        "  - id: A1\n    level: 3\n    type: technical",
    )
    text = text.replace(
        "  - id: B1\n    level: 2\n    type: organisational",
        "  - id: B1\n    level: 2\n    type: organizational",
    )
    controls.write_text(text)
    _, problems = load_catalog(mini_root)
    out = [str(p) for p in problems]
    assert any(
        "controls.yaml:" in p and "error[duplicate-id]: control 'A1' is defined twice" in p
        for p in out
    )
    assert any(
        "unknown control type 'organizational' (did you mean 'organisational'?)" in p for p in out
    )
    assert any("mapping.yaml" in p and "unknown control 'A2'" in p for p in out)


def test_profile_cross_checks(mini_root: Path) -> None:
    (mini_root / "profiles" / "mini-bad.yaml").write_text(
        "id: mini-bad\ntitle: {nl: X, en: X}\ndescription: {nl: X, en: X}\nframework: mini\n"
        "extends: mini-al\ntarget_level: 7\n"
        "exclude:\n  - check: mini.nope\n    reason: {nl: r, en: r}\n"
        "params:\n  mini.ok: {outcome: sideways}\n"
    )
    (mini_root / "profiles" / "mini-worse.yaml").write_text(
        "id: mini-worse\ntitle: {nl: X, en: X}\ndescription: {nl: X, en: X}\nframework: mini\n"
        "exclude:\n  - control: A1\n"
    )
    _, problems = load_catalog(mini_root)
    out = "\n".join(str(p) for p in problems)
    assert (
        "mini-bad.yaml:5:10: error[unknown-id]: unknown profile 'mini-al' (did you mean 'mini-all'?)"
        in out
    )
    assert "target_level must be one of [1, 2]" in out
    assert "unknown check 'mini.nope'" in out
    assert "mini-worse.yaml:6:5: error[missing-field]: required field 'reason' is missing" in out
    assert "parameter 'outcome'" in out


def test_the_catalog_cache_is_data_and_a_tampered_one_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pickle

    from cyberstd import catalog_cache

    monkeypatch.setenv("CYBERSTD_CACHE_DIR", str(tmp_path))
    first, problems = load_catalog(REPO)
    assert problems == []
    (cached,) = tmp_path.glob("catalog-*.json")
    json.loads(cached.read_text(encoding="utf-8"))  # plain JSON, not a pickle
    again, _ = load_catalog(REPO)
    assert again.checks == first.checks and again.kinds == first.kinds

    class Boom:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (print, ("code from the cache ran",))

    # a pickle where the old cache lived, and garbage and a wrong shape in the JSON file
    key, _ = catalog_cache.fingerprint(REPO)
    (tmp_path / f"catalog-{key[:32]}.pickle").write_bytes(pickle.dumps(Boom()))
    for planted in (b"\x80\x04garbage", b'{"checks": "[]"}', b'{"frameworks": {}, "checks": 1}'):
        cached.write_bytes(planted)
        loaded, problems = load_catalog(REPO)
        assert problems == [] and loaded.checks == first.checks


@pytest.mark.parametrize(
    ("file", "append", "code"),
    [
        ("standards/mini/controls.yaml", "\nextra: !!python/object/apply:os.system ['x']\n", "tag"),
        ("standards/mini/framework.yaml", "\nextra: " + "[" * 300 + "]" * 300 + "\n", "too-deep"),
        ("checks/mini.yaml", "\nx: 1\n", "unknown-field"),
        ("standards/mini/mapping.yaml", "\nframework: other\n", "duplicate-key"),
    ],
    ids=["tag", "too deep", "unknown field", "duplicate key"],
)
def test_a_hostile_catalog_file_is_an_input_error(
    mini_root: Path, file: str, append: str, code: str
) -> None:
    """Catalog files go through the same loader as school files: a custom catalog that someone
    hands a school is refused at file:line, never run."""
    path = mini_root / file
    path.write_text(path.read_text() + append)
    result = CliRunner().invoke(main, ["--root", str(mini_root), "validate"])
    assert result.exit_code == 2, result.output
    assert f"error[{code}]" in result.output and file.split("/")[-1] in result.output
    assert "internal error" not in result.output


def test_grip_controls_claim_only_evidence_their_checks_give() -> None:
    """A control that says it is evidenced by a probe or a configuration export has a check of
    that kind; otherwise a reader expects automation that does not exist."""
    catalog, problems = load_catalog(REPO)
    assert problems == []
    fw = catalog.framework("grip")
    for cid, control in fw.controls.items():
        mapping = fw.mappings[cid]
        given = {
            "config" if probes()[catalog.checks[k].probe].kind is ProbeKind.CONFIG else "probe"
            for k in [*mapping.checks, *mapping.recommended]
        }
        claimed = {str(e) for e in control.evidence} - {"attestation"}
        assert claimed <= given, (cid, claimed, given)


def test_kinds_are_read_from_every_file_and_an_id_twice_is_named(mini_root: Path) -> None:
    kinds = mini_root / "checks" / "data" / "kinds"
    kinds.mkdir(parents=True)
    (kinds / "a.yaml").write_text(
        "kinds:\n  - id: meraki-x\n    format: json\n    title: {nl: X, en: X}\n"
    )
    (kinds / "b.yaml").write_text(
        "kinds:\n  - id: other\n    format: json\n    title: {nl: Y, en: Y}\n"
        "  - id: meraki-x\n    format: csv\n    title: {nl: Z, en: Z}\n"
    )
    catalog, problems = load_catalog(mini_root)
    assert {"meraki-x", "other"} <= set(catalog.kinds)
    assert catalog.kinds["meraki-x"].format == "json"  # the first file read keeps it
    said = [str(p) for p in problems]
    assert len(said) == 1
    assert said[0].endswith("b.yaml:5:9: error[duplicate-id]: kind 'meraki-x' is defined twice")
