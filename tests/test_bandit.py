"""The multimodal bandit, its exact Boltzmann reference and the sampler metrics."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.env_checker import check_env

from sb3_lql import NCLQL
from sb3_lql.envs import BanditLandscape, MultimodalBandit
from sb3_lql.envs.reference import (
    boltzmann_grid,
    histogram,
    mode_coverage,
    mode_masses,
    sample_exact,
    score_samples,
    total_variation,
)


def test_registered_env_pays_the_landscape():
    env = gym.make("MultimodalBandit-v0")
    check_env(env.unwrapped)
    landscape = env.unwrapped.landscape
    for x, y, height in landscape.modes:
        env.reset(seed=0)
        _, reward, terminated, truncated, _ = env.step(np.array([x, y], dtype=np.float32))
        assert reward == pytest.approx(height, abs=1e-3) and terminated and not truncated
    env.reset()
    _, far, _, _, _ = env.step(np.array([1.0, 0.0], dtype=np.float32))
    assert far < 0.01
    custom = gym.make("MultimodalBandit-v0", modes=[(0.5, 0.5, 2.0)], width=0.2, floor=-1.0)
    custom.reset()
    _, reward, _, _, _ = custom.step(np.array([0.5, 0.5], dtype=np.float32))
    assert reward == pytest.approx(1.0)


def test_render_shows_the_landscape_and_the_last_action():
    env = gym.make("MultimodalBandit-v0", render_mode="rgb_array")
    env.reset(seed=0)
    env.step(np.array([0.0, 0.0], dtype=np.float32))
    image = env.render()
    assert image.shape == (128, 128, 3) and image.dtype == np.uint8
    assert tuple(image[64, 64]) == (255, 0, 0)  # the action (0, 0) sits in the middle
    assert image[10, 100].tolist() == [image[10, 100, 0]] * 3  # elsewhere grey


def test_vectorised_reward_matches_the_env_and_has_gradients():
    landscape = BanditLandscape()
    grid = np.random.default_rng(0).uniform(-1, 1, size=(4, 5, 2))
    rewards = landscape.reward_numpy(grid)
    assert rewards.shape == (4, 5)
    env = MultimodalBandit()
    assert env.step(grid[1, 2])[1] == pytest.approx(rewards[1, 2])
    actions = th.zeros(3, 2, requires_grad=True)
    landscape.reward(actions + 0.05).sum().backward()
    assert actions.grad is not None and th.all(actions.grad < 0)  # the centre mode pulls back towards (0, 0)


@pytest.mark.parametrize("bad", [dict(modes=[]), dict(modes=[(0.0, 0.0)]), dict(width=0.0)])
def test_bad_landscape(bad):
    with pytest.raises(ValueError, match=r"`modes`|`width`"):
        MultimodalBandit(**bad)


def test_boltzmann_grid_matches_a_closed_form():
    """r(a) = c·a_x: p(x) ∝ exp(w·c·x) on [-1, 1], so a column's mass is a difference of exponentials."""
    w, c, bins = 3.0, 0.7, 40

    def linear(actions: th.Tensor) -> th.Tensor:
        return c * actions[..., 0]

    probs = boltzmann_grid(linear, w, bins)
    edges = np.linspace(-1, 1, bins + 1)
    k = w * c
    exact = (np.exp(k * edges[1:]) - np.exp(k * edges[:-1])) / (np.exp(k) - np.exp(-k))
    np.testing.assert_allclose(probs.sum(axis=1), exact, rtol=2e-3)
    np.testing.assert_allclose(probs.sum(axis=0), np.full(bins, 1 / bins), rtol=1e-9)


def test_metrics_on_exact_and_single_mode_samples():
    landscape, w = BanditLandscape(), 5.0
    exact = score_samples(sample_exact(landscape, w, 50_000, seed=1), landscape, w, bins=25)
    assert exact.tv < 0.05 and exact.coverage == 1.0
    rng = np.random.default_rng(0)
    one_mode = np.clip(landscape.centres[0] + 0.05 * rng.standard_normal((10_000, 2)), -1, 1)
    single = score_samples(one_mode, landscape, w, bins=25)
    target_modes = (mode_masses(boltzmann_grid(landscape.reward, w, 25), landscape.centres) >= 0.05).sum()
    assert single.coverage == pytest.approx(1 / target_modes)
    assert single.tv > 0.5
    assert single.reward_mean == pytest.approx(landscape.reward_numpy(one_mode).mean())


def test_total_variation_and_coverage_basics():
    p = np.array([[0.5, 0.5], [0.0, 0.0]])
    q = np.array([[0.0, 0.5], [0.5, 0.0]])
    assert total_variation(p, p) == 0.0 and total_variation(p, q) == pytest.approx(0.5)
    centres = np.array([[-0.5, -0.5], [0.5, 0.5]])
    assert mode_coverage(np.array([[1.0, 0.0], [0.0, 0.0]]), np.array([[0.5, 0.0], [0.0, 0.5]]), centres) == 0.5
    samples = np.array([[-0.9, -0.9], [0.9, 0.9], [0.9, 0.8], [0.1, 0.9]])
    assert histogram(samples, bins=2).tolist() == [[0.25, 0.0], [0.0, 0.75]]


def test_nclql_trains_on_the_bandit_with_mala_logged(tmp_path):
    from stable_baselines3.common.logger import configure

    model = NCLQL(
        "MlpPolicy", "MultimodalBandit-v0", learning_starts=32, batch_size=32, metropolis=True, normalize_grad=False,
        inverse_temperature=5.0, step_size=1e-3, n_noise_levels=3, langevin_steps_per_level=2,
        policy_kwargs=dict(net_arch=[32, 32]), seed=0,
    )  # fmt: skip
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(64, log_interval=16)
    header = (tmp_path / "progress.csv").read_text().splitlines()[0].split(",")
    assert "train/acceptance_rate" in header
    assert 0.0 < model.logger.name_to_value.get("train/acceptance_rate", 0.5) <= 1.0


def test_bandit_example_writes_its_figures_and_table(tmp_path):
    script = Path(__file__).parents[1] / "examples" / "bandit.py"
    out = tmp_path / "figures"
    result = subprocess.run(
        [sys.executable, str(script), "--timesteps", "120", "--learning-starts", "100", "--out", str(out)],
        capture_output=True, text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    for name in ("fig2_critics.png", "fig3_temperatures.png", "fig4_samples.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = (out / "results.md").read_text()
    for algo in ("LQL", "NCLQL", "SAC", "TD3"):
        assert f"| {algo} |" in table
    assert str(out) in result.stdout
