"""NC-LQL policies: annealed Langevin over a noise-conditioned critic ensemble Q(s, ã, l)."""

from __future__ import annotations

from stable_baselines3.common.torch_layers import CombinedExtractor, NatureCNN

from sb3_lql.common.policies import LangevinPolicy


class NCLQLPolicy(LangevinPolicy):
    """
    NC-LQL's policy: a twin critic conditioned on the sampler's ``n_noise_levels`` noise levels (a sinusoidal
    and MLP embedding of the level, ``level_embedding_dim`` wide), sampled by an
    :class:`~sb3_lql.common.langevin.AnnealedLangevinSampler`. Arguments: those of
    :class:`~sb3_lql.common.policies.LangevinPolicy` (``net_arch``, ``level_embedding_dim``, ...).
    """


MlpPolicy = NCLQLPolicy


class CnnPolicy(NCLQLPolicy):
    """
    NC-LQL policy for image observations: SB3's ``NatureCNN`` features by default (images divided by 255 unless
    ``normalize_images=False``), computed once per Langevin chain. Same arguments as :class:`NCLQLPolicy`.
    """

    default_features_extractor = NatureCNN


class MultiInputPolicy(NCLQLPolicy):
    """
    NC-LQL policy for dict observations (goal-conditioned envs, ``HerReplayBuffer``, image and vector keys
    together): SB3's ``CombinedExtractor`` by default. Same arguments as :class:`NCLQLPolicy`.
    """

    default_features_extractor = CombinedExtractor
