"""NC-LQL: Langevin Q-Learning with a noise-conditioned critic and annealed Langevin (arXiv 2602.07873, Section 4)."""

from __future__ import annotations

from typing import Any, ClassVar

import torch as th
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import GymEnv

from sb3_lql.common.base_algorithm import LangevinQLearning, sampler_setting
from sb3_lql.common.langevin import AnnealedLangevinSampler
from sb3_lql.nclql.policies import CnnPolicy, MlpPolicy, MultiInputPolicy, NCLQLPolicy


class NCLQL(LangevinQLearning):
    """
    Noise-conditioned Langevin Q-Learning. The twin critic Q(s, ã, l) is conditioned on a geometric
    ladder of noise levels σ_0 > ... > σ_{L-1}; level L-1 is the clean critic, trained by TD, and
    each level l < L-1 regresses the clean value of replayed actions from actions noised by σ_l, so
    it learns a Gaussian-smoothed landscape. Actions come from annealed Langevin, smoothest level
    first. No actor, no entropy estimate.

    :param policy: ``"MlpPolicy"``, ``"CnnPolicy"`` (images), ``"MultiInputPolicy"`` (dict observations) or a
        policy class
    :param env: the environment to learn from (if registered in Gym, can be str)
    :param n_noise_levels: number of noise levels L (>= 2)
    :param sigma_max: largest noise level σ_0
    :param sigma_min: smallest noise level σ_{L-1}
    :param langevin_steps_per_level: Langevin steps T per level (L·T critic gradients per action)
    :param kwargs: the sampler settings shared with LQL (``inverse_temperature``, ``step_size`` (ε at the clean
        level; level l uses ε·(σ_l/σ_{L-1})²), ``normalize_grad``, ``n_particles``, ``metropolis``,
        ``compile_sampler``), ``reward_scale``, and every other argument of SB3's off-policy algorithms, as in
        SAC (``learning_rate``, ``buffer_size``, ``learning_starts``, ``batch_size``, ``tau``, ``gamma``,
        ``train_freq``, ``gradient_steps``, ``replay_buffer_class``, ``target_update_interval``,
        ``tensorboard_log``, ``policy_kwargs``, ``verbose``, ``seed``, ``device``, ...): see
        :class:`~sb3_lql.common.base_algorithm.LangevinQLearning`
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpPolicy": MlpPolicy,
        "CnnPolicy": CnnPolicy,
        "MultiInputPolicy": MultiInputPolicy,
    }
    policy: NCLQLPolicy
    sampler: AnnealedLangevinSampler
    sampler_class = AnnealedLangevinSampler
    policy_base = NCLQLPolicy
    n_noise_levels = sampler_setting("n_noise_levels")
    sigma_max = sampler_setting("sigma_max")
    sigma_min = sampler_setting("sigma_min")
    langevin_steps_per_level = sampler_setting("langevin_steps_per_level")

    def __init__(
        self,
        policy: str | type[NCLQLPolicy],
        env: GymEnv | str | None,
        n_noise_levels: int = 10,
        sigma_max: float = 0.1,
        sigma_min: float = 0.001,
        langevin_steps_per_level: int = 2,
        **kwargs: Any,
    ):
        ladder = dict(
            n_noise_levels=n_noise_levels,
            sigma_max=sigma_max,
            sigma_min=sigma_min,
            langevin_steps_per_level=langevin_steps_per_level,
        )
        super().__init__(policy, env, _sampler_settings=ladder, **kwargs)

    def train(self, gradient_steps: int, batch_size: int = 64) -> None:
        self._start_train()
        clean = self.sampler.n_noise_levels - 1
        sigmas = th.tensor(self.sampler.sigmas, device=self.device)

        for gradient_step in range(gradient_steps):
            batch = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)  # type: ignore[union-attr]

            # 1. The clean critics at the replayed (s, a), before this update. Their mean, detached, is the
            #    snapshot q_clean: the constant target of the denoising regression (step 4). The TD step
            #    (3) needs the very same forward pass, so it is computed once.
            current_q = self.critic(batch.observations, batch.actions, clean)
            q_clean = current_q.mean(dim=0).detach()

            # 2. a' ~ annealed Langevin on the online critic at s';
            #    y = reward_scale·r + γ·(1 - terminated)·min_i Q_targ_i(s', a', L-1)
            target_q, next_actions, sampler_stats = self._td_target(batch)

            # 3. TD step at the clean level
            td_loss = self._regression_loss(current_q, target_q)
            self._optimizer_step(td_loss)

            # 4. Denoising step: l ~ U{0..L-2}, ã = a + σ_l·ε (not clipped), Q_i(s, ã, l) → q_clean,
            #    so level l learns the Gaussian-smoothed value E[Q(s, a) | ã].
            levels = th.randint(0, clean, (batch.actions.shape[0],), device=self.device)
            noisy_actions = batch.actions + sigmas[levels].unsqueeze(1) * th.randn_like(batch.actions)
            denoise_q = self.critic(batch.observations, noisy_actions, levels)
            denoise_loss = self._regression_loss(denoise_q, q_clean)
            self._optimizer_step(denoise_loss, name="denoise")

            # 5. Polyak update of the target critics
            self._update_targets(gradient_step)

            self._log("td_loss", td_loss)
            self._log("denoise_loss", denoise_loss)
            self._log("q_mean", current_q.mean())
            self._log_sampler(next_actions, sampler_stats)

        self._end_train(gradient_steps)
