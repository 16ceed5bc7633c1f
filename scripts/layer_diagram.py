"""Print the package's layer diagram (Mermaid) from the code itself: the layers of the
import-linter contract in pyproject.toml, and which layer imports which (grimp, the graph
import-linter reads). docs/architecture.md holds its output between two markers; a test keeps
them equal. Run: .venv/bin/python scripts/layer_diagram.py"""

from __future__ import annotations

import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent


def layers() -> list[list[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = config["tool"]["importlinter"]["contracts"]
    return [[m.strip() for m in layer.split(":")] for layer in contract["layers"]]


def diagram() -> str:
    stack = layers()
    layer_of = {m: i for i, layer in enumerate(stack) for m in layer}
    graph = grimp.build_graph("cyberstd", exclude_type_checking_imports=True)
    edges: set[tuple[int, int]] = set()
    for module in graph.modules:
        top = module.split(".")[1] if "." in module else None
        if top not in layer_of:
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            other = imported.split(".")[1] if "." in imported else None
            if other in layer_of and layer_of[other] != layer_of[top]:
                edges.add((layer_of[top], layer_of[other]))
    lines = ["```mermaid", "flowchart TD"]
    for i, layer in enumerate(stack):
        lines.append(f'    L{i}["{" · ".join(layer)}"]')
    for a, b in sorted(edges):
        lines.append(f"    L{a} --> L{b}")
    lines.append("```")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(diagram(), end="")
