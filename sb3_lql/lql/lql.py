"""LQL: Langevin Q-Learning with a plain twin critic (arXiv 2602.07873, Section 3)."""

from __future__ import annotations

from typing import Any, ClassVar

from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import GymEnv

from sb3_lql.common.base_algorithm import LangevinQLearning, sampler_setting
from sb3_lql.common.langevin import PlainLangevinSampler
from sb3_lql.lql.policies import CnnPolicy, LQLPolicy, MlpPolicy, MultiInputPolicy


class LQL(LangevinQLearning):
    """
    Langevin Q-Learning: no actor. Actions are drawn from pi(a|s) ∝ exp(w·Q(s, a)) by ``langevin_steps``
    steps of unadjusted Langevin dynamics on the twin critic, which is trained by TD towards
    ``reward_scale·r + γ·(1 - terminated)·min_i Q_targ_i(s', a')`` with a' sampled the same way.

    :param policy: ``"MlpPolicy"``, ``"CnnPolicy"`` (images), ``"MultiInputPolicy"`` (dict observations) or a
        policy class
    :param env: the environment to learn from (if registered in Gym, can be str)
    :param langevin_steps: Langevin steps K per sampled action
    :param kwargs: the sampler settings shared with NC-LQL (``inverse_temperature``, ``step_size``,
        ``normalize_grad``, ``n_particles``, ``metropolis``, ``compile_sampler``), ``reward_scale``, and every
        other argument of SB3's off-policy algorithms, as in SAC (``learning_rate``,
        ``buffer_size``, ``learning_starts``, ``batch_size``, ``tau``, ``gamma``, ``train_freq``,
        ``gradient_steps``, ``replay_buffer_class``, ``target_update_interval``, ``tensorboard_log``,
        ``policy_kwargs``, ``verbose``, ``seed``, ``device``, ...): see
        :class:`~sb3_lql.common.base_algorithm.LangevinQLearning`
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpPolicy": MlpPolicy,
        "CnnPolicy": CnnPolicy,
        "MultiInputPolicy": MultiInputPolicy,
    }
    policy: LQLPolicy
    sampler: PlainLangevinSampler
    sampler_class = PlainLangevinSampler
    policy_base = LQLPolicy
    langevin_steps = sampler_setting("langevin_steps")

    def __init__(
        self, policy: str | type[LQLPolicy], env: GymEnv | str | None, langevin_steps: int = 20, **kwargs: Any
    ):
        super().__init__(policy, env, _sampler_settings=dict(langevin_steps=langevin_steps), **kwargs)

    def train(self, gradient_steps: int, batch_size: int = 64) -> None:
        self._start_train()

        for gradient_step in range(gradient_steps):
            batch = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)  # type: ignore[union-attr]

            # y = reward_scale·r + γ·(1 - terminated)·min_i Q_targ_i(s', a'),  a' ~ Langevin(online Q, s')
            target_q, next_actions, sampler_stats = self._td_target(batch)

            # TD regression of both critics on the replayed (s, a)
            current_q = self.critic(batch.observations, batch.actions)
            td_loss = self._regression_loss(current_q, target_q)
            self._optimizer_step(td_loss)

            # Polyak update of the target critics
            self._update_targets(gradient_step)

            self._log("td_loss", td_loss)
            self._log("q_mean", current_q.mean())
            self._log_sampler(next_actions, sampler_stats)

        self._end_train(gradient_steps)
