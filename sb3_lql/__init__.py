"""Langevin Q-Learning (LQL and NC-LQL) for Stable-Baselines3."""

import os

import sb3_lql.envs  # noqa: F401  (registers MultimodalBandit-v0)
from sb3_lql.lql import LQL
from sb3_lql.nclql import NCLQL

with open(os.path.join(os.path.dirname(__file__), "version.txt")) as _file:
    __version__ = _file.read().strip()

__all__ = ["LQL", "NCLQL", "__version__"]
