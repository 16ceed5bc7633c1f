"""Signed evidence bundles: contents, determinism, keys, signatures and every way verification fails."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import json
import os
import re
import stat
import sys
import zipfile
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from cyberstd.bundle import (
    MANIFEST,
    BundleError,
    ExportPolicy,
    build_bundle,
    check_bundle,
    is_safe_member,
    redacted_export,
    safe_name,
    write_bundle,
)
from cyberstd.catalog import load_catalog
from cyberstd.cli.bundle import COMMANDS
from cyberstd.clock import Clock
from cyberstd.parsers.base import REDACTED
from cyberstd.registry import ProbeContext
from cyberstd.results import AttestationRecord, Results
from cyberstd.runner import evaluate, execute, make_plan
from cyberstd.school import SchoolFolder, load_school
from cyberstd.signing import load_private_key, sign_file, write_signature

TODAY = dt.date(2026, 11, 29)
STARTED = dt.datetime(2026, 11, 29, 10, 0, tzinfo=dt.UTC)
POLICY = b"Password policy, version 3: 14 characters, MFA for staff.\n"
USERS = b'{"value": [{"userPrincipalName": "an@school.test", "accountEnabled": true}]}\n'
EXPORT_MEMBER = "exports/exports/users.json.redacted.json"
RAW_MEMBER = "exports/exports/users.json"
ATTESTATION_MEMBER = "attestations/evidence/policy.txt"
CLI = click.Group("cyberstd", commands=COMMANDS)


def cli(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run a command; never a traceback, never an internal error."""
    result = CliRunner().invoke(CLI, list(args), env=env)
    assert "Traceback" not in result.output
    assert "internal error" not in result.output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def failures(result: Result) -> set[tuple[str, str]]:
    """The (changed|added|removed, path) lines of a failed verification."""
    return set(re.findall(r"^  - (changed|added|removed): (\S+)", result.stderr, re.M))


@pytest.fixture
def school(school_dir: Path) -> Path:
    """The test school with an attested evidence file and a configuration export."""
    (school_dir / "evidence").mkdir()
    (school_dir / "evidence" / "policy.txt").write_bytes(POLICY)
    (school_dir / "exports").mkdir()
    (school_dir / "exports" / "users.json").write_bytes(USERS)
    with (school_dir / "school.yaml").open("a") as fh:
        fh.write("exports:\n  - path: exports/users.json\n    kind: entra-users\n")
    (school_dir / "attestations.yaml").write_text(
        "attestations:\n"
        "  - control: A2\n"
        "    answer: implemented\n"
        "    explanation: Policy in force since September.\n"
        "    evidence:\n"
        "      - path: evidence/policy.txt\n"
        f"        sha256: {hashlib.sha256(POLICY).hexdigest()}\n"
        "    attested_by: An Peeters, director\n"
        "    date: 2026-01-10\n"
        "    review_by: 2027-01-10\n"
    )
    return school_dir


@functools.cache
def redacting() -> ExportPolicy:
    """The default: exports enter the bundle redacted, parsed by the shipped kinds."""
    catalog, problems = load_catalog(None)
    assert problems == []
    return ExportPolicy(catalog.kinds)


def scan(root: Path, folder_dir: Path) -> tuple[Results, SchoolFolder]:
    catalog, problems = load_catalog(root)
    assert problems == []
    folder, problems = load_school(folder_dir, catalog, today=TODAY)
    assert problems == [] and folder is not None
    plan = make_plan(catalog, folder)
    findings = execute(plan, ProbeContext(clock=Clock.at(STARTED), timeout=2.0))
    results = evaluate(plan, findings, clock=Clock.at(STARTED), catalog_inputs=catalog.inputs)
    return results, folder


@pytest.fixture
def scanned(mini_root: Path, school: Path) -> tuple[Results, SchoolFolder]:
    return scan(mini_root, school)


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    key = tmp_path / "keys" / "signer.key"
    result = cli("keygen", "--out", str(key))
    assert result.exit_code == 0, result.output
    return key, key.with_name("signer.key.pub")


@pytest.fixture
def signed(tmp_path: Path, scanned: tuple[Results, SchoolFolder], keys: tuple[Path, Path]) -> Path:
    """A bundle (with a rendered report) and its signature."""
    results, folder = scanned
    (tmp_path / "out").mkdir()
    bundle = write_bundle(
        results,
        folder,
        tmp_path / "out" / "bundle.zip",
        {"report.en.md": "# Report\n"},
        exports=redacting(),
    )
    result = cli("sign", str(bundle), "--key", str(keys[0]))
    assert result.exit_code == 0, result.output
    return bundle


def verify(path: Path, pub: Path, *extra: str) -> Result:
    return cli("verify", str(path), "--pubkey", str(pub), *extra)


def rewrite(
    src: Path,
    dst: Path,
    *,
    change: str | None = None,
    add: str | None = None,
    remove: str | None = None,
) -> None:
    """Copy a bundle into a valid zip with one member changed, added or removed."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename == remove:
                continue
            data = zin.read(info)
            if info.filename == change:
                data += b"tampered\n"
            zout.writestr(info, data)
        if add is not None:
            zout.writestr(add, b"slipped in\n")


# --- round trip and contents -----------------------------------------------------------------


def test_round_trip(signed: Path, keys: tuple[Path, Path]) -> None:
    result = verify(signed, keys[1])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(signed) as zf:
        count = len(json.loads(zf.read(MANIFEST))["files"])
    pub_raw = load_private_key(keys[0]).public_key().public_bytes_raw()
    keygen_fpr = hashlib.sha256(pub_raw).hexdigest()
    assert f"signer:    {keygen_fpr}" in result.stdout
    assert "signed at: 20" in result.stdout
    assert f"bundle: {count} files match the manifest" in result.stdout
    assert signed.with_name("bundle.zip.sig").is_file()


def test_bundle_contents(signed: Path, scanned: tuple[Results, SchoolFolder]) -> None:
    results, _ = scanned
    with zipfile.ZipFile(signed) as zf:
        names = zf.namelist()
        manifest = json.loads(zf.read(MANIFEST))
        files = {e["path"]: e for e in manifest["files"]}
        assert names == sorted(names)
        assert set(names) == set(files) | {MANIFEST}
        for name in names:
            assert is_safe_member(name), name
        for entry in manifest["files"]:
            data = zf.read(entry["path"])
            assert entry["sha256"] == hashlib.sha256(data).hexdigest()
            assert entry["size"] == len(data)
        assert zf.read(ATTESTATION_MEMBER) == POLICY
        exported = json.loads(zf.read(EXPORT_MEMBER))
        assert RAW_MEMBER not in names
        assert exported["tree"] == json.loads(USERS)
        assert exported["original_sha256"] == hashlib.sha256(USERS).hexdigest()
        assert files[EXPORT_MEMBER]["original_sha256"] == exported["original_sha256"]
        assert files[EXPORT_MEMBER]["original_size"] == len(USERS)
        assert zf.read("reports/report.en.md") == b"# Report\n"
        assert Results.model_validate_json(zf.read("results.json")) == results
        evidence = [n for n in names if n.startswith("evidence/")]
        assert len(evidence) == len(results.findings)
        bad = next(f for f in results.findings if f.id == "mini.bad@www.school.test")
        assert json.loads(zf.read("evidence/mini.bad@www.school.test.json")) == bad.evidence
        assert files["evidence/mini.bad@www.school.test.json"]["finding"] == bad.id
    assert manifest["run_id"] == results.run.id
    assert manifest["exports"] == "redacted" and manifest["format_version"] == 2
    assert manifest["school_id"] == "test-school"
    assert manifest["tool"]["name"] == "cyberstd" and manifest["tool"]["version"]
    assert dt.datetime.fromisoformat(manifest["created"]) == results.run.finished


def test_same_inputs_give_identical_bytes(
    scanned: tuple[Results, SchoolFolder], tmp_path: Path
) -> None:
    results, folder = scanned
    first = write_bundle(results, folder, tmp_path / "a.zip", exports=redacting()).read_bytes()
    second = write_bundle(results, folder, tmp_path / "b.zip", exports=redacting()).read_bytes()
    assert first == second
    # ... also from the results.json read back from disk
    reloaded = Results.model_validate_json(results.model_dump_json())
    assert build_bundle(reloaded, folder, exports=redacting()) == first
    with zipfile.ZipFile(io.BytesIO(first)) as zf:
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_safe_names_are_distinct_and_safe() -> None:
    ids = ["mini.bad@www.school.test", "a/b", "a_b", "..", "../../etc/passwd", "x" * 300]
    names = [safe_name(i) for i in ids]
    assert names[0] == ids[0]
    assert len(set(names)) == len(ids)
    for name in names:
        assert is_safe_member(f"evidence/{name}.json") and "/" not in name and len(name) < 120


# --- tampering -------------------------------------------------------------------------------


def _member_data_ranges(path: Path) -> dict[str, range]:
    """Where each member's compressed data lies in the archive."""
    out = {}
    raw = path.read_bytes()
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            offset = info.header_offset
            name_len = int.from_bytes(raw[offset + 26 : offset + 28], "little")
            extra_len = int.from_bytes(raw[offset + 28 : offset + 30], "little")
            start = offset + 30 + name_len + extra_len
            out[info.filename] = range(start, start + info.compress_size)
    return out


def test_any_changed_byte_fails_verification(
    signed: Path, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    original = signed.read_bytes()
    ranges = _member_data_ranges(signed)
    positions = set(range(0, len(original), max(1, len(original) // 300)))
    positions |= {len(original) - 1, len(original) - 22, 0, 1, 2, 3}
    for member in (MANIFEST, "results.json", EXPORT_MEMBER):
        r = ranges[member]
        positions |= {r.start, r.start + len(r) // 2, r.stop - 1}
    sig = signed.with_name("bundle.zip.sig")
    tampered = tmp_path / "tampered.zip"
    for pos in sorted(positions):
        data = bytearray(original)
        data[pos] ^= 0xFF
        tampered.write_bytes(bytes(data))
        result = verify(tampered, keys[1], "--sig", str(sig))
        assert result.exit_code == 1, (pos, result.output)
        assert "verification FAILED" in result.stderr
        assert "file: tampered.zip changed since it was signed" in result.stderr, pos


def test_changed_byte_inside_manifest_names_a_manifest_problem(
    signed: Path, keys: tuple[Path, Path]
) -> None:
    r = _member_data_ranges(signed)[MANIFEST]
    data = bytearray(signed.read_bytes())
    data[r.start + len(r) // 2] ^= 0xFF
    signed.write_bytes(bytes(data))
    result = verify(signed, keys[1])
    assert result.exit_code == 1
    assert f"changed: {MANIFEST}" not in result.stderr  # the manifest is never in itself
    assert "bundle:" in result.stderr and MANIFEST in result.stderr


@pytest.mark.parametrize(
    ("how", "member", "label"),
    [
        ("change", EXPORT_MEMBER, "changed"),
        ("change", "results.json", "changed"),
        ("change", "evidence/mini.bad@www.school.test.json", "changed"),
        ("add", "evidence/extra.json", "added"),
        ("remove", ATTESTATION_MEMBER, "removed"),
    ],
)
def test_member_changed_added_removed_is_named(
    signed: Path, keys: tuple[Path, Path], tmp_path: Path, how: str, member: str, label: str
) -> None:
    forged = tmp_path / "forged.zip"
    rewrite(signed, forged, **{how: member})
    result = verify(forged, keys[1], "--sig", str(signed.with_name("bundle.zip.sig")))
    assert result.exit_code == 1
    assert failures(result) == {(label, member)}
    assert "changed since it was signed" in result.stderr
    # Even signed afresh, a bundle that does not match its manifest fails, naming the file.
    write_signature(
        sign_file(forged, load_private_key(keys[0]), "bundle"),
        forged.with_name("forged.zip.sig"),
    )
    result = verify(forged, keys[1])
    assert result.exit_code == 1
    assert failures(result) == {(label, member)}
    assert "signature:" not in result.stderr and "since it was signed" not in result.stderr
    # and `sign` refuses to sign it
    result = cli("sign", str(forged), "--key", str(keys[0]))
    assert result.exit_code == 2
    assert f"{label}: {member}" in result.stderr


def reforge(
    src: Path,
    dst: Path,
    *,
    change: str | None = None,
    add: str | None = None,
    remove: str | None = None,
) -> None:
    """What a careful forger does: change, add or remove a member AND rewrite the manifest to
    match, so that the bundle is consistent with its own manifest again."""
    with zipfile.ZipFile(src) as zin:
        members = {i.filename: zin.read(i) for i in zin.infolist()}
    if change is not None:
        # still valid JSON, so that the forged bundle reads as well as the signed one
        members[change] = members[change].replace(b"{", b"{ ", 1) + b"\n"
    if add is not None:
        members[add] = b"slipped in\n"
    if remove is not None:
        del members[remove]
    manifest = json.loads(members[MANIFEST])
    manifest["files"] = [
        {"path": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        for name, data in sorted(members.items())
        if name != MANIFEST
    ]
    members[MANIFEST] = json.dumps(manifest, indent=2).encode()
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in sorted(members):
            zout.writestr(name, members[name])


def test_signature_records_the_manifest_and_its_files(signed: Path) -> None:
    body = json.loads(signed.with_name("bundle.zip.sig").read_text())
    with zipfile.ZipFile(signed) as zf:
        manifest_bytes = zf.read(MANIFEST)
    assert body["manifest_sha256"] == hashlib.sha256(manifest_bytes).hexdigest()
    listed = json.loads(manifest_bytes)["files"]
    assert body["files"] == [
        {"path": e["path"], "sha256": e["sha256"], "size": e["size"]} for e in listed
    ]


@pytest.mark.parametrize(
    ("how", "member", "label"),
    [
        ("change", EXPORT_MEMBER, "changed"),
        ("change", "results.json", "changed"),
        ("add", "evidence/extra.json", "added"),
        ("remove", ATTESTATION_MEMBER, "removed"),
    ],
)
def test_recomputed_manifest_does_not_hide_the_file(
    signed: Path, keys: tuple[Path, Path], tmp_path: Path, how: str, member: str, label: str
) -> None:
    forged = tmp_path / "forged.zip"
    reforge(signed, forged, **{how: member})
    assert check_bundle(forged).ok  # consistent with its own (rewritten) manifest
    result = verify(forged, keys[1], "--sig", str(signed.with_name("bundle.zip.sig")))
    assert result.exit_code == 1
    assert "file: forged.zip changed since it was signed" in result.stderr
    assert failures(result) == set()  # the manifest check alone finds nothing
    named = set(re.findall(r"^  - (\w+) since signing: (\S+)", result.stderr, re.M))
    assert named == {(label, member), ("changed", MANIFEST)}


def test_unsafe_member_in_archive_is_reported(
    signed: Path, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    forged = tmp_path / "forged.zip"
    rewrite(signed, forged, add="../escape.txt")
    result = verify(forged, keys[1], "--sig", str(signed.with_name("bundle.zip.sig")))
    assert result.exit_code == 1
    assert "unsafe path in the archive: '../escape.txt'" in result.stderr
    assert ("added", "../escape.txt") in failures(result)
    assert not (tmp_path / "escape.txt").exists()


def test_member_names_cannot_forge_the_screen(
    signed: Path, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    """A member named to clear the terminal and draw a fake success is shown as text."""
    forged = tmp_path / "forged.zip"
    name = "\x1b[2J\x1b[Hverified bundle.zip (bundle)\u202e\nok.txt"
    rewrite(signed, forged, add=name)
    result = verify(forged, keys[1], "--sig", str(signed.with_name("bundle.zip.sig")))
    assert result.exit_code == 1
    shown = result.stdout + result.stderr
    for ch in ("\x1b", "\u202e"):
        assert ch not in shown
    assert "added: \\x1b[2J\\x1b[Hverified bundle.zip (bundle)\\u202e\\nok.txt" in shown
    assert shown.startswith("verification FAILED")


def test_not_a_bundle_at_all(tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK\x03\x04" + bytes(100))
    assert not check_bundle(junk).ok
    assert check_bundle(junk).problems


# --- keys and signatures ---------------------------------------------------------------------


def test_wrong_public_key_fails(signed: Path, keys: tuple[Path, Path], tmp_path: Path) -> None:
    other = tmp_path / "other.key"
    assert cli("keygen", "--out", str(other)).exit_code == 0
    result = verify(signed, other.with_name("other.key.pub"))
    assert result.exit_code == 1
    assert "wrong public key" in result.stderr
    assert failures(result) == set()


def test_truncated_signature_file(signed: Path, keys: tuple[Path, Path]) -> None:
    sig = signed.with_name("bundle.zip.sig")
    sig.write_bytes(sig.read_bytes()[:40])
    result = verify(signed, keys[1])
    assert result.exit_code == 2
    assert "not a valid signature file (truncated or altered?)" in result.stderr


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("signed_at", "2020-01-01T00:00:00Z"),
        ("sha256", "0" * 64),
        ("size", 1),
        ("kind", "results"),
        ("tool", {"name": "cyberstd", "version": "9.9"}),
        ("manifest_sha256", "0" * 64),
        ("files", []),
    ],
)
def test_altered_signature_file_fails(
    signed: Path, keys: tuple[Path, Path], field: str, value: object
) -> None:
    sig = signed.with_name("bundle.zip.sig")
    body = json.loads(sig.read_text())
    body[field] = value
    sig.write_text(json.dumps(body))
    result = verify(signed, keys[1])
    assert result.exit_code == 1
    assert "the signature file was altered after signing" in result.stderr


def test_altered_signature_bytes_fail(signed: Path, keys: tuple[Path, Path]) -> None:
    import base64

    sig = signed.with_name("bundle.zip.sig")
    body = json.loads(sig.read_text())
    raw = bytearray(base64.b64decode(body["signature"]))
    raw[10] ^= 0x01
    body["signature"] = base64.b64encode(bytes(raw)).decode()
    sig.write_text(json.dumps(body))
    result = verify(signed, keys[1])
    assert result.exit_code == 1
    assert "signature: not valid for this public key" in result.stderr


def test_encrypted_key(tmp_path: Path, scanned: tuple[Results, SchoolFolder]) -> None:
    results, folder = scanned
    (tmp_path / "out").mkdir()
    bundle = write_bundle(results, folder, tmp_path / "bundle.zip", exports=redacting())
    key = tmp_path / "enc.key"
    env = {"CYBERSTD_KEY_PASS": "correct horse battery staple"}
    result = cli("keygen", "--out", str(key), "--passphrase-env", "CYBERSTD_KEY_PASS", env=env)
    assert result.exit_code == 0, result.output
    assert b"ENCRYPTED PRIVATE KEY" in key.read_bytes()
    signing = ("sign", str(bundle), "--key", str(key))
    ok = cli(*signing, "--passphrase-env", "CYBERSTD_KEY_PASS", env=env)
    assert ok.exit_code == 0, ok.output
    assert verify(bundle, tmp_path / "enc.key.pub").exit_code == 0
    wrong = cli(*signing, "--passphrase-env", "CYBERSTD_KEY_PASS", env={"CYBERSTD_KEY_PASS": "no"})
    assert wrong.exit_code == 2
    assert "wrong passphrase" in wrong.stderr
    missing = cli(*signing)
    assert missing.exit_code == 2
    assert "is encrypted" in missing.stderr and "--passphrase-env" in missing.stderr
    unset = cli(*signing, "--passphrase-env", "CYBERSTD_NO_SUCH_VAR")
    assert unset.exit_code == 2
    assert "CYBERSTD_NO_SUCH_VAR is not set" in unset.stderr


def test_keygen_refuses_to_overwrite(tmp_path: Path) -> None:
    key = tmp_path / "k.key"
    assert cli("keygen", "--out", str(key)).exit_code == 0
    before = key.read_bytes(), key.with_name("k.key.pub").read_bytes()
    again = cli("keygen", "--out", str(key))
    assert again.exit_code == 2
    assert "refusing to overwrite" in again.stderr
    assert (key.read_bytes(), key.with_name("k.key.pub").read_bytes()) == before
    # the public key alone existing is enough to refuse
    lone = tmp_path / "lone.key"
    lone.with_name("lone.key.pub").write_text("x")
    assert cli("keygen", "--out", str(lone)).exit_code == 2
    assert not lone.exists()
    forced = cli("keygen", "--out", str(key), "--force")
    assert forced.exit_code == 0
    assert key.read_bytes() != before[0]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_private_key_mode_is_0600(tmp_path: Path) -> None:
    key = tmp_path / "k.key"
    key.write_text("old")
    key.chmod(0o644)
    assert cli("keygen", "--out", str(key), "--force").exit_code == 0
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    pub = key.with_name("k.key.pub")
    assert pub.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    old = os.umask(0)
    try:
        fresh = tmp_path / "fresh.key"
        assert cli("keygen", "--out", str(fresh)).exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600


# --- results.json on its own -----------------------------------------------------------------


def test_results_json_alone(
    tmp_path: Path, scanned: tuple[Results, SchoolFolder], keys: tuple[Path, Path]
) -> None:
    results, _ = scanned
    path = tmp_path / "results.json"
    path.write_text(results.model_dump_json(indent=2, exclude_none=True) + "\n")
    signed = cli("sign", str(path), "--key", str(keys[0]))
    assert signed.exit_code == 0, signed.output
    assert json.loads(path.with_name("results.json.sig").read_text())["kind"] == "results"
    ok = verify(path, keys[1])
    assert ok.exit_code == 0, ok.output
    assert "verified" in ok.stdout and "bundle:" not in ok.stdout
    path.write_text(path.read_text().replace("test-school", "best-school"))
    bad = verify(path, keys[1])
    assert bad.exit_code == 1
    assert "results.json changed since it was signed" in bad.stderr


# --- writing refuses what changed or escapes the school folder -------------------------------


def test_evidence_changed_after_scan_is_refused(
    scanned: tuple[Results, SchoolFolder], school: Path, tmp_path: Path
) -> None:
    results, folder = scanned
    (school / "evidence" / "policy.txt").write_bytes(POLICY + b"edited\n")
    (school / "exports" / "users.json").write_bytes(b"{}\n")
    target = tmp_path / "bundle.zip"
    with pytest.raises(BundleError) as err:
        write_bundle(results, folder, target, exports=redacting())
    message = str(err.value)
    assert "2 problem(s)" in message
    assert "attestation for A2: 'evidence/policy.txt' changed since the scan" in message
    assert "export of kind entra-users: 'exports/users.json' changed since the scan" in message
    assert not target.exists()


def test_school_input_files_are_bundled(
    signed: Path, scanned: tuple[Results, SchoolFolder], school: Path
) -> None:
    results, _ = scanned
    with zipfile.ZipFile(signed) as zf:
        names = set(zf.namelist())
        assert zf.read("inputs/school.yaml") == (school / "school.yaml").read_bytes()
        assert zf.read("inputs/attestations.yaml") == (school / "attestations.yaml").read_bytes()
        listed = {e["path"] for e in json.loads(zf.read(MANIFEST))["files"]}
    assert "inputs/waivers.yaml" not in names  # the school has none, the scan read none
    assert {"inputs/school.yaml", "inputs/attestations.yaml"} <= listed
    recorded = {Path(p).name: sha for p, sha in results.run.inputs.items()}
    assert (
        hashlib.sha256((school / "school.yaml").read_bytes()).hexdigest() == recorded["school.yaml"]
    )


def test_waivers_file_is_bundled_when_the_scan_read_it(mini_root: Path, school: Path) -> None:
    (school / "waivers.yaml").write_text(
        "waivers:\n"
        "  - control: B1\n"
        "    reason: New web server in spring.\n"
        "    approved_by: An Peeters, director\n"
        "    expires: 2027-06-30\n"
    )
    results, folder = scan(mini_root, school)
    assert any(Path(p).name == "waivers.yaml" for p in results.run.inputs)
    with zipfile.ZipFile(io.BytesIO(build_bundle(results, folder, exports=redacting()))) as zf:
        assert zf.read("inputs/waivers.yaml") == (school / "waivers.yaml").read_bytes()


def test_input_file_changed_after_scan_is_refused(
    scanned: tuple[Results, SchoolFolder], school: Path, tmp_path: Path
) -> None:
    results, folder = scanned
    with (school / "attestations.yaml").open("a") as fh:
        fh.write("# edited after the scan\n")
    with pytest.raises(BundleError) as err:
        write_bundle(results, folder, tmp_path / "bundle.zip", exports=redacting())
    assert "input file attestations.yaml: 'attestations.yaml' changed since the scan" in str(
        err.value
    )


def test_missing_evidence_is_refused(
    scanned: tuple[Results, SchoolFolder], school: Path, tmp_path: Path
) -> None:
    results, folder = scanned
    (school / "evidence" / "policy.txt").unlink()
    with pytest.raises(BundleError, match=r"'evidence/policy.txt' cannot be read"):
        write_bundle(results, folder, tmp_path / "bundle.zip", exports=redacting())


@pytest.mark.parametrize("hostile", ["../outside.txt", "/etc/passwd", "evidence/../../outside.txt"])
def test_hostile_attestation_path_is_refused(
    scanned: tuple[Results, SchoolFolder], tmp_path: Path, hostile: str
) -> None:
    results, folder = scanned
    (tmp_path / "outside.txt").write_text("not the school's")
    controls = []
    for c in results.controls:
        if c.attestation is not None:
            record = c.attestation.model_dump()
            record["evidence"] = [{"path": hostile, "sha256": "0" * 64}]
            c = c.model_copy(update={"attestation": AttestationRecord(**record)})
        controls.append(c)
    forged = results.model_copy(update={"controls": controls})
    with pytest.raises(BundleError) as err:
        write_bundle(forged, folder, tmp_path / "bundle.zip", exports=redacting())
    assert repr(hostile) in str(err.value)
    assert "absolute" in str(err.value) or "'..'" in str(err.value)


def test_export_outside_the_school_folder_is_refused(
    mini_root: Path, school: Path, tmp_path: Path
) -> None:
    (tmp_path / "outside.json").write_text("{}")
    text = (school / "school.yaml").read_text()
    (school / "school.yaml").write_text(text.replace("exports/users.json", "../outside.json"))
    _refused_on_loading(mini_root, school, "must be relative to the school folder")


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks")
def test_export_symlinked_outside_is_refused(mini_root: Path, school: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.json").write_text("{}")
    (school / "exports" / "users.json").unlink()
    (school / "exports" / "users.json").symlink_to(tmp_path / "secret.json")
    _refused_on_loading(mini_root, school, "is a link out of the school folder")


def _refused_on_loading(root: Path, school: Path, said: str) -> None:
    """Loading the school already refuses it, so no scan reads it and no bundle carries it."""
    catalog, _ = load_catalog(root)
    _, problems = load_school(school, catalog, today=TODAY)
    assert [p.code for p in problems] == ["outside-folder"] and said in problems[0].message


def test_results_of_another_school_are_refused(
    scanned: tuple[Results, SchoolFolder], tmp_path: Path
) -> None:
    results, folder = scanned
    other = results.model_copy(
        update={"school": results.school.model_copy(update={"id": "other-school"})}
    )
    with pytest.raises(BundleError, match="other-school"):
        write_bundle(other, folder, tmp_path / "bundle.zip", exports=redacting())


# --- bad input: clear messages, no traceback -------------------------------------------------


def test_bad_inputs_give_clear_errors(
    signed: Path, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    key, pub = keys
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 4)
    cases = [
        (("verify", str(signed), "--pubkey", str(key)), "is a private key"),
        (("verify", str(signed), "--pubkey", str(junk)), "not a PEM public key"),
        (("verify", str(junk), "--pubkey", str(pub)), "signature file"),
        (("verify", str(signed), "--pubkey", str(pub), "--sig", str(junk)), "not UTF-8"),
        (("sign", str(signed), "--key", str(pub)), "is a public key"),
        (("sign", str(signed), "--key", str(junk)), "not a PEM private key"),
        (("sign", str(junk), "--key", str(key)), "junk.bin"),
        (("verify", str(tmp_path / "nope.zip"), "--pubkey", str(pub)), "does not exist"),
        (("keygen", "--out", str(tmp_path)), "is a directory"),
    ]
    for args, message in cases:
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)


def test_sign_never_writes_its_signature_over_the_bundle_or_the_key(
    signed: Path, keys: tuple[Path, Path]
) -> None:
    before = signed.read_bytes(), keys[0].read_bytes()
    for target in (signed, keys[0]):
        result = cli("sign", str(signed), "--key", str(keys[0]), "--sig", str(target))
        assert result.exit_code == 2, result.output
        assert "also an input" in result.output and "Traceback" not in result.output
    assert (signed.read_bytes(), keys[0].read_bytes()) == before


def test_a_redacted_export_is_in_the_shape_the_rules_read() -> None:
    """A Dutch inventory's cells are also under the names the evidence uses (`rows[0].last_seen`),
    and `fields` says which header each came from."""
    data = b"Toestel;Laatst bijgewerkt;Wachtwoord\nPC-01;14/11/2026;Geheim123!\n"
    kind = redacting().kinds["device-inventory"]
    member = redacted_export(data, Path("t.csv"), "t.csv", kind.id, kind.format, kind)
    body = json.loads(member)
    assert body["tree"]["fields"] == {"hostname": "Toestel", "last_seen": "Laatst bijgewerkt"}
    (row,) = body["tree"]["rows"]
    assert row["last_seen"] == row["Laatst bijgewerkt"] == "14/11/2026"
    assert row["Wachtwoord"] == REDACTED and b"Geheim123" not in member
    assert body["lines"]["/rows/0/last_seen"] == 2
