"""Writes the saved-model fixtures of ``tests/test_saved_format.py``.

The committed ``*_format1.zip`` files were written by this script at sb3-lql 0.1.0 (commit 11e8193), whose
critic held one ``nn.Sequential`` per Q network; the ``*_format2.zip`` files at 0.2.0, whose critics are one
stacked ensemble and whose sampler settings are plain entries of the saved data. They must keep loading, and
acting as they did, in every later version: the saved-model format is part of the API. ``*_formatN.npz``
holds what the writing version computed from them (actions, and critic values after two gradient steps) on
fixed inputs.

Run from the repository root: ``python tests/data/make_saved_models.py [suffix]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch as th
from stable_baselines3.common.utils import set_random_seed

from sb3_lql import LQL, NCLQL

HERE = Path(__file__).parent
SETTINGS = {
    LQL: dict(langevin_steps=4, step_size=3e-3, inverse_temperature=20.0, n_particles=2),
    NCLQL: dict(n_noise_levels=4, sigma_max=0.2, sigma_min=0.01, langevin_steps_per_level=2, inverse_temperature=20.0),
}


def probe_inputs(seed: int = 123) -> tuple[np.ndarray, th.Tensor, th.Tensor]:
    """Fixed Pendulum observations and [-1, 1] actions at which the fixtures are compared."""
    rng = np.random.default_rng(seed)
    obs = rng.uniform([-1.0, -1.0, -8.0], [1.0, 1.0, 8.0], size=(6, 3)).astype(np.float32)
    actions = rng.uniform(-1.0, 1.0, size=(6, 1)).astype(np.float32)
    return obs, th.as_tensor(obs), th.as_tensor(actions)


def critic_values(model: LQL | NCLQL, obs: th.Tensor, actions: th.Tensor) -> np.ndarray:
    """Q values of every critic (online and target) at every level: (2, n_levels, n_critics, batch)."""
    levels = [None] if isinstance(model, LQL) else list(range(model.n_noise_levels))
    with th.no_grad():
        return np.stack(
            [[net(obs, actions, level).numpy() for level in levels] for net in (model.critic, model.critic_target)]
        )


def probe(model: LQL | NCLQL) -> dict[str, np.ndarray]:
    """What the model computes: greedy and seeded stochastic actions, critic values before and after 2 updates."""
    obs_np, obs, actions = probe_inputs()
    out = {"deterministic": model.predict(obs_np, deterministic=True)[0]}
    th.manual_seed(7)
    out["stochastic"] = model.predict(obs_np, deterministic=False)[0]
    out["values"] = critic_values(model, obs, actions)
    set_random_seed(11)
    model.train(gradient_steps=2, batch_size=16)
    out["values_after_train"] = critic_values(model, obs, actions)
    return out


def main(suffix: str = "format1") -> None:
    for algo in (LQL, NCLQL):
        name = f"{algo.__name__.lower()}_{suffix}"
        model = algo(
            "MlpPolicy",
            "Pendulum-v1",
            seed=0,
            learning_starts=20,
            batch_size=16,
            buffer_size=200,
            learning_rate=1e-3,
            policy_kwargs=dict(net_arch=[16, 16]),
            **SETTINGS[algo],
        )
        model.learn(60)
        model.save(HERE / name)
        model.save_replay_buffer(HERE / f"{name}_buffer")
        np.savez(HERE / f"{name}.npz", **probe(model))


if __name__ == "__main__":
    main(*sys.argv[1:])
