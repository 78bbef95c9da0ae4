"""benchmarks/critic_modes.py: the local maxima of a critic's action landscape, and the sampler's regret."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch as th

from sb3_lql.common.langevin import autograd_value_and_grad
from sb3_lql.envs.bandit import BanditLandscape
from tests.conftest import benchmark_script, tiny_kwargs

critic_modes = benchmark_script("critic_modes")


def _bandit_maxima(sigma: float, starts: int = 256) -> list:
    landscape = BanditLandscape()
    energy = autograd_value_and_grad(lambda actions, level: landscape.smoothed_reward(actions, sigma))
    generator = th.Generator().manual_seed(0)
    # float64: the bumps' tails (exp(-d²/2w²) with w = 0.12) underflow in float32 far from every mode
    th.set_default_dtype(th.float64)
    try:
        return critic_modes.find_maxima(energy, 1, 2, None, starts, 1000, 0.05, generator)
    finally:
        th.set_default_dtype(th.float32)


def test_ascent_finds_every_mode_of_the_bandit_and_ranks_them_by_height():
    (maxima,) = _bandit_maxima(sigma=0.0)
    landscape = BanditLandscape()
    assert maxima.stopped == 1.0
    assert len(maxima.values) == len(landscape.modes)
    heights = sorted((mode[2] for mode in landscape.modes), reverse=True)
    # each bump's peak is its height (the others' tails add almost nothing at 0.12 width and >= 0.6 apart)
    np.testing.assert_allclose(maxima.values, heights, atol=1e-3)
    by_height = sorted(landscape.modes, key=lambda mode: -mode[2])
    np.testing.assert_allclose(maxima.centres, [mode[:2] for mode in by_height], atol=2e-3)
    assert maxima.counts.sum() == 256
    assert maxima.gap == pytest.approx((heights[0] - heights[1]) / maxima.spread, rel=1e-2)


def test_smoothing_the_bandit_merges_its_modes():
    counts = [len(_bandit_maxima(sigma)[0].values) for sigma in (0.0, 0.3, 0.5)]
    assert counts == [6, 4, 1]  # at σ = 0.5 the six bumps (0.12 wide, 0.6-0.85 apart) are one hill


def test_a_maximum_on_the_boundary_is_reached_along_the_face():
    # Q(a) = 10·a₀ - (a₁ - 0.3)²: the maximum (1, 0.3) lies on the face a₀ = 1, and the gradient there points
    # mostly out of the box; without projecting it, the steps along the face would be ~1/10 as long.
    energy = autograd_value_and_grad(lambda actions, level: 10 * actions[:, 0] - (actions[:, 1] - 0.3) ** 2)
    starts = th.tensor([[0.0, -0.9], [-0.5, 0.9], [0.9, -1.0]])
    ends, _, stopped = critic_modes.climb(energy, starts, None, 1000)
    assert bool(stopped.all())
    np.testing.assert_allclose(ends.numpy(), [[1.0, 0.3]] * 3, atol=1e-3)


def test_ascents_that_did_not_stop_are_in_no_maximum():
    ends = np.array([[0.0, 0.0], [0.01, 0.0], [0.5, 0.5]])
    maxima = critic_modes.group_maxima(ends, np.array([1.0, 0.9, 2.0]), np.array([True, True, False]), 0.05, 1.0)
    assert maxima.values.tolist() == [1.0]
    assert maxima.counts.tolist() == [2]
    assert maxima.stopped == pytest.approx(2 / 3)
    assert np.isnan(maxima.gap)


def test_the_script_reports_every_level_and_the_sampler_never_beats_the_best_maximum(tmp_path, algo, capsys):
    model = algo("MlpPolicy", "Pendulum-v1", seed=0, **tiny_kwargs(algo))
    model.learn(200)
    model.save(tmp_path / "model.zip")
    name = algo.__name__.lower()
    critic_modes.main(
        [f"{name}:Pendulum-v1:{tmp_path / 'model.zip'}", "--states", "4", "--every", "3", "--starts", "32"]
    )
    out = capsys.readouterr().out
    levels = [line for line in out.splitlines() if line.startswith(f"| {name} ") and ("σ" in line or "plain" in line)]
    assert len(levels) == (model.n_noise_levels if name == "nclql" else 1)
    regrets = [line.split(" | ") for line in out.splitlines() if " | greedy | " in line or " | stochastic | " in line]
    assert len(regrets) == 2
    for row in regrets:
        # the ascent's best maximum is at least as high as any action the sampler draws (1-D: it finds them all)
        assert float(row[2]) >= -1e-3 and float(row[3]) >= -1e-3
    with pytest.raises(SystemExit):
        critic_modes.main([f"sac:Pendulum-v1:{tmp_path / 'model.zip'}"])
    assert re.search(r"ALGO:ENV_ID:PATH with ALGO one of \['lql', 'nclql'\]", capsys.readouterr().err)
