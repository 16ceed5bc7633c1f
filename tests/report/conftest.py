"""Results to render (the demo school's configuration-only scan, a mini scan with an error and a
control not applicable, hostile text) and a small HTML tree to query what a report shows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from cyberstd.cli import main
from cyberstd.lab.timeshift import DEMO_DAY
from cyberstd.results import ErrorReason, FindingStatus, Results
from tests.conftest import REPO, SCHOOL_YAML, write_mini_catalog

DEMO = REPO / "examples" / "demo-school"

LONG = "Z" * 100_000
HOSTILE = {
    "script": "<script>alert(1)</script>",
    "img": "<img src=x onerror=alert(1)>",
    "formula": '=HYPERLINK("http://x")',
    "ansi": "\x1b[31mred\x1b[0m",
    "bidi": "evil\u202etxt.exe",
    "close": "</pre></details></article><script>alert(2)</script>",
    "long": LONG,
}


def scan(root: Path, school: Path, out: Path, *extra: str) -> Results:
    """Scan a school folder through the command line and read its results.json back."""
    args = ["--root", str(root), "scan", str(school), "--out", str(out), "-q", *extra]
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (0, 1, 3), result.output
    return Results.model_validate_json((out / "results.json").read_text())


@pytest.fixture(scope="session")
def demo_scan(tmp_path_factory: pytest.TempPathFactory) -> Results:
    """The demo school judged on its configuration exports only (no network)."""
    out = tmp_path_factory.mktemp("demo-scan")
    return scan(REPO, DEMO, out, "--profile", "ci-baseline", "--as-of", DEMO_DAY.isoformat())


@pytest.fixture
def demo_results(demo_scan: Results) -> Results:
    """A copy of the demo scan that a test may change."""
    return demo_scan.model_copy(deep=True)


@pytest.fixture
def mini_results(tmp_path: Path) -> Results:
    """Mini framework: A1 passes, A2's probe ends in error, B1 fails, B2 is not applicable."""
    root = write_mini_catalog(
        tmp_path / "catalog",
        {
            "A1": (["mini.ok"], "never"),
            "A2": (["mini.broken"], "never"),
            "B1": (["mini.bad"], "never"),
            "B2": ([], "always"),
        },
    )
    folder = tmp_path / "school"
    folder.mkdir()
    na = "not_applicable:\n  - control: B2\n    reason: The school runs no servers of its own.\n"
    (folder / "school.yaml").write_text(SCHOOL_YAML + na)
    return scan(root, folder, tmp_path / "out")


@pytest.fixture
def hostile_results(demo_results: Results) -> Results:
    """The demo scan with text from a hostile network in every place a report shows it."""
    r = demo_results
    joined = " ".join(v for k, v in HOSTILE.items() if k != "long")
    r.school.name = f"{HOSTILE['script']} {HOSTILE['ansi']} School"
    finding = next(f for f in r.findings if f.status is FindingStatus.FAIL)
    finding.message = joined
    finding.target = HOSTILE["img"]
    finding.warning = HOSTILE["formula"]
    finding.evidence = {**HOSTILE, "headers": {"Server": HOSTILE["img"], "X-Long": LONG}}
    broken = next(f for f in r.findings if f.status is FindingStatus.PASS)
    broken.status = FindingStatus.ERROR
    broken.error_reason = ErrorReason.PROTOCOL
    broken.message = HOSTILE["script"]
    broken.error_detail = HOSTILE["close"] + LONG
    attested = next(c for c in r.controls if c.attestation is not None)
    assert attested.attestation is not None
    attested.attestation.explanation = joined + LONG
    attested.attestation.attested_by = HOSTILE["img"]
    waived = next(c for c in r.controls if c.waiver is not None)
    assert waived.waiver is not None
    waived.waiver.reason = joined
    r.run.inputs[HOSTILE["script"]] = HOSTILE["formula"]
    return r


# --------------------------------------------------------------------------- HTML tree

VOID = {"meta", "link", "input", "br", "img", "hr", "source", "wbr", "area", "base", "col"}


@dataclass
class Element:
    """An element of a parsed page: tag, attributes, children (elements and text)."""

    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        """All the text inside, as the reader sees it (entities decoded)."""
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self) -> Iterator[Element]:
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None) -> list[Element]:
        return [
            e
            for e in self.iter()
            if (tag is None or e.tag == tag) and (cls is None or cls in e.classes)
        ]

    def by_id(self, ident: str) -> Element:
        found = [e for e in self.iter() if e.attrs.get("id") == ident]
        assert len(found) == 1, f"{len(found)} elements with id {ident!r}"
        return found[0]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]
        self.doctype = ""

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(el)
        if tag not in VOID:
            self.stack.append(el)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        assert tag not in VOID, f"end tag of void element {tag}"
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(page: str) -> Element:
    """The page as a tree; fails on a tag that is closed out of order (a broken page)."""
    builder = _Builder()
    builder.feed(page)
    builder.close()
    assert builder.stack == [builder.root], [e.tag for e in builder.stack]
    assert builder.doctype.lower() == "doctype html"
    return builder.root
