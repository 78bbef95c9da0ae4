"""A non-finite reward, observation or learning rate never reaches the critic's weights, and never silently."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.logger import configure

from sb3_lql import NCLQL
from tests.conftest import tiny_kwargs


class NaNRewardPendulum(gym.Wrapper):
    """Pendulum whose reward is NaN at the listed steps (counted over the wrapper's life)."""

    def __init__(self, nan_steps: set[int] | None = None, every: bool = False):
        super().__init__(gym.make("Pendulum-v1"))
        self.nan_steps, self.every, self.t = nan_steps or set(), every, 0

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.t += 1
        if self.every or self.t in self.nan_steps:
            reward = float("nan")
        return obs, reward, terminated, truncated, info


def all_finite(model) -> bool:
    return all(th.isfinite(p).all() for p in [*model.critic.parameters(), *model.critic_target.parameters()])


def test_one_nan_reward_is_skipped_counted_and_reported(algo, tmp_path):
    model = algo("MlpPolicy", NaNRewardPendulum({5}), seed=0, **tiny_kwargs(algo))
    model.set_logger(configure(str(tmp_path), ["csv"]))
    with pytest.warns(UserWarning, match=r"non-finite loss.*Likely cause: 1 transition\(s\).*non-finite rewards"):
        model.learn(400)
    assert all_finite(model)  # the updates with the NaN in their batch were skipped, the others trained
    skipped = model.logger.name_to_value["train/nonfinite_updates"]
    assert 0 < skipped < model._n_updates
    assert np.isfinite(model.predict(np.zeros(3, np.float32), deterministic=True)[0]).all()


def test_persistent_nan_rewards_stop_the_run_loudly(algo):
    model = algo("MlpPolicy", NaNRewardPendulum(every=True), seed=0, **tiny_kwargs(algo))
    with pytest.raises(RuntimeError, match=r"non-finite rewards.*Training stops here"):
        model.learn(100)
    assert all_finite(model)


def test_a_learning_rate_schedule_that_turns_nan_stops_before_the_update(algo):
    def schedule(progress: float) -> float:  # finite at both ends, NaN in the middle of the run
        return 1e-3 if progress in (0.0, 1.0) or progress > 0.5 else float("nan")

    model = algo("MlpPolicy", "Pendulum-v1", seed=0, **tiny_kwargs(algo, learning_rate=schedule))
    with pytest.raises(ValueError, match="`learning_rate` gave nan"):
        model.learn(60)
    assert all_finite(model)


def test_non_fused_optimisers_skip_too(tmp_path):
    kwargs = tiny_kwargs(NCLQL)
    kwargs["policy_kwargs"] = dict(net_arch=[16, 16], optimizer_kwargs=dict(foreach=False))
    model = NCLQL("MlpPolicy", NaNRewardPendulum({5}), seed=0, **kwargs)
    assert not model.critic.optimizer.defaults["fused"]
    with pytest.warns(UserWarning, match="non-finite loss"):
        model.learn(400)
    assert all_finite(model)
