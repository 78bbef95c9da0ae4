"""Exact soft policy of the bandit on a grid, and the metrics every sampler is scored with.

For an inverse temperature w the target is pi(a) = exp(w·r(a)) / Z on [-1, 1]². Binned on a fine
grid (midpoint rule), it is compared with a sampler's 2-D histogram over the same bins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch as th

from sb3_lql.envs.bandit import BanditLandscape

RewardFn = Callable[[th.Tensor], th.Tensor]


def grid_centres(bins: int) -> np.ndarray:
    """
    :param bins: bins per axis over [-1, 1]
    :return: cell centres, shape (bins, bins, 2), indexed [x bin, y bin]
    """
    edges = np.linspace(-1.0, 1.0, bins + 1)
    mids = 0.5 * (edges[:-1] + edges[1:])
    return np.stack(np.meshgrid(mids, mids, indexing="ij"), axis=-1)


def boltzmann_grid(reward_fn: RewardFn, inverse_temperature: float, bins: int = 100) -> np.ndarray:
    """
    Exact Boltzmann probabilities of each grid cell, exp(w·r(centre)) normalised to sum 1.

    :param reward_fn: the reward (or critic) as a function of actions (..., 2) -> (...)
    :param inverse_temperature: w
    :param bins: bins per axis
    :return: cell probabilities, shape (bins, bins)
    """
    with th.no_grad():
        rewards = reward_fn(th.as_tensor(grid_centres(bins))).double().numpy()
    logits = inverse_temperature * rewards
    probs = np.exp(logits - logits.max())  # log-sum-exp: w·r can be in the hundreds
    return probs / probs.sum()


def histogram(samples: np.ndarray, bins: int = 100) -> np.ndarray:
    """
    :param samples: actions, shape (n, 2), in [-1, 1]
    :param bins: bins per axis
    :return: the fraction of samples in each grid cell, shape (bins, bins)
    """
    counts, _, _ = np.histogram2d(samples[:, 0], samples[:, 1], bins=bins, range=[[-1, 1], [-1, 1]])
    return counts / max(len(samples), 1)


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    """
    :param p: probabilities over the same cells as ``q``
    :param q: probabilities
    :return: ½·Σ|p - q|, in [0, 1]
    """
    return 0.5 * float(np.abs(p - q).sum())


def mode_masses(probs: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """
    Mass of each mode's region (the grid cells nearer to its centre than to any other).

    :param probs: cell probabilities, shape (bins, bins)
    :param centres: mode centres, shape (n_modes, 2)
    :return: mass per mode, shape (n_modes,)
    """
    cells = grid_centres(probs.shape[0]).reshape(-1, 2)
    nearest = np.argmin(((cells[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
    return np.bincount(nearest, weights=probs.reshape(-1), minlength=len(centres))


def mode_coverage(
    sample_probs: np.ndarray, target_probs: np.ndarray, centres: np.ndarray, min_mass: float = 0.05
) -> float:
    """
    Share of the modes holding at least ``min_mass`` of the target that also hold at least
    ``min_mass / 2`` of the samples.

    :param sample_probs: histogram of the samples
    :param target_probs: exact cell probabilities
    :param centres: mode centres
    :param min_mass: the fraction of target mass that makes a mode count
    :return: coverage in [0, 1]
    """
    target, sampled = mode_masses(target_probs, centres), mode_masses(sample_probs, centres)
    significant = target >= min_mass
    return float((sampled[significant] >= min_mass / 2).mean()) if significant.any() else 1.0


@dataclass
class SamplerScore:
    """
    How close a set of samples is to exp(w·r).

    :param tv: total-variation distance between the samples' histogram and the exact density
    :param coverage: mode coverage (see :func:`mode_coverage`)
    :param reward_mean: mean reward of the samples
    :param reward_std: standard deviation of the samples' rewards
    """

    tv: float
    coverage: float
    reward_mean: float
    reward_std: float


def score_samples(
    samples: np.ndarray, landscape: BanditLandscape, inverse_temperature: float, bins: int = 50, min_mass: float = 0.05
) -> SamplerScore:
    """
    Score samples against the exact Boltzmann distribution of the bandit's reward.

    :param samples: actions, shape (n, 2)
    :param landscape: the bandit's reward landscape
    :param inverse_temperature: w of the target
    :param bins: bins per axis for the TV distance and the mode masses
    :param min_mass: the target mass that makes a mode count for coverage
    :return: the score
    """
    target = boltzmann_grid(landscape.reward, inverse_temperature, bins)
    sampled = histogram(samples, bins)
    rewards = landscape.reward_numpy(samples)
    return SamplerScore(
        tv=total_variation(sampled, target),
        coverage=mode_coverage(sampled, target, landscape.centres, min_mass),
        reward_mean=float(rewards.mean()),
        reward_std=float(rewards.std()),
    )


def sample_exact(
    landscape: BanditLandscape, inverse_temperature: float, n: int, bins: int = 200, seed: int = 0
) -> np.ndarray:
    """
    Exact samples (up to the grid resolution): a cell drawn from the grid density, then a uniform point in it.

    :param landscape: the bandit's reward landscape
    :param inverse_temperature: w
    :param n: number of samples
    :param bins: bins per axis of the sampling grid
    :param seed: seed of the generator
    :return: samples, shape (n, 2)
    """
    rng = np.random.default_rng(seed)
    probs = boltzmann_grid(landscape.reward, inverse_temperature, bins).reshape(-1)
    cells = rng.choice(probs.size, size=n, p=probs)
    width = 2.0 / bins
    lower = np.stack([cells // bins, cells % bins], axis=1) * width - 1.0
    return lower + rng.uniform(0.0, width, size=(n, 2))
