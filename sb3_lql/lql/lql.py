"""LQL: Langevin Q-Learning with a plain twin critic (SPEC.md, section 1)."""

from __future__ import annotations

from typing import Any, ClassVar

from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import GymEnv

from sb3_lql.common.base_algorithm import LangevinQLearning
from sb3_lql.common.utils import check_positive_int
from sb3_lql.lql.policies import LQLPolicy, MlpPolicy, MultiInputPolicy


class LQL(LangevinQLearning):
    """
    Langevin Q-Learning: no actor. Actions are drawn from pi(a|s) ∝ exp(w·Q(s, a)) by ``langevin_steps``
    steps of unadjusted Langevin dynamics on the twin critic, which is trained by TD towards
    ``reward_scale·r + γ·(1 - terminated)·min_i Q_targ_i(s', a')`` with a' sampled the same way.

    :param policy: ``"MlpPolicy"``, ``"MultiInputPolicy"`` or a policy class
    :param env: the environment to learn from (if registered in Gym, can be str)
    :param langevin_steps: Langevin steps K per sampled action
    :param step_size: the Langevin step size ε
    :param inverse_temperature: w of the soft policy
    :param normalize_grad: rescale each action gradient to unit L2 norm in the sampler
    :param n_particles: chains per decision, best-of-N by min-Q when > 1
    :param reward_scale: rewards are multiplied by this in the TD target
    :param kwargs: every other argument of SB3's off-policy algorithms, as in SAC (``learning_rate``,
        ``buffer_size``, ``learning_starts``, ``batch_size``, ``tau``, ``gamma``, ``train_freq``,
        ``gradient_steps``, ``replay_buffer_class``, ``target_update_interval``, ``tensorboard_log``,
        ``policy_kwargs``, ``verbose``, ``seed``, ``device``, ...): see
        :class:`~sb3_lql.common.base_algorithm.LangevinQLearning`
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpPolicy": MlpPolicy,
        "MultiInputPolicy": MultiInputPolicy,
    }
    policy: LQLPolicy
    sampler_arguments = (*LangevinQLearning.sampler_arguments, "step_size", "langevin_steps")

    def __init__(
        self,
        policy: str | type[LQLPolicy],
        env: GymEnv | str | None,
        langevin_steps: int = 20,
        step_size: float = 1e-4,
        inverse_temperature: float = 500.0,
        normalize_grad: bool = True,
        n_particles: int = 1,
        reward_scale: float = 0.2,
        **kwargs: Any,
    ):
        check_positive_int("langevin_steps", langevin_steps)
        self.langevin_steps = int(langevin_steps)
        super().__init__(
            policy,
            env,
            step_size=step_size,
            inverse_temperature=inverse_temperature,
            normalize_grad=normalize_grad,
            n_particles=n_particles,
            reward_scale=reward_scale,
            **kwargs,
        )

    def train(self, gradient_steps: int, batch_size: int = 64) -> None:
        self.policy.set_training_mode(True)
        self._update_learning_rate([self.critic.optimizer])
        logs = self._new_logs()

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

            logs["td_loss"].append(td_loss.item())
            logs["q_mean"].append(current_q.mean().item())
            self._record_sampler(logs, next_actions, sampler_stats)

        self._log_train(logs, gradient_steps)
