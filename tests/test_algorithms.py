"""LQL and NCLQL behave as SB3 off-policy algorithms: API, predict, save/load, seeding, logging."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium.wrappers import RescaleAction
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.logger import configure
from stable_baselines3.common.utils import get_linear_fn

from sb3_lql import LQL, NCLQL
from tests.conftest import tiny_kwargs

NON_DEFAULTS = {
    LQL: dict(
        langevin_steps=4,
        step_size=3e-4,
        inverse_temperature=50.0,
        normalize_grad=False,
        reward_scale=0.5,
        metropolis=True,
    ),
    NCLQL: dict(
        n_noise_levels=4,
        sigma_max=0.2,
        sigma_min=0.01,
        langevin_steps_per_level=1,
        step_size=3e-4,
        inverse_temperature=50.0,
        normalize_grad=False,
        reward_scale=0.5,
        metropolis=True,
    ),
}


def test_reference_defaults():
    nclql = NCLQL("MlpPolicy", "Pendulum-v1")
    assert (nclql.n_noise_levels, nclql.sigma_max, nclql.sigma_min, nclql.langevin_steps_per_level) == (
        10,
        0.1,
        0.001,
        2,
    )
    lql = LQL("MlpPolicy", "Pendulum-v1")
    assert lql.langevin_steps == 20
    for model in (nclql, lql):
        assert (model.step_size, model.inverse_temperature, model.normalize_grad) == (1e-4, 500.0, True)
        assert (model.n_particles, model.reward_scale, model.learning_rate) == (1, 0.2, 1e-4)
        assert (model.gamma, model.tau, model.batch_size, model.buffer_size) == (0.99, 0.005, 256, 1_000_000)
        assert model.policy.net_arch == [256, 256, 256]
        assert model.policy.activation_fn is th.nn.Mish
        assert model.critic.n_critics == 2 and model.critic.q_net.linears[0].weight.shape[0] == 2
        assert model.metropolis is False and model.compile_sampler == "auto"
    assert nclql.sampler.schedule.n_evaluations == 20 and lql.sampler.schedule.n_evaluations == 20


def test_learn_logs_every_statistic(algo, tmp_path):
    env = gym.make("Pendulum-v1", max_episode_steps=20)  # log_interval counts episodes
    model = algo("MlpPolicy", env, seed=0, **tiny_kwargs(algo))
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(60, log_interval=1)
    assert model._n_updates == 60 - 20
    header = (tmp_path / "progress.csv").read_text().splitlines()[0].split(",")
    expected = {"train/td_loss", "train/q_mean", "train/action_grad_norm", "train/action_std"}
    expected |= {"train/n_updates", "train/nonfinite_action_grads", "train/learning_rate"}
    if algo is NCLQL:
        expected.add("train/denoise_loss")
    assert expected <= set(header)


def test_vectorised_envs_and_gradient_steps_minus_one(algo):
    env = make_vec_env("Pendulum-v1", n_envs=3, seed=0)
    model = algo("MlpPolicy", env, seed=0, train_freq=2, gradient_steps=-1, **tiny_kwargs(algo))
    model.learn(60)
    assert model.num_timesteps == 60
    # gradient_steps=-1: one gradient step per env step of the rollout (3 envs x 2 steps = 6), from the first
    # rollout past learning_starts=20 (the one ending at t=24) to the last (t=60): 7 rollouts
    assert model._n_updates == 7 * 6


def test_actions_are_mapped_to_the_box_and_buffer_holds_unit_actions(algo):
    env = RescaleAction(gym.make("Pendulum-v1"), min_action=0.0, max_action=4.0)
    model = algo("MlpPolicy", env, seed=0, **tiny_kwargs(algo, learning_starts=5))
    model.learn(40)
    obs = np.stack([model.observation_space.sample() for _ in range(64)])
    for deterministic in (False, True):
        actions, _ = model.predict(obs, deterministic=deterministic)
        assert actions.shape == (64, 1)
        assert actions.min() >= 0.0 and actions.max() <= 4.0
    stored = model.replay_buffer.actions[: model.replay_buffer.pos]
    assert stored.min() >= -1.0 and stored.max() <= 1.0
    assert stored.std() > 0.1  # the soft policy explores


def test_deterministic_predict_is_repeatable_and_leaves_the_rngs_alone(algo):
    # A moderate w: at w=500 every chain of this untrained critic ends on the box edge.
    model = algo("MlpPolicy", "Pendulum-v1", seed=0, **tiny_kwargs(algo, n_particles=3, inverse_temperature=5.0))
    model.learn(40)
    obs = np.stack([model.observation_space.sample() for _ in range(8)])
    th_state, np_state = th.get_rng_state(), np.random.get_state()
    first, _ = model.predict(obs, deterministic=True)
    second, _ = model.predict(obs, deterministic=True)
    alone, _ = model.predict(obs[3], deterministic=True)
    assert th.equal(th_state, th.get_rng_state())
    assert np.array_equal(np_state[1], np.random.get_state()[1])
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(first[3], alone)  # independent of the rest of the batch
    stochastic = np.stack([model.predict(obs[0])[0] for _ in range(10)])
    assert stochastic.std() > 0  # deterministic=False draws


def test_best_of_n_keeps_the_particle_with_the_highest_min_q(algo):
    # A tiny w makes the noise-free drift negligible: each deterministic chain stays at its start.
    model = algo("MlpPolicy", "Pendulum-v1", seed=0, **tiny_kwargs(algo, n_particles=5, inverse_temperature=1e-9))
    obs = th.as_tensor(np.stack([model.observation_space.sample() for _ in range(6)]))
    actions, _ = model.policy.sample_actions(obs, deterministic=True)
    starts = model.sampler.deterministic_starts(1, th.device("cpu"))
    level = model.sampler.clean_level
    with th.no_grad():
        for i in range(6):
            q_min = model.critic(obs[i : i + 1].expand(5, -1), starts, level).min(dim=0).values
            assert th.allclose(actions[i], starts[q_min.argmax()], atol=1e-6)


def test_save_load_round_trip_keeps_hyperparameters_and_actions(algo, tmp_path):
    model = algo("MlpPolicy", "Pendulum-v1", seed=0, **tiny_kwargs(algo, **NON_DEFAULTS[algo]))
    model.learn(40)
    obs = np.stack([model.observation_space.sample() for _ in range(5)])
    before, _ = model.predict(obs, deterministic=True)
    model.save(tmp_path / "model")
    loaded = algo.load(tmp_path / "model", env=gym.make("Pendulum-v1"))
    after, _ = loaded.predict(obs, deterministic=True)
    np.testing.assert_array_equal(before, after)
    for name, value in NON_DEFAULTS[algo].items():
        assert getattr(loaded, name) == value, name
        if name in algo.sampler_class.setting_names():
            assert getattr(loaded.policy.sampler, name) == value, name
    assert loaded.policy.sampler is loaded.sampler
    assert loaded.sampler.schedule == model.sampler.schedule
    for p, q in zip(model.critic_target.parameters(), loaded.critic_target.parameters(), strict=True):
        assert th.equal(p, q)
    loaded.learn(20)  # training resumes after loading


def test_same_seed_same_parameters(algo):
    def run() -> list[th.Tensor]:
        model = algo("MlpPolicy", "Pendulum-v1", seed=3, **tiny_kwargs(algo))
        model.learn(50)
        return [p.detach().clone() for p in model.policy.parameters()]

    first, second = run(), run()
    assert all(th.equal(p, q) for p, q in zip(first, second, strict=True))
    other = algo("MlpPolicy", "Pendulum-v1", seed=4, **tiny_kwargs(algo))
    other.learn(50)
    assert not all(th.equal(p, q) for p, q in zip(first, other.policy.parameters(), strict=True))


def test_learning_rate_schedule_and_net_arch(algo):
    schedule = get_linear_fn(1e-3, 1e-5, 1.0)
    kwargs = tiny_kwargs(algo, learning_rate=schedule)
    kwargs["policy_kwargs"] = dict(net_arch=dict(qf=[8, 12]), activation_fn=th.nn.ReLU, n_critics=3)
    model = algo("MlpPolicy", "Pendulum-v1", seed=0, **kwargs)
    model.learn(60)
    lr = model.critic.optimizer.param_groups[0]["lr"]
    assert 1e-5 <= lr < 1e-3 * 0.7  # annealed along the run
    assert model.critic.n_critics == 3
    assert [(layer.weight.shape[0], layer.out_features) for layer in model.critic.q_net.linears] == [
        (3, 8),
        (3, 12),
        (3, 1),
    ]
    assert isinstance(model.critic.q_net.activation, th.nn.ReLU)


def test_noise_conditioned_critic_embeds_levels():
    model = NCLQL(
        "MlpPolicy", "Pendulum-v1", **tiny_kwargs(NCLQL, policy_kwargs=dict(net_arch=[8], level_embedding_dim=6))
    )
    assert len(model.sampler.sigmas) == 3
    obs = th.zeros(4, 3)
    actions = th.zeros(4, 1)
    per_level = th.stack([model.critic(obs, actions, level) for level in range(3)])
    assert per_level.shape == (3, 2, 4)
    assert not th.allclose(per_level[0], per_level[2])  # each level is its own landscape
    mixed = model.critic(obs, actions, th.tensor([0, 1, 2, 0]))
    assert th.allclose(mixed[:, 1], per_level[1, :, 1]) and th.allclose(mixed[:, 3], per_level[0, :, 3])
    with pytest.raises(ValueError, match="levels"):
        model.critic(obs, actions)
    assert model.critic.level_embedding.mlp.linears[0].in_features == 6


def test_nonfinite_critic_never_yields_nonfinite_actions(algo):
    model = algo("MlpPolicy", "Pendulum-v1", seed=0, **tiny_kwargs(algo))
    with th.no_grad():
        for param in model.critic.parameters():
            param.fill_(float("nan"))
    obs = np.stack([model.observation_space.sample() for _ in range(4)])
    for deterministic in (False, True):
        actions, _ = model.predict(obs, deterministic=deterministic)
        assert np.isfinite(actions).all()
    assert model.sampler.nonfinite_count.item() > 0


def test_td_target_formula(algo):
    """y = reward_scale·r + γ·(1 - terminated)·min_i Q_targ_i(s', a') with a' from the sampler."""
    model = algo("MlpPolicy", "Pendulum-v1", seed=0, **tiny_kwargs(algo, reward_scale=0.3, gamma=0.9))
    model.learn(30)
    batch = model.replay_buffer.sample(8)
    dones = th.tensor([[0.0], [1.0]] * 4)
    batch = batch._replace(dones=dones)
    th.manual_seed(1)
    target, next_actions, _ = model._td_target(batch)
    with th.no_grad():
        next_q = model.critic_target(batch.next_observations, next_actions, model.sampler.clean_level).min(0).values
    expected = 0.3 * batch.rewards.flatten() + 0.9 * (1 - dones.flatten()) * next_q
    assert th.allclose(target, expected)
    th.manual_seed(1)
    resampled, _ = model.policy.sample_actions(batch.next_observations)
    assert th.equal(resampled, next_actions)  # a' comes from the online critic's sampler
    # n-step buffers give a discount per sample, which replaces gamma
    discounts = th.linspace(0.1, 0.8, 8).unsqueeze(1)
    th.manual_seed(1)
    target, next_actions, _ = model._td_target(batch._replace(discounts=discounts))
    with th.no_grad():
        next_q = model.critic_target(batch.next_observations, next_actions, model.sampler.clean_level).min(0).values
    assert th.allclose(target, 0.3 * batch.rewards.flatten() + discounts.flatten() * (1 - dones.flatten()) * next_q)


def test_n_step_returns(algo):
    model = algo("MlpPolicy", "Pendulum-v1", seed=0, n_steps=3, **tiny_kwargs(algo))
    model.learn(40)
    assert type(model.replay_buffer).__name__ == "NStepReplayBuffer"
    assert model._n_updates == 20 and np.isfinite(model.logger.name_to_value["train/td_loss"])


def test_critic_adam_is_fused_unless_the_user_picks_an_implementation(algo):
    fused = algo("MlpPolicy", "Pendulum-v1", seed=3, **tiny_kwargs(algo))
    assert fused.critic.optimizer.defaults["fused"] is True
    user_kwargs = tiny_kwargs(algo, policy_kwargs=dict(net_arch=[16, 16], optimizer_kwargs=dict(foreach=False)))
    looped = algo("MlpPolicy", "Pendulum-v1", seed=3, **user_kwargs)
    assert not looped.critic.optimizer.defaults["fused"]
    # the two implementations make the same Adam steps up to float rounding (whole training runs would
    # drift apart: the sampler amplifies rounding differences)
    generator = th.Generator().manual_seed(0)
    for _ in range(5):
        for p_fused, p_looped in zip(fused.critic.parameters(), looped.critic.parameters(), strict=True):
            th.testing.assert_close(p_fused, p_looped, rtol=1e-5, atol=1e-6)
            p_fused.grad = th.randn(p_fused.shape, generator=generator)
            p_looped.grad = p_fused.grad.clone()
        fused.critic.optimizer.step()
        looped.critic.optimizer.step()
    moved = algo("MlpPolicy", "Pendulum-v1", seed=3, **tiny_kwargs(algo)).critic.parameters()
    assert not all(th.equal(p, q) for p, q in zip(fused.critic.parameters(), moved, strict=True))
