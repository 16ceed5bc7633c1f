"""HTML to PDF through headless Chromium: the page printed as the browser prints it, on the
paper its own @page rule asks for (A4 in cyberstd's reports).

The page is written to a temporary folder and opened from there as file://, with a profile of
its own that is thrown away afterwards. Chromium gets no network: every host name resolves to
nothing and every request would go to a proxy on a closed loopback port (the reports' own
Content-Security-Policy forbids fetching anything too). The whole browser, with every process
it started, is stopped after a hard time limit.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from cyberstd.errors import CyberstdError, ExitCode
from cyberstd.i18n import t
from cyberstd.report.escape import inert

# The names Chromium goes by on Debian, Ubuntu and elsewhere, in the order they are looked for.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL = "sudo apt-get install chromium"
TIMEOUT = 120.0  # seconds for the whole browser run
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
    "--no-pdf-header-footer",
)


class PdfError(CyberstdError):
    """The PDF could not be made (no Chromium, a timeout, a failed run); nothing was written."""

    exit_code = ExitCode.INVALID


def find_chromium(names: Sequence[str] = CHROMIUM_NAMES) -> str | None:
    """Where Chromium is, or None when none of `names` is on the PATH (nothing is run)."""
    for name in names:
        found = shutil.which(name)
        if found is not None:
            return found
    return None


def browser_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for Chromium: without a preloaded libfaketime, whose moved clock stalls
    the browser's timers (the page itself reads no date)."""
    out = dict(os.environ if env is None else env)
    for key in [k for k in out if k.startswith("FAKETIME")]:
        del out[key]
    preload = [p for p in out.get("LD_PRELOAD", "").split() if "faketime" not in p]
    if preload:
        out["LD_PRELOAD"] = " ".join(preload)
    else:
        out.pop("LD_PRELOAD", None)
    return out


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Kill the browser and every process it started that still runs (they share its process
    group, a new one of their own)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.communicate(timeout=10)


def print_pdf(
    html: str,
    lang: str = "nl",
    *,
    fragment: str = "",
    timeout: float = TIMEOUT,
    chromium: str | None = None,
) -> bytes:
    """The PDF that Chromium prints of the page `html`; `fragment` (say "#status=partial") is
    added to the page's address, for a page that reads its view from there.

    Raises PdfError, said in `lang`, when Chromium is missing, runs out of time or makes no PDF.
    """
    program = chromium or find_chromium()
    if program is None:
        raise PdfError(t("pdf.no_chromium", lang, names=", ".join(CHROMIUM_NAMES), install=INSTALL))
    with tempfile.TemporaryDirectory(prefix="cyberstd-pdf-") as tmp:
        folder = Path(tmp)
        page = folder / "page.html"
        page.write_text(html, encoding="utf-8")
        out = folder / "page.pdf"
        args = [
            program,
            *FLAGS,
            f"--user-data-dir={folder / 'profile'}",
            f"--print-to-pdf={out}",
            page.as_uri() + fragment,
        ]
        try:
            process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                cwd=folder,
                env=browser_env(),
                start_new_session=True,
            )
        except OSError:  # gone since it was found, or not a program
            raise PdfError(t("pdf.no_chromium", lang, names=program, install=INSTALL)) from None
        try:
            _, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop(process)
            raise PdfError(t("pdf.timeout", lang, seconds=f"{timeout:g}")) from None
        finally:
            _stop(process)  # also what the browser left running (a crash handler, say)
        data = out.read_bytes() if out.is_file() else b""
        if process.returncode != 0 or not data.startswith(b"%PDF-"):
            lines = stderr.decode("utf-8", "replace").strip().splitlines()
            detail = inert(lines[-1] if lines else "no output", 300)
            raise PdfError(t("pdf.failed", lang, code=process.returncode, detail=detail))
        return data
