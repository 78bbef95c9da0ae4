"""Twin critics: plain Q(s, a) for LQL, noise-conditioned Q(s, ã, l) for NC-LQL."""

from __future__ import annotations

import math

import torch as th
from gymnasium import spaces
from stable_baselines3.common.policies import BaseModel
from stable_baselines3.common.preprocessing import get_action_dim
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor, create_mlp
from stable_baselines3.common.type_aliases import PyTorchObs
from torch import nn

from sb3_lql.common.activations import fast_activation

#: A level for the whole batch (int), one level per sample (long tensor), or no level (plain critic).
Levels = int | th.Tensor | None


def sinusoidal_features(n_levels: int, dim: int) -> th.Tensor:
    """
    Sinusoidal features of the level indices 0..n_levels-1, as for diffusion time steps.

    :param n_levels: number of levels
    :param dim: feature size (even)
    :return: tensor of shape (n_levels, dim)
    """
    half = dim // 2
    freqs = th.exp(-math.log(10_000.0) * th.arange(half, dtype=th.float32) / max(half, 1))
    angles = th.arange(n_levels, dtype=th.float32)[:, None] * freqs[None, :]
    return th.cat([th.sin(angles), th.cos(angles)], dim=1)


class LevelEmbedding(nn.Module):
    """
    Embedding of the noise-level index: sinusoidal features, then a small MLP (dim → 2·dim → dim).

    :param n_levels: number of noise levels L
    :param embedding_dim: size of the sinusoidal features and of the embedding (16 in the reference)
    :param activation_fn: activation of the MLP (mish in the reference)
    """

    def __init__(self, n_levels: int, embedding_dim: int = 16, activation_fn: type[nn.Module] = nn.Mish):
        super().__init__()
        if embedding_dim < 2 or embedding_dim % 2:
            raise ValueError(f"level_embedding_dim must be an even integer >= 2, got {embedding_dim}")
        self.register_buffer("features", sinusoidal_features(n_levels, embedding_dim), persistent=False)
        self.mlp = nn.Sequential(
            nn.Linear(embedding_dim, 2 * embedding_dim),
            activation_fn(),
            nn.Linear(2 * embedding_dim, embedding_dim),
        )

    def forward(self, levels: int | th.Tensor, batch_size: int) -> th.Tensor:
        """
        :param levels: one level for the batch, or a long tensor of shape (batch,)
        :param batch_size: the batch size
        :return: embeddings of shape (batch, embedding_dim)
        """
        table = self.mlp(self.features)  # all L embeddings at once: L is small
        if isinstance(levels, int):
            return table[levels].expand(batch_size, -1)
        return table[levels]


class LangevinCritic(BaseModel):
    """
    ``n_critics`` independent Q networks over (features(s), a), plus a level embedding each when
    ``n_levels`` is given (the noise-conditioned critic of NC-LQL).

    :param observation_space: observation space
    :param action_space: action space (a Box)
    :param net_arch: hidden layer sizes of each Q network
    :param features_extractor: the network that turns observations into features
    :param features_dim: size of the features
    :param activation_fn: activation of the hidden layers
    :param normalize_images: whether to divide image observations by 255
    :param n_critics: number of Q networks (2: the twin critic)
    :param n_levels: number of noise levels L; ``None`` for a plain critic Q(s, a)
    :param level_embedding_dim: size of the level embedding (noise-conditioned critic only)
    """

    features_extractor: BaseFeaturesExtractor

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        net_arch: list[int],
        features_extractor: BaseFeaturesExtractor,
        features_dim: int,
        activation_fn: type[nn.Module] = nn.Mish,
        normalize_images: bool = True,
        n_critics: int = 2,
        n_levels: int | None = None,
        level_embedding_dim: int = 16,
    ):
        super().__init__(
            observation_space,
            action_space,
            features_extractor=features_extractor,
            normalize_images=normalize_images,
        )
        self.n_critics = n_critics
        self.n_levels = n_levels
        action_dim = get_action_dim(action_space)
        # nn.Mish is replaced by the same function computed from one exp (sb3_lql.common.activations).
        activation_fn = fast_activation(activation_fn)
        embedding_dim = level_embedding_dim if n_levels is not None else 0
        self.q_networks = nn.ModuleList(
            nn.Sequential(*create_mlp(features_dim + action_dim + embedding_dim, 1, net_arch, activation_fn))
            for _ in range(n_critics)
        )
        self.level_embeddings = nn.ModuleList(
            LevelEmbedding(n_levels, level_embedding_dim, activation_fn)
            for _ in range(n_critics)
            if n_levels is not None
        )

    def q_values(self, features: th.Tensor, actions: th.Tensor, levels: Levels = None) -> th.Tensor:
        """
        Q values from already extracted features.

        :param features: observation features, shape (batch, features_dim)
        :param actions: actions in [-1, 1], shape (batch, act_dim)
        :param levels: noise level(s) for a noise-conditioned critic, ``None`` for a plain one
        :return: Q values of every critic, shape (n_critics, batch)
        """
        if (levels is None) != (self.n_levels is None):
            raise ValueError(
                "A noise-conditioned critic needs `levels`, a plain critic takes none "
                f"(n_levels={self.n_levels}, levels={levels!r})"
            )
        inputs = th.cat([features, actions], dim=1)
        if levels is None:
            return th.stack([q_net(inputs).squeeze(-1) for q_net in self.q_networks])
        batch_size = actions.shape[0]
        return th.stack(
            [
                q_net(th.cat([inputs, embed(levels, batch_size)], dim=1)).squeeze(-1)
                for q_net, embed in zip(self.q_networks, self.level_embeddings, strict=True)
            ]
        )

    def forward(self, obs: PyTorchObs, actions: th.Tensor, levels: Levels = None) -> th.Tensor:  # type: ignore[override]
        """
        :param obs: observations
        :param actions: actions in [-1, 1]
        :param levels: noise level(s), see :meth:`q_values`
        :return: Q values of every critic, shape (n_critics, batch)
        """
        features = self.extract_features(obs, self.features_extractor)
        return self.q_values(features, actions, levels)
