"""Fixtures of the collector tests: a local Graph server, the environment that points at it,
a school folder, and no proxy in the way."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cyberstd.collect.graph import ENV_CLIENT, ENV_GRAPH, ENV_LOGIN, ENV_SECRET, ENV_TENANT
from cyberstd.scaffold import scaffold
from tests.collect.graph_server import (
    CLIENT_ID,
    CLIENT_SECRET,
    TENANT,
    GraphHTTPServer,
    graph_server,
)


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def graph() -> Iterator[GraphHTTPServer]:
    with graph_server() as server:
        yield server


@pytest.fixture
def env(graph: GraphHTTPServer) -> dict[str, str]:
    return {
        ENV_TENANT: TENANT,
        ENV_CLIENT: CLIENT_ID,
        ENV_SECRET: CLIENT_SECRET,
        ENV_LOGIN: graph.base,
        ENV_GRAPH: graph.base + "/v1.0",
    }


@pytest.fixture
def school(tmp_path: Path) -> Path:
    folder = tmp_path / "school"
    scaffold(folder, "Sint-Voorbeeld")
    return folder
