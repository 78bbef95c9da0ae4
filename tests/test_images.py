"""Image observations: ``CnnPolicy`` as SAC, TD3 and TQC have it, and images inside dict observations."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.torch_layers import CombinedExtractor, NatureCNN

from sb3_lql import LQL, NCLQL
from tests.conftest import TINY_SAMPLER

SIZE = 36  # the smallest image NatureCNN's three convolutions accept


class BrightnessEnv(gym.Env):
    """A 36 x 36 x 3 uint8 image whose brightness is the state; the best action matches it (in [-1, 1])."""

    def __init__(self, dict_observations: bool = False):
        image = spaces.Box(0, 255, (SIZE, SIZE, 3), np.uint8)
        self.dict_observations = dict_observations
        self.observation_space = (
            spaces.Dict({"image": image, "vector": spaces.Box(-1.0, 1.0, (2,), np.float32)})
            if dict_observations
            else image
        )
        self.action_space = spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.brightness = 0.0

    def _observation(self):
        image = np.full((SIZE, SIZE, 3), int(127.5 * (self.brightness + 1.0)), np.uint8)
        if self.dict_observations:
            return {"image": image, "vector": np.array([self.brightness, 0.0], np.float32)}
        return image

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.brightness = float(self.np_random.uniform(-1.0, 1.0))
        return self._observation(), {}

    def step(self, action):
        reward = -abs(float(action[0]) - self.brightness)
        self.brightness = float(self.np_random.uniform(-1.0, 1.0))
        return self._observation(), reward, False, False, {}


def image_kwargs(algo, **policy_kwargs):
    return dict(learning_starts=20, batch_size=8, buffer_size=200, policy_kwargs=dict(net_arch=[16], **policy_kwargs),
                **TINY_SAMPLER[algo])  # fmt: skip


def test_cnn_policy_trains_saves_loads_and_predicts_identically(algo, tmp_path):
    env = BrightnessEnv()
    model = algo("CnnPolicy", env, seed=0, **image_kwargs(algo))
    assert isinstance(model.critic.features_extractor, NatureCNN) and model.critic.normalize_images
    # one extractor for the ensemble's critics; the target has its own copy, with the same weights at the start
    assert model.critic_target.features_extractor is not model.critic.features_extractor
    before = [p.clone() for p in model.critic.features_extractor.parameters()]
    model.learn(60)
    assert not all(th.equal(p, q) for p, q in zip(before, model.critic.features_extractor.parameters(), strict=True))
    obs = np.stack([env.reset(seed=i)[0] for i in range(4)])
    greedy, _ = model.predict(obs, deterministic=True)
    th.manual_seed(3)
    stochastic, _ = model.predict(obs)
    model.save(tmp_path / "cnn")
    loaded = algo.load(tmp_path / "cnn")
    assert type(loaded.policy).__name__ == "CnnPolicy"
    np.testing.assert_array_equal(greedy, loaded.predict(obs, deterministic=True)[0])
    th.manual_seed(3)
    np.testing.assert_array_equal(stochastic, loaded.predict(obs)[0])
    loaded.set_env(env)
    loaded.learn(20)  # and trains on


@pytest.mark.parametrize("normalize_images", [True, False])
def test_cnn_policy_honours_normalize_images(algo, normalize_images):
    model = algo("CnnPolicy", BrightnessEnv(), seed=0, **image_kwargs(algo, normalize_images=normalize_images))
    assert model.critic.normalize_images is normalize_images
    cnn = model.critic.features_extractor
    pixels = th.full((2, 3, SIZE, SIZE), 200.0)  # channels first, as SB3 transposes image observations
    with th.no_grad():
        features = model.critic.extract_features(pixels, cnn)
        expected = cnn(pixels / 255.0 if normalize_images else pixels)
    th.testing.assert_close(features, expected)
    model.learn(30)
    assert np.isfinite(model.predict(BrightnessEnv().reset(seed=0)[0])[0]).all()


def test_images_in_dict_observations_go_through_the_combined_extractor(algo):
    env = BrightnessEnv(dict_observations=True)
    model = algo("MultiInputPolicy", env, seed=0, **image_kwargs(algo))
    assert isinstance(model.critic.features_extractor, CombinedExtractor)
    assert isinstance(model.critic.features_extractor.extractors["image"], NatureCNN)
    model.learn(40)
    action, _ = model.predict(env.reset(seed=0)[0], deterministic=True)
    assert action.shape == (1,) and np.isfinite(action).all()


@pytest.mark.parametrize(
    "name, value, role",
    [
        ("ent_coef", "auto", "inverse_temperature"),
        ("target_entropy", -1.0, "inverse_temperature"),
        ("use_sde", True, "inverse_temperature"),
        ("sde_sample_freq", 4, "Langevin noise"),
        ("use_sde_at_warmup", True, "Langevin noise"),
        ("policy_delay", 2, "Langevin"),
    ],
)
def test_sac_and_td3_actor_arguments_say_what_plays_their_role(algo, name, value, role):
    with pytest.raises(
        ValueError, match=rf"`{name}` is not an argument of {algo.__name__}, which has no actor.*{role}"
    ):
        algo("MlpPolicy", "Pendulum-v1", **{name: value})
    with pytest.raises(TypeError, match="inverse_temprature"):
        algo("MlpPolicy", "Pendulum-v1", inverse_temprature=5.0)


@pytest.mark.parametrize("algo", [LQL, NCLQL], ids=["LQL", "NCLQL"])
def test_the_alias_is_listed_like_sacs(algo):
    from stable_baselines3 import SAC

    assert set(SAC.policy_aliases) <= set(algo.policy_aliases)
