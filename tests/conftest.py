"""Shared fixtures: tiny model settings so that the non-learning tests stay fast."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch as th

from sb3_lql import LQL, NCLQL

th.set_num_threads(1)  # pytest-xdist runs one worker per core

#: Small networks and short chains: these tests check behaviour, not learning.
TINY: dict[str, Any] = dict(
    learning_starts=20,
    batch_size=16,
    buffer_size=2_000,
    policy_kwargs=dict(net_arch=[16, 16]),
)
TINY_SAMPLER: dict[type, dict[str, Any]] = {
    LQL: dict(langevin_steps=3),
    NCLQL: dict(n_noise_levels=3, langevin_steps_per_level=1),
}


def benchmark_script(name: str) -> ModuleType:
    """:return: ``benchmarks/<name>.py`` loaded as a module (the benchmark scripts are not a package)"""
    path = Path(__file__).resolve().parent.parent / "benchmarks" / f"{name}.py"
    if str(path.parent) not in sys.path:  # run as scripts, they import each other as top-level modules
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def tiny_kwargs(algo: type, **overrides: Any) -> dict[str, Any]:
    """Keyword arguments for a small, fast model of ``algo``, with ``overrides`` on top."""
    return {**TINY, **TINY_SAMPLER[algo], **overrides}


@pytest.fixture(params=[LQL, NCLQL], ids=["LQL", "NCLQL"])
def algo(request: pytest.FixtureRequest) -> type:
    return request.param
