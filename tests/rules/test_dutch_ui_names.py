"""The Dutch texts of the vendor checks name the vendor's English menus and settings as the
names they are, in quotes ('Administration > Device access'), so that a reader sees a label
to look for on the screen, not a half-English sentence."""

from __future__ import annotations

import re
from typing import Any

import pytest

from cyberstd.catalog import Catalog

# The checks of the vendor exports whose consoles speak English only.
VENDORS = ("sophos.", "meraki.", "unifi.", "fortiap.")
# A menu path (two or more labels joined by " > ") or a setting followed by its value.
MENU_PATH = re.compile(r"[A-Za-z][\w&/ -]*? > [A-Za-z]")
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`")


def _dutch(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["nl"]] if isinstance(node.get("nl"), str) else []
        return found + [t for k, v in node.items() if k != "nl" for t in _dutch(v)]
    if isinstance(node, list):
        return [t for v in node for t in _dutch(v)]
    return []


def _unquoted_paths(text: str) -> list[str]:
    # an apostrophe inside a word (VLAN's) is no quote
    bare = QUOTED.sub(" ", re.sub(r"(?<=\w)'(?=\w)", "", text))
    return MENU_PATH.findall(bare)


def test_the_detector_tells_a_quoted_menu_from_a_bare_one() -> None:
    assert _unquoted_paths("via Administration > Device access") != []
    assert _unquoted_paths("via 'Administration > Device access' of VLAN's") == []


@pytest.mark.parametrize("prefix", VENDORS)
def test_vendor_menus_in_dutch_texts_are_quoted(catalog: Catalog, prefix: str) -> None:
    bad = {
        cid: paths
        for cid, check in catalog.checks.items()
        if cid.startswith(prefix)
        for paths in [
            [p for text in _dutch(check.model_dump(mode="python")) for p in _unquoted_paths(text)]
        ]
        if paths
    }
    assert not bad, bad
