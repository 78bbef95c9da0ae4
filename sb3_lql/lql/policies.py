"""LQL policies: plain Langevin over a plain twin critic Q(s, a)."""

from __future__ import annotations

from typing import Any

from gymnasium import spaces
from stable_baselines3.common.type_aliases import Schedule

from sb3_lql.common.langevin import LangevinSchedule
from sb3_lql.common.policies import DictObservationPolicy, LangevinPolicy
from sb3_lql.common.utils import check_positive_float, check_positive_int


class LQLPolicy(LangevinPolicy):
    """
    LQL's policy: ``langevin_steps`` Langevin steps of size ``step_size`` on the plain critic.

    :param observation_space: observation space
    :param action_space: action space
    :param lr_schedule: learning rate schedule
    :param langevin_steps: number of Langevin steps K per action
    :param step_size: the Langevin step size ε
    :param kwargs: the arguments of :class:`~sb3_lql.common.policies.LangevinPolicy`
        (``net_arch``, ``activation_fn``, ``inverse_temperature``, ...)
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        lr_schedule: Schedule,
        langevin_steps: int = 20,
        step_size: float = 1e-4,
        **kwargs: Any,
    ):
        check_positive_int("langevin_steps", langevin_steps)
        check_positive_float("step_size", step_size)
        schedule = LangevinSchedule.plain(step_size, langevin_steps)
        super().__init__(observation_space, action_space, lr_schedule, schedule=schedule, n_levels=None, **kwargs)
        self.langevin_steps = langevin_steps
        self.step_size = step_size

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        del data["schedule"], data["n_levels"], data["level_embedding_dim"]
        data.update(langevin_steps=self.langevin_steps, step_size=self.step_size)
        return data


MlpPolicy = LQLPolicy


class MultiInputPolicy(DictObservationPolicy, LQLPolicy):
    """
    LQL policy for dict observations (goal-conditioned envs, ``HerReplayBuffer``): SB3's
    ``CombinedExtractor`` by default. Same arguments as :class:`LQLPolicy`.
    """
