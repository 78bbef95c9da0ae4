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


@pytest.mark.parametrize("gain", [0.0, -1.0, float("nan"), float("inf"), "2"])
def test_bad_action_init_gain(algo, gain):
    with pytest.raises(ValueError, match="action_init_gain"):
        algo("MlpPolicy", "Pendulum-v1", policy_kwargs=dict(action_init_gain=gain))


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


@pytest.mark.parametrize(
    "name, value",
    [
        ("gamma", 1.5),
        ("gamma", float("nan")),
        ("tau", -0.1),
        ("tau", float("nan")),
        ("buffer_size", 0),
        ("batch_size", 0),
        ("batch_size", -1),
        ("batch_size", 1.5),
        ("gradient_steps", 1.5),
        ("gradient_steps", 0),
        ("n_steps", 1.5),
        ("learning_rate", float("inf")),
        ("learning_rate", float("nan")),
        ("learning_rate", -1e-3),
        ("learning_starts", -1),
        ("train_freq", 0),
        ("train_freq", (1, "second")),
        ("compile_sampler", "yes"),
        ("reward_scale", float("inf")),
    ],
)
def test_sb3_arguments_are_checked_before_anything_runs(algo, name, value):
    with pytest.raises(ValueError, match=f"`{name}"):
        algo("MlpPolicy", "Pendulum-v1", **{name: value})


@pytest.mark.parametrize("net_arch", [[-5], [16, 0], [2.5], "64"])
def test_net_arch_widths_are_checked(algo, net_arch):
    with pytest.raises(ValueError, match="net_arch"):
        algo("MlpPolicy", "Pendulum-v1", policy_kwargs=dict(net_arch=net_arch))


def test_loading_checks_what_it_is_given_and_what_the_file_holds(algo, tmp_path):
    tiny_kwargs_ = tiny_kwargs(algo)
    algo("MlpPolicy", "Pendulum-v1", **tiny_kwargs_).save(tmp_path / "model")
    for bad in (dict(gamma=1.5), dict(batch_size=0), dict(inverse_temperature=-5)):
        with pytest.raises(ValueError, match=f"`{next(iter(bad))}`"):
            algo.load(tmp_path / "model", **bad)
    with pytest.raises(ValueError, match="`tau`"):
        algo.load(tmp_path / "model", custom_objects=dict(tau=2.0))
    other = NCLQL if algo is LQL else LQL
    with pytest.raises(ValueError, match=f"{algo.__name__}Policy.*loads with that algorithm"):
        other.load(tmp_path / "model")


def test_sampler_products_must_stay_finite():
    # ε·(σ_max/σ_min)² overflows a double, and ½·α·w a float32: named before a NaN could reach an action
    with pytest.raises(ValueError, match="`sigma_max` / `sigma_min`"):
        NCLQL("MlpPolicy", "Pendulum-v1", sigma_min=1e-200)
    with pytest.raises(ValueError, match=r"`step_size`.*`inverse_temperature`"):
        LQL("MlpPolicy", "Pendulum-v1", step_size=10.0, inverse_temperature=1e38)
    model = LQL("MlpPolicy", "Pendulum-v1", step_size=10.0, inverse_temperature=1.0)
    with pytest.raises(ValueError, match="float32"):
        model.inverse_temperature = 1e38  # checked on a live model too
    assert model.inverse_temperature == 1.0


class BoxEnv(gym.Env):
    """Observations in a small box; the reward prefers actions near a corner of a (2, 2) action box."""

    def __init__(self, action_space: spaces.Box):
        self.observation_space = spaces.Box(-1.0, 1.0, (3,), np.float32)
        self.action_space = action_space

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self.observation_space.sample(), {}

    def step(self, action):
        assert action.shape == self.action_space.shape
        return self.observation_space.sample(), -float(np.sum((action - 1.0) ** 2)), False, False, {}


def test_matrix_shaped_actions_work_as_in_sac(algo, tmp_path):
    env = BoxEnv(spaces.Box(-2.0, 2.0, (2, 2), np.float32))
    model = algo("MlpPolicy", env, seed=0, **tiny_kwargs(algo))
    model.learn(40)
    action, _ = model.predict(env.observation_space.sample(), deterministic=True)
    assert action.shape == (2, 2) and np.all(np.abs(action) <= 2.0)
    batch, _ = model.predict(np.stack([env.observation_space.sample()] * 3))
    assert batch.shape == (3, 2, 2)


@pytest.mark.parametrize(
    "action_space, message",
    [
        (spaces.Box(-3, 3, (2,), np.int64), "holds integers"),
        (
            spaces.Box(np.array([-1.0, 0.5]), np.array([1.0, 0.5]), dtype=np.float32),
            r"low >= high in dimension\(s\) \[1\]",
        ),
    ],
)
def test_integer_or_degenerate_boxes_are_refused(algo, action_space, message):
    with pytest.raises(ValueError, match=message):
        algo("MlpPolicy", SpaceEnv(action_space))


def test_a_policy_kwargs_dict_shared_with_sac_works_and_is_not_written_to(algo):
    from stable_baselines3 import SAC

    shared = dict(net_arch=[16, 16])
    SAC("MlpPolicy", "Pendulum-v1", policy_kwargs=shared)
    assert shared == dict(net_arch=[16, 16], use_sde=False)  # what SAC does to the caller's dict
    before = dict(shared)
    model = algo(
        "MlpPolicy",
        "Pendulum-v1",
        policy_kwargs=shared,
        **{k: v for k, v in tiny_kwargs(algo).items() if k != "policy_kwargs"},
    )
    model.learn(30)
    assert shared == before and model.policy.net_arch == [16, 16]
    with pytest.raises(ValueError, match=r"use_sde.*no actor.*inverse_temperature"):
        algo("MlpPolicy", "Pendulum-v1", policy_kwargs=dict(use_sde=True))
