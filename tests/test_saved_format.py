"""Models saved by an earlier version load and act as they did: the saved-model format is part of the API.

The fixtures in ``tests/data`` were written by ``tests/data/make_saved_models.py``: format 1 at sb3-lql 0.1.0
(one ``nn.Sequential`` per Q network), format 2 at 0.2.0 (one stacked ensemble).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from stable_baselines3.common.logger import configure

from tests.data.make_saved_models import SETTINGS, probe

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("suffix", ["format1", "format2"])
def test_saved_models_load_and_act_as_when_saved(algo, suffix):
    name = f"{algo.__name__.lower()}_{suffix}"
    expected = np.load(DATA / f"{name}.npz")
    model = algo.load(DATA / f"{name}.zip")
    model.load_replay_buffer(DATA / f"{name}_buffer.pkl")
    model.set_logger(configure(None, [""]))
    for setting, value in SETTINGS[algo].items():
        assert getattr(model, setting) == value, setting
    got = probe(model)  # predicts, then resumes training (the optimiser state came from the file too)
    # Same computation up to float32 summation order.
    np.testing.assert_allclose(got["deterministic"], expected["deterministic"], atol=1e-5)
    np.testing.assert_allclose(got["stochastic"], expected["stochastic"], atol=1e-5)
    np.testing.assert_allclose(got["values"], expected["values"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["values_after_train"], expected["values_after_train"], rtol=1e-4, atol=1e-5)
    assert not np.allclose(got["values_after_train"], expected["values"])  # the two updates did move the critic
