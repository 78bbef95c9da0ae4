"""Environments shipped with sb3-lql, registered with gymnasium when ``sb3_lql`` is imported."""

import gymnasium as gym

from sb3_lql.envs.bandit import DEFAULT_MODES, BanditLandscape, MultimodalBandit

if "MultimodalBandit-v0" not in gym.registry:
    gym.register(id="MultimodalBandit-v0", entry_point="sb3_lql.envs.bandit:MultimodalBandit")

__all__ = ["DEFAULT_MODES", "BanditLandscape", "MultimodalBandit"]
