"""What the README shows runs as written, and the declared minimum versions are the ones checked."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest

from sb3_lql.versions import MINIMUM_VERSIONS, check_versions, release

ROOT = Path(__file__).resolve().parent.parent
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
#: Training budgets above this are cut to it: the blocks run as written otherwise.
BUDGET = 300


def shorten_budgets(code: str) -> str:
    return re.sub(r"\.learn\(([\d_]+)", lambda m: f".learn({min(int(m.group(1).replace('_', '')), BUDGET)}", code)


def test_the_readme_has_its_python_examples():
    assert len(BLOCKS) >= 2 and all(".learn(" in block for block in BLOCKS)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_block_runs_as_written(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the blocks save models in the working directory
    namespace: dict = {}
    exec(compile(shorten_budgets(BLOCKS[index]), f"README.md python block {index + 1}", "exec"), namespace)
    assert "model" in namespace


def test_declared_minimum_versions_are_the_checked_ones():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    declared = {}
    for line in config["options"]["install_requires"].strip().splitlines():
        match = re.match(r"([A-Za-z0-9_.-]+)(?:\[[^]]*\])?>=([\d.]+)", line.strip())
        if match:
            declared[match.group(1)] = release(match.group(2))
    assert declared == MINIMUM_VERSIONS


@pytest.mark.parametrize("name", list(MINIMUM_VERSIONS))
def test_an_older_dependency_is_named_at_import(name):
    too_old = ".".join(map(str, (*MINIMUM_VERSIONS[name][:-1], MINIMUM_VERSIONS[name][-1] - 1)))
    with pytest.raises(ImportError, match=f"needs {name} >= .* but {name} {too_old}"):
        check_versions(lambda dist: too_old if dist == name else "99.0")
    check_versions(lambda dist: ".".join(map(str, MINIMUM_VERSIONS[dist])) + "+cpu")  # the minimum itself is fine
