"""The critic ensemble: its hand-written action gradient agrees with autograd, and so do the samplers built on both."""

from __future__ import annotations

import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.envs import BitFlippingEnv
from stable_baselines3.common.torch_layers import create_mlp

from sb3_lql import LQL, NCLQL
from sb3_lql.common.langevin import autograd_value_and_grad, langevin_sample
from tests.conftest import tiny_kwargs


def autograd_path(model, features):
    def mean_q(actions, level):
        return model.critic.q_values(features, actions, level).mean(dim=0)

    return autograd_value_and_grad(mean_q)


def make(algo, env="Pendulum-v1", policy="MlpPolicy", **policy_kwargs):
    kwargs = tiny_kwargs(algo)
    kwargs["policy_kwargs"] = dict(net_arch=[32, 24, 16]) | policy_kwargs
    return algo(policy, env, seed=0, **kwargs)


def batch_features(model, n=64):
    samples = [model.observation_space.sample() for _ in range(n)]
    if isinstance(model.observation_space, spaces.Dict):
        obs = {key: th.as_tensor(np.stack([s[key] for s in samples])) for key in samples[0]}
    else:
        obs = th.as_tensor(np.stack(samples))
    with th.no_grad():
        return model.critic.extract_features(obs, model.critic.features_extractor)


@pytest.mark.parametrize("activation", [th.nn.Mish, th.nn.ReLU, th.nn.Tanh, th.nn.SiLU])
@pytest.mark.parametrize("dict_obs", [False, True], ids=["box-obs", "dict-obs"])
@pytest.mark.parametrize("shape", [dict(net_arch=[32, 24, 16]), dict(net_arch=[8], n_critics=3), dict(net_arch=[])])
def test_values_and_gradients_match_autograd(algo, activation, dict_obs, shape):
    env = BitFlippingEnv(n_bits=3, continuous=True) if dict_obs else "Pendulum-v1"
    policy = "MultiInputPolicy" if dict_obs else "MlpPolicy"
    model = make(algo, env, policy, activation_fn=activation, **shape)
    assert model.critic.slope_fn is not None  # the hand-written path
    features = batch_features(model)
    fast, reference = model.critic.action_energy(features), autograd_path(model, features)
    actions = 2 * th.rand(features.shape[0], model.action_space.shape[0]) - 1
    levels = [None] if algo is LQL else [0, 1, 2]
    for level in levels:
        value, grad = fast(actions, level)
        value_ref, grad_ref = reference(actions, level)
        assert th.allclose(value, value_ref, atol=1e-5, rtol=1e-4)
        assert th.allclose(grad, grad_ref, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("metropolis", [False, True], ids=["ULA", "MALA"])
def test_same_seed_same_samples_on_both_paths(algo, metropolis):
    model = make(algo)
    features = batch_features(model, 128)
    init = 2 * th.rand(128, 1) - 1
    results = []
    for value_and_grad in (model.critic.action_energy(features), autograd_path(model, features)):
        th.manual_seed(7)
        actions, _ = langevin_sample(
            value_and_grad, init, model.sampler.schedule, 5.0, normalize_grad=False, metropolis=metropolis
        )
        results.append(actions)
    assert th.allclose(results[0], results[1], atol=1e-5)


def test_unknown_layers_fall_back_to_autograd(algo):
    model = make(algo, activation_fn=th.nn.GELU)
    assert model.critic.slope_fn is None
    features = batch_features(model, 16)
    actions = 2 * th.rand(16, 1) - 1
    level = model.sampler.clean_level
    value, grad = model.critic.action_energy(features)(actions, level)
    value_ref, grad_ref = autograd_path(model, features)(actions, level)
    assert th.equal(value, value_ref) and th.equal(grad, grad_ref)
    assert grad.abs().sum() > 0
    actions, _ = model.predict(model.observation_space.sample(), deterministic=True)
    assert np.all(np.abs(actions) <= 2.0)


def test_ensemble_draws_the_initial_weights_of_separate_linear_stacks(algo):
    """Same seed, same initial critic as n_critics separate ``create_mlp`` networks (how 0.1.0 built them)."""
    model = make(algo, n_critics=3)
    th.manual_seed(5)
    critic = model.policy.make_critic()
    th.manual_seed(5)
    in_dim = critic.q_net.linears[0].in_features
    nets = [th.nn.Sequential(*create_mlp(in_dim, 1, [32, 24, 16], th.nn.Mish)) for _ in range(3)]
    embeddings = [th.nn.Sequential(th.nn.Linear(16, 32), th.nn.Mish(), th.nn.Linear(32, 16)) for _ in range(3)]
    for k, layer in enumerate(critic.q_net.linears):
        assert th.equal(layer.weight, th.stack([net[2 * k].weight for net in nets]))
        assert th.equal(layer.bias.squeeze(1), th.stack([net[2 * k].bias for net in nets]))
    if algo is NCLQL:
        for k, layer in enumerate(critic.level_embedding.mlp.linears):
            assert th.equal(layer.weight, th.stack([mlp[2 * k].weight for mlp in embeddings]))
    # and each member is its own network: Q differs between members
    q = critic(th.zeros(2, 3), th.zeros(2, 1), model.sampler.clean_level)
    assert q.shape == (3, 2) and not th.allclose(q[0], q[1])


def test_compiled_sampler_matches_eager_and_follows_training():
    """compile_sampler=True gives the eager chain's samples (same seed), before and after weight updates.

    NC-LQL only: LQL runs the same chain code with a one-stage schedule, and each compilation costs tens of seconds.
    """
    # Unnormalised gradients and a moderate w: the samples then move with every weight update (with unit
    # gradients a 1-D action depends only on the gradient's sign, and at w=500 every chain ends on the box edge).
    kwargs = tiny_kwargs(NCLQL, inverse_temperature=5.0, normalize_grad=False, learning_rate=1e-3, compile_sampler=True)
    model = NCLQL("MlpPolicy", "Pendulum-v1", seed=0, **kwargs)
    model.observation_space.seed(0)
    obs = th.as_tensor(np.stack([model.observation_space.sample() for _ in range(8)]))

    def compiled_and_eager() -> tuple[th.Tensor, th.Tensor]:
        th.manual_seed(1)
        compiled, _ = model.policy.sample_actions(obs)
        model.compile_sampler = False
        th.manual_seed(1)
        eager, _ = model.policy.sample_actions(obs)
        model.compile_sampler = True
        return compiled, eager

    before, eager_before = compiled_and_eager()
    assert th.allclose(before, eager_before, atol=1e-5)
    model.learn(40)  # the critic's weights change in place: the compiled chain must see them
    after, eager_after = compiled_and_eager()
    assert th.allclose(after, eager_after, atol=1e-5)
    assert not th.allclose(before, after)


@pytest.mark.parametrize("algo", [LQL, NCLQL])
def test_action_init_gain_scales_only_the_initial_action_weights_and_is_kept_on_save(algo, tmp_path):
    kwargs = dict(net_arch=[16, 16], level_embedding_dim=6) if algo is NCLQL else dict(net_arch=[16, 16])
    plain = algo("MlpPolicy", "Pendulum-v1", seed=3, **tiny_kwargs(algo, policy_kwargs=kwargs))
    scaled = algo(
        "MlpPolicy", "Pendulum-v1", seed=3, **tiny_kwargs(algo, policy_kwargs={**kwargs, "action_init_gain": 2.5})
    )
    obs_dim, act_dim = 3, 1  # Pendulum: layer 1 reads [observation (3), action (1), level embedding]
    for critic in ("critic", "critic_target"):
        before = getattr(plain.policy, critic).state_dict()
        after = getattr(scaled.policy, critic).state_dict()
        for name, value in before.items():
            if name == "q_net.layers.0.weight":
                actions = slice(obs_dim, obs_dim + act_dim)
                assert th.equal(after[name][:, :, actions], 2.5 * value[:, :, actions])
                rest = th.ones(value.shape[-1], dtype=th.bool)
                rest[actions] = False
                assert th.equal(after[name][:, :, rest], value[:, :, rest])
            else:
                assert th.equal(after[name], value), name
    scaled.save(tmp_path / "model")
    loaded = algo.load(tmp_path / "model")
    assert loaded.policy.action_init_gain == 2.5
    for name, value in scaled.critic.state_dict().items():
        assert th.equal(loaded.critic.state_dict()[name], value)
