"""Our algorithms with SB3's own tooling: evaluation, callbacks, wrappers, HER, tensorboard."""

from __future__ import annotations

import os

import numpy as np
from stable_baselines3 import HerReplayBuffer
from stable_baselines3.common.callbacks import CheckpointCallback, EvalCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.envs import BitFlippingEnv
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.logger import configure
from stable_baselines3.common.vec_env import VecNormalize

from sb3_lql.common.callbacks import StochasticEvalCallback
from tests.conftest import tiny_kwargs


def test_evaluate_policy(algo):
    model = algo("MlpPolicy", "Pendulum-v1", seed=0, **tiny_kwargs(algo))
    model.learn(30)
    rewards, lengths = evaluate_policy(model, model.get_env(), n_eval_episodes=2, return_episode_rewards=True)
    assert len(rewards) == 2 and lengths == [200, 200]
    assert all(-200 * 16.3 <= r <= 0 for r in rewards)  # Pendulum's per-step reward lies in [-16.3, 0]


def test_eval_and_checkpoint_callbacks(algo, tmp_path):
    eval_env = make_vec_env("Pendulum-v1", n_envs=1, seed=1, env_kwargs=dict(max_episode_steps=10))
    eval_callback = EvalCallback(eval_env, n_eval_episodes=2, eval_freq=25, log_path=str(tmp_path / "eval"))
    checkpoint = CheckpointCallback(save_freq=25, save_path=str(tmp_path / "ckpt"), name_prefix="m")
    model = algo("MlpPolicy", "Pendulum-v1", seed=0, **tiny_kwargs(algo))
    model.learn(50, callback=[eval_callback, checkpoint])
    evaluations = np.load(tmp_path / "eval" / "evaluations.npz")
    assert list(evaluations["timesteps"]) == [25, 50]
    assert evaluations["results"].shape == (2, 2)
    assert sorted(os.listdir(tmp_path / "ckpt")) == ["m_25_steps.zip", "m_50_steps.zip"]
    restored = type(model).load(tmp_path / "ckpt" / "m_50_steps.zip")
    assert restored.num_timesteps == 50


def test_vec_normalize_with_two_envs(algo, tmp_path):
    env = VecNormalize(make_vec_env("Pendulum-v1", n_envs=2, seed=0), gamma=0.99)
    model = algo("MlpPolicy", env, seed=0, **tiny_kwargs(algo))
    model.learn(60)
    assert model.num_timesteps == 60
    assert env.obs_rms.count > 60  # the statistics were updated through the rollouts
    assert model.replay_buffer.size() == 30  # one slot per vector step, 2 envs per slot
    env.save(str(tmp_path / "vecnormalize.pkl"))
    reloaded = VecNormalize.load(str(tmp_path / "vecnormalize.pkl"), make_vec_env("Pendulum-v1", n_envs=2))
    np.testing.assert_allclose(reloaded.obs_rms.mean, env.obs_rms.mean)


def test_multi_input_policy_with_her_on_continuous_bit_flipping(algo):
    env = BitFlippingEnv(n_bits=4, continuous=True, max_steps=4)
    kwargs = tiny_kwargs(algo, learning_starts=16)
    model = algo(
        "MultiInputPolicy",
        env,
        replay_buffer_class=HerReplayBuffer,
        replay_buffer_kwargs=dict(n_sampled_goal=2, goal_selection_strategy="future"),
        seed=0,
        **kwargs,
    )
    model.learn(48)
    assert model._n_updates > 0
    obs = env.reset()[0]
    action, _ = model.predict(obs, deterministic=True)
    assert action.shape == (4,) and np.all(np.abs(action) <= 1.0)
    assert type(model.critic.features_extractor).__name__ == "CombinedExtractor"


def test_tensorboard_log(algo, tmp_path):
    model = algo("MlpPolicy", "Pendulum-v1", seed=0, tensorboard_log=str(tmp_path), **tiny_kwargs(algo))
    model.learn(40, tb_log_name="run")
    run_dirs = os.listdir(tmp_path)
    assert run_dirs == ["run_1"]
    assert any(name.startswith("events.out.tfevents") for name in os.listdir(tmp_path / "run_1"))


def test_stochastic_eval_callback_counts_env_steps_and_keeps_its_own_keys(algo, tmp_path):
    callback = StochasticEvalCallback("Pendulum-v1", str(tmp_path / "run"), eval_freq=40, n_eval_episodes=1, seed=0)
    model = algo("MlpPolicy", make_vec_env("Pendulum-v1", n_envs=2, seed=0), seed=0, **tiny_kwargs(algo))
    model.set_logger(configure(str(tmp_path / "log"), ["csv"]))
    model.learn(80, callback=callback)
    evaluations = np.load(tmp_path / "run" / "evaluations_stochastic.npz")
    assert list(evaluations["timesteps"]) == [40, 80]  # every 40 env steps = 20 steps of the 2-env vector
    assert evaluations["results"].shape == (2, 1) and -200 * 16.3 <= evaluations["results"].min() <= 0
    header = (tmp_path / "log" / "progress.csv").read_text().splitlines()[0].split(",")
    assert "eval_stochastic/mean_reward" in header and "eval/mean_reward" not in header
