"""The oldest versions of the dependencies that sb3-lql works with, checked once, when the package is imported.

- torch 2.4: the first release with Adam's fused kernel on CPU, the critics' default optimiser step.
- stable-baselines3 2.7: the first release with n-step returns for off-policy algorithms (``n_steps``).
- gymnasium 1.0: the API of the environments in ``sb3_lql.envs`` and of SB3 2.7.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib import metadata

#: Distribution name -> the oldest version that works (setup.cfg's ``install_requires`` says the same).
MINIMUM_VERSIONS: dict[str, tuple[int, ...]] = {
    "torch": (2, 4),
    "stable-baselines3": (2, 7),
    "gymnasium": (1, 0),
}


def release(version: str) -> tuple[int, ...]:
    """
    :param version: a version string, e.g. ``"2.13.0+cpu"`` or ``"2.7.1a0"``
    :return: its release numbers, e.g. ``(2, 13, 0)``
    """
    match = re.match(r"\d+(\.\d+)*", version)
    return tuple(int(part) for part in match.group(0).split(".")) if match else ()


def check_versions(version_of: Callable[[str], str] = metadata.version) -> None:
    """
    :param version_of: how to read an installed distribution's version
    :raises ImportError: naming the first dependency older than :data:`MINIMUM_VERSIONS` allows
    """
    for name, minimum in MINIMUM_VERSIONS.items():
        installed = version_of(name)
        if release(installed) < minimum:
            wanted = ".".join(map(str, minimum))
            raise ImportError(f"sb3-lql needs {name} >= {wanted}, but {name} {installed} is installed")
