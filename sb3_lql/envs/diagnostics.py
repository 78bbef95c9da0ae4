"""How far a trained critic's levels are from the bandit's closed-form landscapes.

On ``MultimodalBandit-v0`` every episode is one step, so a converged critic is Q(a) = reward_scale · r(a) at
the clean level (TD without bootstrap), and level l of NC-LQL's noise-conditioned critic regresses the clean
value of replayed actions from actions noised by σ_l: with replayed actions spread over the box it learns the
Gaussian-smoothed reward E[r(a + σ_l·ε)], which the bandit gives in closed form
(:meth:`~sb3_lql.envs.bandit.BanditLandscape.smoothed_reward`). For each level this module measures, on a grid
of actions, the correlation of Q_l / reward_scale with that landscape and the error left after removing a
constant offset (the part of Q that Langevin dynamics cannot see), and :class:`CriticLandscapeCallback` logs
them as training goes on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch as th
from stable_baselines3.common.callbacks import BaseCallback

from sb3_lql.common.base_algorithm import LangevinQLearning
from sb3_lql.common.langevin import AnnealedLangevinSampler
from sb3_lql.envs.bandit import BanditLandscape
from sb3_lql.envs.reference import grid_centres


@dataclass(frozen=True)
class LevelFit:
    """
    How well one critic level matches its closed-form landscape.

    :param level: the critic level (``None`` for a plain critic)
    :param sigma: the smoothing of the landscape it is compared with (0 for the clean level and a plain critic)
    :param correlation: Pearson correlation of Q_l / reward_scale with the landscape over the grid
    :param error: root mean square of (Q_l / reward_scale - landscape) after removing its mean, in reward units
    """

    level: int | None
    sigma: float
    correlation: float
    error: float


def landscape_fit(learned: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """
    :param learned: values of the critic on a grid
    :param target: values of the closed-form landscape on the same grid
    :return: their correlation (0 when either is constant) and the RMS difference after removing its mean
    """
    learned, target = np.asarray(learned, dtype=np.float64).ravel(), np.asarray(target, dtype=np.float64).ravel()
    difference = learned - target
    error = float(np.sqrt(np.mean((difference - difference.mean()) ** 2)))
    if learned.std() == 0 or target.std() == 0:
        return 0.0, error
    return float(np.corrcoef(learned, target)[0, 1]), error


def critic_on_grid(model: LangevinQLearning, level: int | None, bins: int = 50) -> np.ndarray:
    """
    :param model: an LQL or NC-LQL model trained on the bandit
    :param level: the critic level (``None`` for a plain critic)
    :param bins: grid cells per action dimension
    :return: mean_i Q_i(s, a[, level]) at every cell centre of :func:`~sb3_lql.envs.reference.grid_centres`,
        shape (bins, bins)
    """
    actions = th.as_tensor(grid_centres(bins).reshape(-1, 2), dtype=th.float32, device=model.device)
    observations = th.zeros((actions.shape[0], *model.observation_space.shape), device=model.device)  # type: ignore[misc]
    with th.no_grad():
        values = model.critic(observations, actions, level).mean(dim=0)
    return values.double().cpu().numpy().reshape(bins, bins)


def critic_level_fits(model: LangevinQLearning, landscape: BanditLandscape, bins: int = 50) -> list[LevelFit]:
    """
    :param model: an LQL or NC-LQL model trained on the bandit
    :param landscape: the bandit's landscape
    :param bins: grid cells per action dimension
    :return: one :class:`LevelFit` per critic level, smoothest first (one for a plain critic)
    """
    actions = th.as_tensor(grid_centres(bins).reshape(-1, 2))
    levels: list[int | None] = [None]
    sigmas = [0.0]
    if isinstance(model.sampler, AnnealedLangevinSampler):
        levels = list(range(model.sampler.n_noise_levels))
        sigmas = [*model.sampler.sigmas[:-1], 0.0]  # the clean level is trained by TD on r itself
    fits = []
    for level, sigma in zip(levels, sigmas, strict=True):
        learned = critic_on_grid(model, level, bins) / model.reward_scale
        target = landscape.smoothed_reward(actions, sigma).numpy()
        correlation, error = landscape_fit(learned, target)
        fits.append(LevelFit(level, sigma, correlation, error))
    return fits


class CriticLandscapeCallback(BaseCallback):
    """
    Logs, every ``eval_freq`` env steps, each critic level's fit to its closed-form landscape:
    ``critic/level_<l>_correlation`` and ``critic/level_<l>_error`` (``critic/plain_...`` for LQL), and keeps
    them in :attr:`history` as ``(env steps, [LevelFit, ...])``. Usable in any bandit run.

    :param landscape: the bandit's landscape (``env.unwrapped.landscape``)
    :param eval_freq: env steps between two measurements
    :param bins: grid cells per action dimension
    :param verbose: verbosity
    """

    def __init__(self, landscape: BanditLandscape, eval_freq: int, bins: int = 50, verbose: int = 0):
        super().__init__(verbose)
        self.landscape, self.eval_freq, self.bins = landscape, eval_freq, bins
        self.history: list[tuple[int, list[LevelFit]]] = []

    def _on_step(self) -> bool:
        steps, previous = self.num_timesteps, self.num_timesteps - self.training_env.num_envs
        if steps // self.eval_freq > previous // self.eval_freq:
            assert isinstance(self.model, LangevinQLearning)
            fits = critic_level_fits(self.model, self.landscape, self.bins)
            self.history.append((steps, fits))
            for fit in fits:
                name = "plain" if fit.level is None else f"level_{fit.level}"
                self.logger.record(f"critic/{name}_correlation", fit.correlation)
                self.logger.record(f"critic/{name}_error", fit.error)
        return True
