"""Safe YAML loading: every bad input becomes a positioned problem, never a crash."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from cyberstd.errors import InputError
from cyberstd.yamlsrc import MAX_BYTES, load, locate


def problems_of(path: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        load(path)
    return [str(p) for p in info.value.problems]


def test_loads_with_positions(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("a: 1\nb:\n  - x: 2\n    y: [3, 4]\n")
    doc = load(path)
    assert doc.data["b"][0]["y"] == [3, 4]
    assert locate(doc.data, ["b", 0, "y"]) == (4, 8)
    assert locate(doc.data, ["b", 0, "y"], key=True) == (4, 5)
    assert len(doc.sha256) == 64


def test_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("a: 1\nb: [1, 2\nc: 3\n")
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:3:")
    assert "error[yaml-syntax]" in problem


def test_every_duplicate_key_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("a: 1\nb: 2\na: 3\nc:\n  x: 1\n  x: 2\n")
    found = problems_of(path)
    assert found == [
        f"{path}:3:1: error[duplicate-key]: duplicate key 'a' (first defined on line 1)",
        f"{path}:6:3: error[duplicate-key]: duplicate key 'x' (first defined on line 5)",
    ]


def test_billion_laughs_is_refused_fast_and_small(tmp_path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for name in "bcdefghij":
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
        prev = name
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    tracemalloc.start()
    started = time.monotonic()
    [problem] = problems_of(path)
    elapsed = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "error[alias-bomb]" in problem
    # generous bounds: expanding the document would take minutes and gigabytes
    assert elapsed < 5
    assert peak < 50 * 1024 * 1024


def test_recursive_alias(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text("a: &a [1, *a]\n")
    [problem] = problems_of(path)
    assert "error[alias]" in problem


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty"),
        (b"# just a comment\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"name: caf\xe9\n", "encoding"),
    ],
)
def test_unusable_files(tmp_path: Path, content: bytes, code: str) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(content)
    [problem] = problems_of(path)
    assert f"error[{code}]" in problem


def test_non_utf8_points_at_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"a: 1\nname: caf\xe9\n")
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:2:10:")


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"# " + b"x" * MAX_BYTES + b"\n")
    [problem] = problems_of(path)
    assert "error[too-large]" in problem and str(MAX_BYTES) in problem


def test_missing_file(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path / "nope.yaml")
    assert "error[missing-file]" in problem


def test_impossible_date_stays_text_for_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text("date: 2026-02-30\n")
    assert load(path).data["date"] == "2026-02-30"
