"""Argument checks shared by both algorithms: bad input fails early, with a ValueError naming the argument.

Each check returns the value in its plain Python type, so that one call both checks and normalises.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
from gymnasium import spaces

#: The largest float32: settings the chain multiplies into float32 tensors stay below it.
FLOAT32_MAX = float(np.finfo(np.float32).max)


def positive_int(name: str, value: Any, minimum: int = 1) -> int:
    """
    :param name: the argument's name, for the error message
    :param value: the value to check
    :param minimum: the smallest allowed value
    :return: ``value`` as an int
    :raises ValueError: if ``value`` is not an integer >= ``minimum``
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}, got {value!r}")
    return int(value)


def positive_float(name: str, value: Any) -> float:
    """
    :param name: the argument's name, for the error message
    :param value: the value to check
    :return: ``value`` as a float
    :raises ValueError: if ``value`` is not a finite real number > 0 (and representable in float32)
    """
    number = float(value) if isinstance(value, numbers.Real) and not isinstance(value, bool) else math.nan
    if not 0 < number <= FLOAT32_MAX:  # also refuses NaN
        raise ValueError(f"`{name}` must be a finite number > 0, got {value!r}")
    return number


def bounded_float(name: str, value: Any, low: float, high: float) -> float:
    """
    :param name: the argument's name, for the error message
    :param value: the value to check
    :param low: the smallest allowed value
    :param high: the largest allowed value
    :return: ``value`` as a float
    :raises ValueError: if ``value`` is not a real number in [low, high]
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not low <= float(value) <= high:
        raise ValueError(f"`{name}` must be a number in [{low:g}, {high:g}], got {value!r}")
    return float(value)


def flag(name: str, value: Any) -> bool:
    """
    :param name: the argument's name, for the error message
    :param value: the value to check
    :return: ``value`` as a bool
    :raises ValueError: if ``value`` is not a bool
    """
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"`{name}` must be a bool, got {value!r}")
    return bool(value)


def rate_or_schedule(name: str, value: Any) -> float | Callable[[float], float]:
    """
    A learning rate: a finite number >= 0 (0 freezes the weights, as rl_zoo3's ``enjoy`` loads models), or a
    schedule of the progress remaining whose values at the two ends are; every later value is checked when used.

    :param name: the argument's name, for the error message
    :param value: the value to check
    :return: the value
    :raises ValueError: naming the argument
    """
    if callable(value):
        checks = [(f"{name} (a schedule) at progress remaining {progress}", value(progress)) for progress in (1.0, 0.0)]
    else:
        checks = [(name, value)]
    for where, rate in checks:
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or rate != 0:  # 0 is allowed, False not
            positive_float(where, rate)
    return value  # type: ignore[no-any-return]


def check_action_space(action_space: spaces.Space) -> None:
    """
    Langevin sampling needs a continuous, bounded, non-degenerate action space.

    :param action_space: the environment's action space
    :raises ValueError: for a non-Box space, a Box of integers, or a Box with infinite or equal bounds
    """
    if not isinstance(action_space, spaces.Box):
        raise ValueError(
            f"The action space must be a gymnasium.spaces.Box (continuous actions), got {action_space}: "
            "Langevin sampling follows the critic's gradient with respect to the action"
        )
    if not np.issubdtype(action_space.dtype, np.floating):
        raise ValueError(
            f"The action space {action_space} holds integers ({action_space.dtype}): Langevin sampling needs "
            "continuous actions (use a float Box, and round in a wrapper if the env needs integers)"
        )
    if not (np.all(np.isfinite(action_space.low)) and np.all(np.isfinite(action_space.high))):
        raise ValueError(
            f"The action space {action_space} has infinite bounds: actions are sampled in [-1, 1] and "
            "rescaled to the bounds, so every bound must be finite"
        )
    if np.any(action_space.high <= action_space.low):
        flat = np.flatnonzero(action_space.high.ravel() <= action_space.low.ravel())
        raise ValueError(
            f"The action space {action_space} has low >= high in dimension(s) {flat.tolist()} (flattened): "
            "a dimension with no room has no gradient to follow; drop it with a wrapper"
        )
