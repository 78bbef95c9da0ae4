"""The 2-D multimodal bandit: one state, an action in [-1, 1]², a reward with separated modes.

The landscape of the paper's bandit figures (arXiv 2602.07873) is not published, so this one is ours:
Gaussian bumps of unequal height on a low floor. The reward is deterministic and also exposed as a vectorised function
of actions, so that tools can evaluate it on a grid and samplers can run on it directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from gymnasium import spaces

#: (x, y, height) of each mode of the default landscape: six separated bumps of unequal height.
DEFAULT_MODES: tuple[tuple[float, float, float], ...] = (
    (-0.6, 0.6, 1.0),
    (0.6, 0.6, 0.9),
    (0.0, 0.0, 0.8),
    (-0.6, -0.6, 0.85),
    (0.6, -0.6, 0.7),
    (0.0, -0.75, 0.6),
)


@dataclass(frozen=True)
class BanditLandscape:
    """
    r(a) = floor + Σ_i height_i · exp(-|a - centre_i|² / (2·width²)).

    :param modes: (x, y, height) of each bump
    :param width: standard deviation of every bump
    :param floor: reward far from every mode
    """

    modes: tuple[tuple[float, float, float], ...] = DEFAULT_MODES
    width: float = 0.12
    floor: float = 0.0

    def __post_init__(self) -> None:
        if len(self.modes) == 0 or any(len(mode) != 3 for mode in self.modes):
            raise ValueError(f"`modes` must be a non-empty sequence of (x, y, height), got {self.modes!r}")
        if not self.width > 0:
            raise ValueError(f"`width` must be > 0, got {self.width!r}")

    @property
    def centres(self) -> np.ndarray:
        """Mode centres, shape (n_modes, 2)."""
        return np.array([mode[:2] for mode in self.modes], dtype=np.float64)

    def reward(self, actions: th.Tensor) -> th.Tensor:
        """
        :param actions: actions of shape (..., 2)
        :return: rewards of shape (...), differentiable with respect to the actions
        """
        return self.smoothed_reward(actions, 0.0)

    def smoothed_reward(self, actions: th.Tensor, sigma: float) -> th.Tensor:
        """
        The reward convolved with N(0, σ²I), E[r(a + σ·ε)], in closed form: each bump keeps its
        centre, its variance grows to width² + σ² and its height shrinks by width² / (width² + σ²).
        It is what the noise-conditioned critic's level σ learns from uniformly spread actions.

        :param actions: actions of shape (..., 2)
        :param sigma: the smoothing noise level σ (0 gives the reward itself)
        :return: smoothed rewards of shape (...), differentiable with respect to the actions
        """
        table = th.as_tensor(self.modes, dtype=actions.dtype, device=actions.device)
        variance = self.width**2 + sigma**2
        squared = ((actions.unsqueeze(-2) - table[:, :2]) ** 2).sum(dim=-1)
        heights = table[:, 2] * self.width**2 / variance
        return self.floor + (heights * th.exp(-squared / (2 * variance))).sum(dim=-1)

    def reward_numpy(self, actions: np.ndarray) -> np.ndarray:
        """
        :param actions: actions of shape (..., 2)
        :return: rewards of shape (...)
        """
        return self.reward(th.as_tensor(np.asarray(actions, dtype=np.float64))).numpy()


class MultimodalBandit(gym.Env):
    """
    One-step bandit: a constant observation, a 2-D action in [-1, 1]², reward r(a), then the episode ends.

    :param modes: (x, y, height) of each mode (default: :data:`DEFAULT_MODES`)
    :param width: standard deviation of every mode
    :param floor: reward far from every mode
    :param render_mode: ``"rgb_array"`` or ``None``
    """

    metadata: dict[str, Any] = {"render_modes": ["rgb_array"]}

    def __init__(
        self,
        modes: Sequence[Sequence[float]] = DEFAULT_MODES,
        width: float = 0.12,
        floor: float = 0.0,
        render_mode: str | None = None,
    ):
        self.render_mode = render_mode
        self._last_action: np.ndarray | None = None
        self.landscape = BanditLandscape(tuple(tuple(float(v) for v in mode) for mode in modes), width, floor)  # type: ignore[misc]
        self.observation_space = spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        self._observation = np.zeros(1, dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        return self._observation.copy(), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        clipped = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0)
        self._last_action = clipped
        reward = float(self.landscape.reward_numpy(clipped))
        return self._observation.copy(), reward, True, False, {}

    def render(self, size: int = 128) -> np.ndarray:  # type: ignore[override]
        """
        :param size: image side in pixels
        :return: the reward landscape in grey (x to the right, y up) with the last action in red
        """
        axis = np.linspace(-1.0, 1.0, size)
        xs, ys = np.meshgrid(axis, axis[::-1])  # row 0 is y = 1
        reward = self.landscape.reward_numpy(np.stack([xs, ys], axis=-1))
        grey = (255 * (reward - reward.min()) / max(np.ptp(reward), 1e-12)).astype(np.uint8)
        image = np.repeat(grey[..., None], 3, axis=-1)
        if self._last_action is not None:
            col, row = (
                ((np.array([self._last_action[0], -self._last_action[1]]) + 1) / 2 * (size - 1)).round().astype(int)
            )
            image[max(row - 2, 0) : row + 3, max(col - 2, 0) : col + 3] = (255, 0, 0)
        return image
