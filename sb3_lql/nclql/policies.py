"""NC-LQL policies: annealed Langevin over a noise-conditioned twin critic Q(s, ã, l)."""

from __future__ import annotations

from typing import Any

import torch as th
from gymnasium import spaces
from stable_baselines3.common.type_aliases import Schedule

from sb3_lql.common.langevin import LangevinSchedule, geometric_sigmas
from sb3_lql.common.policies import DictObservationPolicy, LangevinPolicy
from sb3_lql.common.utils import check_positive_float, check_positive_int


class NCLQLPolicy(LangevinPolicy):
    """
    NC-LQL's policy: a critic conditioned on ``n_noise_levels`` geometric noise levels from
    ``sigma_max`` to ``sigma_min``, sampled by annealed Langevin, ``langevin_steps_per_level``
    steps per level with α_l = ε·(σ_l/σ_{L-1})².

    :param observation_space: observation space
    :param action_space: action space
    :param lr_schedule: learning rate schedule
    :param n_noise_levels: number of noise levels L (>= 2; the last one is the clean critic)
    :param sigma_max: largest noise level σ₀
    :param sigma_min: smallest noise level σ_{L-1}
    :param langevin_steps_per_level: Langevin steps T on each level
    :param step_size: the step size ε at the clean level
    :param level_embedding_dim: size of the level embedding (sinusoidal features, then an MLP)
    :param kwargs: the arguments of :class:`~sb3_lql.common.policies.LangevinPolicy`
        (``net_arch``, ``activation_fn``, ``inverse_temperature``, ...)
    """

    sigmas: th.Tensor

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        lr_schedule: Schedule,
        n_noise_levels: int = 10,
        sigma_max: float = 0.1,
        sigma_min: float = 0.001,
        langevin_steps_per_level: int = 2,
        step_size: float = 1e-4,
        level_embedding_dim: int = 16,
        **kwargs: Any,
    ):
        check_noise_ladder(n_noise_levels, sigma_max, sigma_min)
        check_positive_int("langevin_steps_per_level", langevin_steps_per_level)
        check_positive_float("step_size", step_size)
        sigmas = geometric_sigmas(sigma_max, sigma_min, n_noise_levels)
        schedule = LangevinSchedule.annealed(step_size, sigmas, langevin_steps_per_level)
        super().__init__(
            observation_space,
            action_space,
            lr_schedule,
            schedule=schedule,
            n_levels=n_noise_levels,
            level_embedding_dim=level_embedding_dim,
            **kwargs,
        )
        self.register_buffer("sigmas", th.tensor(sigmas, dtype=th.float32, device=self.device), persistent=False)
        self.n_noise_levels = n_noise_levels
        self.sigma_max = sigma_max
        self.sigma_min = sigma_min
        self.langevin_steps_per_level = langevin_steps_per_level
        self.step_size = step_size

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        del data["schedule"], data["n_levels"]
        data.update(
            n_noise_levels=self.n_noise_levels,
            sigma_max=self.sigma_max,
            sigma_min=self.sigma_min,
            langevin_steps_per_level=self.langevin_steps_per_level,
            step_size=self.step_size,
        )
        return data


def check_noise_ladder(n_noise_levels: int, sigma_max: float, sigma_min: float) -> None:
    """
    :param n_noise_levels: number of levels, at least 2 (one noisy level and the clean one)
    :param sigma_max: largest noise level
    :param sigma_min: smallest noise level, in (0, sigma_max)
    :raises ValueError: naming the bad argument
    """
    check_positive_int("n_noise_levels", n_noise_levels, minimum=2)
    check_positive_float("sigma_max", sigma_max)
    check_positive_float("sigma_min", sigma_min)
    if sigma_min >= sigma_max:
        raise ValueError(
            f"`sigma_min` must be smaller than `sigma_max`, got sigma_min={sigma_min}, sigma_max={sigma_max}"
        )


MlpPolicy = NCLQLPolicy


class MultiInputPolicy(DictObservationPolicy, NCLQLPolicy):
    """
    NCLQL policy for dict observations (goal-conditioned envs, ``HerReplayBuffer``): SB3's
    ``CombinedExtractor`` by default. Same arguments as :class:`NCLQLPolicy`.
    """
