"""Argument checks shared by both algorithms: bad input fails at construction, naming the argument."""

from __future__ import annotations

import numbers

import numpy as np
from gymnasium import spaces


def check_positive_int(name: str, value: object, minimum: int = 1) -> None:
    """
    :param name: the argument's name, for the error message
    :param value: the value to check
    :param minimum: the smallest allowed value
    :raises ValueError: if ``value`` is not an integer >= ``minimum``
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}, got {value!r}")


def check_positive_float(name: str, value: object) -> None:
    """
    :param name: the argument's name, for the error message
    :param value: the value to check
    :raises ValueError: if ``value`` is not a finite real number > 0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(float(value)) or value <= 0:
        raise ValueError(f"`{name}` must be a finite number > 0, got {value!r}")


def check_action_space(action_space: spaces.Space) -> None:
    """
    Langevin sampling needs a continuous, bounded action space.

    :param action_space: the environment's action space
    :raises ValueError: for a non-Box space or a Box with infinite bounds
    """
    if not isinstance(action_space, spaces.Box):
        raise ValueError(
            f"The action space must be a gymnasium.spaces.Box (continuous actions), got {action_space}: "
            "Langevin sampling follows the critic's gradient with respect to the action"
        )
    if not (np.all(np.isfinite(action_space.low)) and np.all(np.isfinite(action_space.high))):
        raise ValueError(
            f"The action space {action_space} has infinite bounds: actions are sampled in [-1, 1] and "
            "rescaled to the bounds, so every bound must be finite"
        )
