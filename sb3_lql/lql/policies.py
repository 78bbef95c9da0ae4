"""LQL policies: plain Langevin over a plain critic ensemble Q(s, a)."""

from __future__ import annotations

from sb3_lql.common.policies import DictObservationPolicy, LangevinPolicy


class LQLPolicy(LangevinPolicy):
    """
    LQL's policy: a plain twin critic Q(s, a) sampled by a
    :class:`~sb3_lql.common.langevin.PlainLangevinSampler`. Arguments: those of
    :class:`~sb3_lql.common.policies.LangevinPolicy` (``net_arch``, ``activation_fn``, ``n_critics``, ...).
    """


MlpPolicy = LQLPolicy


class MultiInputPolicy(DictObservationPolicy, LQLPolicy):
    """
    LQL policy for dict observations (goal-conditioned envs, ``HerReplayBuffer``): SB3's
    ``CombinedExtractor`` by default. Same arguments as :class:`LQLPolicy`.
    """
