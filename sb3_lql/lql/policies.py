"""LQL policies: plain Langevin over a plain critic ensemble Q(s, a)."""

from __future__ import annotations

from stable_baselines3.common.torch_layers import CombinedExtractor, NatureCNN

from sb3_lql.common.policies import LangevinPolicy


class LQLPolicy(LangevinPolicy):
    """
    LQL's policy: a plain twin critic Q(s, a) sampled by a
    :class:`~sb3_lql.common.langevin.PlainLangevinSampler`. Arguments: those of
    :class:`~sb3_lql.common.policies.LangevinPolicy` (``net_arch``, ``activation_fn``, ``n_critics``, ...).
    """


MlpPolicy = LQLPolicy


class CnnPolicy(LQLPolicy):
    """
    LQL policy for image observations: SB3's ``NatureCNN`` features by default (images divided by 255 unless
    ``normalize_images=False``), computed once per Langevin chain. Same arguments as :class:`LQLPolicy`.
    """

    default_features_extractor = NatureCNN


class MultiInputPolicy(LQLPolicy):
    """
    LQL policy for dict observations (goal-conditioned envs, ``HerReplayBuffer``, image and vector keys
    together): SB3's ``CombinedExtractor`` by default. Same arguments as :class:`LQLPolicy`.
    """

    default_features_extractor = CombinedExtractor
