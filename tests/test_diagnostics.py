"""Per-level critic diagnostics on the bandit: each level against its closed-form smoothed landscape."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from sb3_lql import LQL, NCLQL
from sb3_lql.envs.diagnostics import CriticLandscapeCallback, critic_level_fits, landscape_fit
from tests.conftest import TINY_SAMPLER


def test_landscape_fit_measures_shape_and_ignores_an_offset():
    target = np.random.default_rng(0).normal(size=(20, 20))
    assert landscape_fit(target, target) == pytest.approx((1.0, 0.0))
    assert landscape_fit(3.0 + target, target) == pytest.approx((1.0, 0.0))  # an offset Langevin cannot see
    assert landscape_fit(-target, target)[0] == pytest.approx(-1.0)
    correlation, error = landscape_fit(2.0 * target, target)  # the right shape at twice the scale
    assert correlation == pytest.approx(1.0) and error == pytest.approx(target.std())
    assert landscape_fit(np.zeros((20, 20)), target) == (0.0, pytest.approx(target.std()))


def test_a_critic_that_is_the_closed_form_fits_it_exactly():
    """Plug the closed-form landscapes in as the critic: every level fits with correlation 1 and no error."""
    env = gym.make("MultimodalBandit-v0")
    model = NCLQL("MlpPolicy", env, n_noise_levels=4, sigma_max=0.3, sigma_min=0.03, reward_scale=0.5)
    landscape = env.unwrapped.landscape
    sigmas = [*model.sampler.sigmas[:-1], 0.0]

    def closed_form(features, actions, levels=None):
        values = landscape.smoothed_reward(actions.double(), sigmas[levels]).float()
        return 0.5 * values.expand(model.critic.n_critics, -1)

    model.critic.q_values = closed_form  # type: ignore[method-assign]
    fits = critic_level_fits(model, landscape, bins=30)
    assert [fit.level for fit in fits] == [0, 1, 2, 3] and [fit.sigma for fit in fits] == pytest.approx(sigmas)
    assert all(fit.correlation == pytest.approx(1.0, abs=1e-6) and fit.error < 1e-6 for fit in fits)
    # and a level compared with another level's landscape does not
    sigmas.reverse()
    assert min(fit.correlation for fit in critic_level_fits(model, landscape, bins=30)) < 0.9


@pytest.mark.parametrize("algo", [LQL, NCLQL], ids=["LQL", "NCLQL"])
def test_the_callback_logs_every_level_as_training_goes(algo):
    env = gym.make("MultimodalBandit-v0")
    model = algo("MlpPolicy", env, seed=0, learning_starts=50, batch_size=32, learning_rate=1e-3,
                 policy_kwargs=dict(net_arch=[32, 32]), **TINY_SAMPLER[algo])  # fmt: skip
    callback = CriticLandscapeCallback(env.unwrapped.landscape, eval_freq=100, bins=20)
    model.learn(300, callback=callback)
    assert [steps for steps, _ in callback.history] == [100, 200, 300]
    names = ["plain"] if algo is LQL else [f"level_{level}" for level in range(3)]
    for name in names:
        assert -1.0 <= model.logger.name_to_value[f"critic/{name}_correlation"] <= 1.0
        assert model.logger.name_to_value[f"critic/{name}_error"] >= 0.0
    first, last = callback.history[0][1][-1], callback.history[-1][1][-1]
    assert (first.correlation, first.error) != (last.correlation, last.error)  # measured on the live critic
