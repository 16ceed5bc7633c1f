"""web.privacy-statement: the home page links to a privacy statement that can be opened."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from pydantic import Field, field_validator

from cyberstd.errors import ProbeError
from cyberstd.messages import msg
from cyberstd.probes.web.common import KB, inert, quoted, same_host
from cyberstd.probes.web.fetching import DEFAULT_PORTS, Visit, home_page, visit
from cyberstd.registry import ProbeContext, ProbeParams, Target, probe
from cyberstd.results import FindingStatus, ProbeOutcome

PRIVACY_WORDS = (
    "privacy",
    "privacyverklaring",
    "privacybeleid",
    "privacyreglement",
    "privacy statement",
    "privacy policy",
    "gegevensbescherming",
    "persoonsgegevens",
    "data protection",
    "avg",
    "gdpr",
)
# Links collected from one page at most, and characters of link text kept per link.
MAX_LINKS = 5000
MAX_LINK_TEXT = 300
MAX_EVIDENCE_LINKS = 10
_NON_WORD = re.compile(r"[^0-9a-zà-ÿ]+")


def _normalise(text: str) -> str:
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())


@dataclass
class PageLink:
    """One link of a page: its href as written, its text, and how it was marked up."""

    href: str
    text: str
    rel_privacy_policy: bool = False


class LinkCollector(HTMLParser):
    """Collects the links of an HTML page (<a href> with their text, <link rel=privacy-policy>,
    <base href>) with the standard library's tolerant parser: script and style content never
    counts as link text, and the number of links and the text per link are bounded.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[PageLink] = []
        self.base_href: str | None = None
        self._open: PageLink | None = None
        self._text: list[str] = []
        self._text_size = 0
        self._in_raw = 0

    def _finish(self) -> None:
        if self._open is not None and len(self.links) < MAX_LINKS:
            self._open.text = " ".join(" ".join(self._text).split())[:MAX_LINK_TEXT]
            self.links.append(self._open)
        self._open = None
        self._text = []
        self._text_size = 0

    def _add_text(self, text: str) -> None:
        if self._open is not None and self._text_size < MAX_LINK_TEXT:
            self._text.append(text[:MAX_LINK_TEXT])
            self._text_size += len(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values: dict[str, str] = {}
        for name, value in attrs:
            values.setdefault(name, value or "")
        if tag in ("script", "style", "template"):
            self._in_raw += 1
        elif tag == "a":
            self._finish()  # an <a> inside an <a> ends the first one, as browsers do
            if "href" in values:
                self._open = PageLink(href=values["href"], text="")
                self._add_text(values.get("aria-label", ""))
                self._add_text(values.get("title", ""))
        elif tag == "img":
            self._add_text(values.get("alt", ""))
        elif tag == "base" and self.base_href is None and "href" in values:
            self.base_href = values["href"]
        elif (
            tag == "link"
            and "href" in values
            and "privacy-policy" in values.get("rel", "").lower().split()
            and len(self.links) < MAX_LINKS
        ):
            self.links.append(PageLink(values["href"], "", rel_privacy_policy=True))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template"):
            self._in_raw = max(self._in_raw - 1, 0)
        elif tag == "a":
            self._finish()

    def handle_data(self, data: str) -> None:
        if not self._in_raw:
            self._add_text(data)

    def close(self) -> None:
        super().close()
        self._finish()


def page_links(html: str) -> tuple[list[PageLink], str | None]:
    """The links of an HTML page and its <base href>, if any."""
    collector = LinkCollector()
    collector.feed(html)
    collector.close()
    return collector.links, collector.base_href


def _word_in(words: Sequence[str], text: str) -> str | None:
    """The longest of `words` found in `text`: short words (4 letters or fewer, such as AVG)
    only as a whole word, longer ones anywhere (so "privacy" also finds "privacyverklaring")."""
    normal = f" {_normalise(text)} "
    for word in sorted(words, key=len, reverse=True):
        wanted = _normalise(word)
        if not wanted:
            continue
        if (f" {wanted} " in normal) if len(wanted) <= 4 else (wanted in normal):
            return word
    return None


# How a privacy link was recognised, most telling first.
_RANK = {"rel": 0, "text": 1, "href": 2}


@dataclass(frozen=True)
class _Candidate:
    url: str
    text: str
    href: str
    matched: str
    by: str  # "text", "href" or "rel"
    same_host: bool

    def evidence(self) -> dict[str, Any]:
        return {
            "text": inert(self.text, 200),
            "href": inert(self.href, 300),
            "url": inert(self.url, 300),
            "matched": self.matched,
            "by": self.by,
            "same_host": self.same_host,
        }


def privacy_links(
    links: Sequence[PageLink], base_url: str, host_name: str, words: Sequence[str]
) -> list[_Candidate]:
    """Links that look like a privacy statement, best first: found by rel, then by text, then
    by address; each URL once. Only http(s) links count (not mailto:, javascript: ...)."""
    found: dict[str, _Candidate] = {}
    for link in links:
        try:
            url = urldefrag(urljoin(base_url, link.href.strip())).url
            parts = urlsplit(url)
            if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname:
                continue
        except ValueError:
            continue
        if link.rel_privacy_policy:
            matched, by = "privacy-policy", "rel"
        elif (word := _word_in(words, link.text)) is not None:
            matched, by = word, "text"
        elif (word := _word_in(words, unquote(f"{parts.path} {parts.query}"))) is not None:
            matched, by = word, "href"
        else:
            continue
        candidate = _Candidate(
            url, link.text, link.href, matched, by, same_host(parts.hostname, host_name)
        )
        current = found.get(url)
        if current is None or _RANK[by] < _RANK[current.by]:
            found[url] = candidate
    return sorted(found.values(), key=lambda c: _RANK[c.by])


class PrivacyStatementParams(ProbeParams):
    link_words: tuple[str, ...] = Field(
        default=PRIVACY_WORDS,
        min_length=1,
        description="Words that mark a link to the privacy statement, in its text or address "
        "(case-insensitive; words of 4 letters or fewer only as whole words).",
    )
    max_page_kb: int = Field(
        default=1024, ge=16, le=8192, description="Read at most this much of the home page."
    )

    @field_validator("link_words")
    @classmethod
    def _words(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not _normalise(word) for word in value):
            raise ValueError("every link word needs at least one letter or digit")
        return value


@probe("web.privacy-statement", params=PrivacyStatementParams, role="website", budget=5.0)
def privacy_statement(
    target: Target, params: PrivacyStatementParams, ctx: ProbeContext
) -> ProbeOutcome:
    """The home page links to a privacy statement that can be opened (GDPR/AVG transparency).

    Requests https://<host>/ (the HTTPS port, default 443), follows at most one redirect on
    the same host name, reads at most `max_page_kb` of the page and parses its HTML. A link
    counts when its text (with its title, aria-label or image alt text) or its address
    contains one of `link_words` (Dutch and English: privacy, privacyverklaring,
    privacybeleid, gegevensbescherming, persoonsgegevens, privacy statement, privacy policy,
    AVG, GDPR ...), or when it is a <link rel="privacy-policy">. The best link on the same
    host name is then requested (one redirect on that host followed) and must answer 200.
    Links to another host, such as the privacy statement of the school board, are listed in
    evidence but not requested: they may lie outside the authorised scope.

    Pass: a link on the same host answers 200, or the only privacy links go to other hosts
    (with a warning that they were not checked).
    Fail: the home page has no such link, or the link answers anything but 200 (a dead link).
    When the home page itself does not answer 200, or redirects to another host, the check
    cannot judge and reports an error.

    Parameters: `link_words` (default above), `max_page_kb` (default 1024).
    Evidence: `url`, `status` (and `redirected_to`, `final_status`), `page_bytes_read`,
    `page_truncated`, `links_on_page`, `candidates` (text, href, url, matched word, how, same
    host), `checked` (the link requested and its answer), `other_hosts`.
    """
    home = home_page(target, ctx, body_limit=params.max_page_kb * KB)
    page = home.final
    if home.not_followed is not None and home.ends_in_redirect:
        raise ProbeError(
            msg(
                "web.privacy-statement.home-redirects",
                url=home.first.url,
                to=home.not_followed.said,
            )
        )
    if page.status != 200:
        raise ProbeError(
            msg(
                "web.privacy-statement.home-status",
                url=page.url,
                status=page.status,
                reason=inert(page.reason, 100),
            )
        )
    links, base_href = page_links(page.text())
    base_url = page.url
    if base_href:
        try:
            base_url = urljoin(page.url, base_href.strip())
        except ValueError:
            base_url = page.url
    candidates = privacy_links(links, base_url, target.name, params.link_words)
    evidence = home.evidence()
    evidence.update(
        page_bytes_read=len(page.body),
        page_truncated=page.body_truncated,
        links_on_page=len(links),
        candidates=[c.evidence() for c in candidates[:MAX_EVIDENCE_LINKS]],
    )
    others = [c for c in candidates if not c.same_host]
    evidence["other_hosts"] = [inert(c.url, 300) for c in others[:MAX_EVIDENCE_LINKS]]
    own = [c for c in candidates if c.same_host]
    if not candidates:
        if page.body_truncated:
            none = msg(
                "web.privacy-statement.no-link-truncated", url=page.url, kb=params.max_page_kb
            )
        else:
            none = msg("web.privacy-statement.no-link", url=page.url)
        return ProbeOutcome.said(FindingStatus.FAIL, none, evidence)
    if not own:
        return ProbeOutcome.said(
            FindingStatus.PASS,
            msg("web.privacy-statement.other-host", url=inert(others[0].url, 300)),
            evidence,
            warnings=[msg("web.privacy-statement.other-host-not-requested")],
        )
    chosen = own[0]
    if urldefrag(chosen.url).url == page.url:
        checked = Visit((page,))  # a link to a part of the home page itself
    else:
        checked = visit(target, ctx, chosen.url)
    evidence["checked"] = {"link": chosen.evidence(), **checked.evidence()}
    label = f"{quoted(chosen.text or chosen.href, 80)} ({inert(chosen.url, 300)})"
    final = checked.final
    if final.status == 200:
        return ProbeOutcome.said(
            FindingStatus.PASS, msg("web.privacy-statement.ok", link=label), evidence
        )
    if checked.not_followed is not None and checked.ends_in_redirect:
        return ProbeOutcome.said(
            FindingStatus.PASS,
            msg("web.privacy-statement.redirects", link=label),
            evidence,
            warnings=[msg("web.privacy-statement.link-redirects", to=checked.not_followed.said)],
        )
    return ProbeOutcome.said(
        FindingStatus.FAIL,
        msg(
            "web.privacy-statement.dead",
            link=label,
            status=final.status,
            reason=inert(final.reason, 100),
        ),
        evidence,
    )
