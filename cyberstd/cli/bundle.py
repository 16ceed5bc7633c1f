"""`cyberstd keygen`, `sign` and `verify`: Ed25519 signatures over results.json and evidence bundles.

Exit codes of `verify`: 0 verified; 1 (GAPS) verification failed: the signature, the file or a
bundle entry does not match; 2 (INVALID) verification could not be done: the file, the
signature file or the public key is missing or unreadable (a truncated .sig is one).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from cyberstd.cli.common import handle_errors, said_lang, wrote
from cyberstd.errors import ExitCode, UsageError
from cyberstd.i18n import t

PASSPHRASE_HELP = "Name of the environment variable holding the key's passphrase."


def _passphrase(variable: str | None) -> bytes | None:
    """The passphrase held by an environment variable (never given on the command line)."""
    if variable is None:
        return None
    value = os.environ.get(variable)
    if value is None:
        raise UsageError(
            f"environment variable {variable} is not set (--passphrase-env names the variable "
            "that holds the passphrase, not the passphrase itself)"
        )
    if not value:
        raise UsageError(f"environment variable {variable} is empty; a passphrase cannot be")
    return value.encode("utf-8")


@click.command()
@click.option(
    "--out",
    "key_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Private key file to write; the public key goes to KEYFILE.pub.",
)
@click.option("--passphrase-env", metavar="VAR", default=None, help=PASSPHRASE_HELP)
@click.option("--force", is_flag=True, help="Overwrite an existing key.")
@handle_errors
def keygen(key_file: Path, passphrase_env: str | None, force: bool) -> None:
    """Make an Ed25519 key pair to sign results and evidence bundles with.

    The private key (PEM PKCS8, mode 0600) is encrypted when --passphrase-env names a variable
    holding a passphrase. Keep it secret; hand out KEYFILE.pub to whoever verifies.
    """
    from cyberstd.signing import write_keypair

    passphrase = _passphrase(passphrase_env)
    private, public, fpr = write_keypair(key_file, passphrase, force=force)
    lang = said_lang()
    state = t("cli.key.encrypted" if passphrase else "cli.key.not-encrypted", lang)
    click.echo(t("cli.wrote.private-key", lang, path=private, state=state))
    click.echo(t("cli.wrote.public-key", lang, path=public))
    click.echo(f"fingerprint {fpr}")


def _kind(path: Path) -> str:
    """'bundle' for a consistent bundle, 'results' for a results.json; refuse anything else."""
    from cyberstd.bundle import BundleError, check_bundle, is_bundle
    from cyberstd.report.json import load

    if is_bundle(path):
        check = check_bundle(path)
        if not check.ok:
            raise BundleError(
                f"{path} is not a consistent evidence bundle; refusing to sign it:\n  "
                + "\n  ".join(check.failures())
            )
        return "bundle"
    load(path, str(path))
    return "results"


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Private key file (from `cyberstd keygen`).",
)
@click.option("--passphrase-env", metavar="VAR", default=None, help=PASSPHRASE_HELP)
@click.option(
    "--sig",
    "sig_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Signature file to write (default: FILE.sig).",
)
@handle_errors
def sign(file: Path, key_file: Path, passphrase_env: str | None, sig_file: Path | None) -> None:
    """Sign an evidence bundle or a results.json: write a detached signature FILE.sig.

    The signature covers every byte of FILE (for a bundle: the whole archive, manifest included,
    and also the manifest's list of files, so that `verify` can name a file that changed).
    """
    from cyberstd.outputs import refuse_inputs
    from cyberstd.signing import (
        SignedFile,
        load_private_key,
        sign_file,
        signature_path,
        write_signature,
    )

    refuse_inputs(sig_file or signature_path(file), [file, key_file], "--sig")
    key = load_private_key(key_file, _passphrase(passphrase_env))
    kind = _kind(file)
    if kind == "bundle":
        from cyberstd.bundle import signed_contents

        manifest_sha, entries = signed_contents(file)
        files = tuple(SignedFile(e.path, e.sha256, e.size) for e in entries)
        signature = sign_file(file, key, kind, manifest_sha256=manifest_sha, files=files)
    else:
        signature = sign_file(file, key, kind)
    out = write_signature(signature, sig_file or signature_path(file))
    click.echo(f"signed {file} ({kind}, sha256 {signature.sha256})")
    click.echo(f"signer {signature.fingerprint}")
    wrote(out)


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--pubkey",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The signer's public key (KEYFILE.pub).",
)
@click.option(
    "--sig",
    "sig_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Signature file (default: FILE.sig).",
)
@handle_errors
def verify(file: Path, pubkey: Path, sig_file: Path | None) -> None:
    """Verify FILE (a bundle or a results.json) against its signature and the signer's public key.

    For a bundle, also check every file in it against its manifest and against the list of
    files the signature recorded. Exit 0 when everything holds, 1 when anything was changed,
    added, removed or signed by another key, 2 when the file, signature or key cannot be read.
    """
    from cyberstd.bundle import check_bundle, compare_signed, is_bundle
    from cyberstd.signing import load_public_key, read_signature, signature_path, verify_signature

    key = load_public_key(pubkey)
    signature = read_signature(sig_file or signature_path(file))
    failures = verify_signature(file, signature, key)
    if signature.manifest_sha256 is not None and is_bundle(file):
        failures += compare_signed(
            file,
            signature.manifest_sha256,
            [(f.path, f.sha256, f.size) for f in signature.files],
        )
    summary = ""
    if signature.kind == "bundle" or is_bundle(file):
        check = check_bundle(file)
        failures += check.failures()
        if check.manifest is not None:
            m = check.manifest
            summary = (
                f"bundle: {len(m.files)} files match the manifest "
                f"(run {m.run_id}, school {m.school_id}, created {m.created.isoformat()})"
            )
    if failures:
        _say(f"verification FAILED: {file}", err=True)
        for line in failures:
            _say(f"  - {line}", err=True)
        sys.exit(ExitCode.GAPS)
    _say(f"verified {file} ({signature.kind})")
    _say(f"  signer:    {signature.fingerprint} ({signature.algorithm})")
    _say(f"  signed at: {signature.signed_at} by cyberstd {signature.tool_version}")
    _say(f"  sha256:    {signature.sha256} ({signature.size} bytes)")
    if summary:
        _say(f"  {summary}")


def _say(line: str, err: bool = False) -> None:
    """One line of verify's report: a name from the archive or the signature (someone else's
    text) cannot clear the screen, move the cursor or reorder what is read."""
    from cyberstd.report.escape import visible

    click.echo(visible(line), err=err)


COMMANDS: list[click.Command] = [keygen, sign, verify]
