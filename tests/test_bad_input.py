"""Bad input is refused at construction, with an error that names the argument or space."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

from sb3_lql import LQL, NCLQL
from tests.conftest import tiny_kwargs


class SpaceEnv(gym.Env):
    """A one-step env with a given action space."""

    def __init__(self, action_space: spaces.Space):
        self.observation_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.action_space = action_space

    def reset(self, *, seed=None, options=None):
        return np.zeros(2, np.float32), {}

    def step(self, action):
        return np.zeros(2, np.float32), 0.0, True, False, {}


@pytest.mark.parametrize(
    "action_space, message",
    [
        (spaces.Discrete(3), "must be a gymnasium.spaces.Box"),
        (spaces.MultiDiscrete([2, 3]), "must be a gymnasium.spaces.Box"),
        (spaces.MultiBinary(2), "must be a gymnasium.spaces.Box"),
        (spaces.Box(-np.inf, np.inf, (2,), np.float32), "infinite bounds"),
        (spaces.Box(np.array([-1.0, 0.0]), np.array([1.0, np.inf]), dtype=np.float32), "infinite bounds"),
    ],
)
def test_unsupported_action_spaces(algo, action_space, message):
    with pytest.raises(ValueError, match=message):
        algo("MlpPolicy", SpaceEnv(action_space))


COMMON_BAD = [
    ("step_size", 0.0),
    ("step_size", -1e-4),
    ("step_size", float("nan")),
    ("inverse_temperature", 0.0),
    ("inverse_temperature", -5.0),
    ("inverse_temperature", float("inf")),
    ("n_particles", 0),
    ("n_particles", 1.5),
    ("reward_scale", 0.0),
    ("normalize_grad", "yes"),
    ("metropolis", 1),
    ("target_update_interval", 0),
]
NCLQL_BAD = [
    ("n_noise_levels", 1),
    ("n_noise_levels", 0),
    ("n_noise_levels", 2.5),
    ("sigma_max", -0.1),
    ("sigma_min", 0.0),
    ("langevin_steps_per_level", 0),
]


@pytest.mark.parametrize("name, value", COMMON_BAD + NCLQL_BAD)
def test_nclql_bad_hyperparameters(name, value):
    with pytest.raises(ValueError, match=f"`{name}`"):
        NCLQL("MlpPolicy", "Pendulum-v1", **{name: value})


@pytest.mark.parametrize("name, value", [*COMMON_BAD, ("langevin_steps", 0), ("langevin_steps", -3)])
def test_lql_bad_hyperparameters(name, value):
    with pytest.raises(ValueError, match=f"`{name}`"):
        LQL("MlpPolicy", "Pendulum-v1", **{name: value})


@pytest.mark.parametrize("sigma_min, sigma_max", [(0.1, 0.1), (0.2, 0.1)])
def test_noise_ladder_must_decrease(sigma_min, sigma_max):
    with pytest.raises(ValueError, match="`sigma_min` must be smaller than `sigma_max`"):
        NCLQL("MlpPolicy", "Pendulum-v1", sigma_min=sigma_min, sigma_max=sigma_max)


def test_sampler_arguments_are_not_policy_kwargs(algo):
    with pytest.raises(ValueError, match=r"inverse_temperature.*arguments of"):
        algo("MlpPolicy", "Pendulum-v1", policy_kwargs=dict(inverse_temperature=3.0))


@pytest.mark.parametrize(
    "policy_kwargs, message",
    [
        (dict(net_arch=dict(pi=[64])), "'qf' entry"),
        (dict(n_critics=0), "`n_critics`"),
    ],
)
def test_bad_policy_kwargs(algo, policy_kwargs, message):
    with pytest.raises(ValueError, match=message):
        algo("MlpPolicy", "Pendulum-v1", policy_kwargs=policy_kwargs)


def test_bad_level_embedding_dim():
    with pytest.raises(ValueError, match="level_embedding_dim"):
        NCLQL("MlpPolicy", "Pendulum-v1", policy_kwargs=dict(level_embedding_dim=5))


def test_a_failed_construction_leaves_a_saved_model_intact(algo, tmp_path):
    model = algo("MlpPolicy", "Pendulum-v1", seed=0, **tiny_kwargs(algo))
    model.save(tmp_path / "model")
    before = (tmp_path / "model.zip").read_bytes()
    with pytest.raises(ValueError):
        algo.load(tmp_path / "model", env=SpaceEnv(spaces.Discrete(2)))
    assert (tmp_path / "model.zip").read_bytes() == before
