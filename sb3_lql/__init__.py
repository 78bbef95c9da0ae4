"""Langevin Q-Learning (LQL and NC-LQL) for Stable-Baselines3."""

import os

from sb3_lql.versions import check_versions

check_versions()  # before anything that needs them: a clear message instead of an AttributeError later

import sb3_lql.envs  # noqa: E402, F401  (registers MultimodalBandit-v0)
from sb3_lql.lql import LQL  # noqa: E402
from sb3_lql.nclql import NCLQL  # noqa: E402

with open(os.path.join(os.path.dirname(__file__), "version.txt")) as _file:
    __version__ = _file.read().strip()

__all__ = ["LQL", "NCLQL", "__version__"]
