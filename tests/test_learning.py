"""Both algorithms learn Pendulum-v1 (fixed seed, modest budget).

The settings and the budget are the shipped YAML's Pendulum-v1 entries, as in examples/demo.py: 4,000
environment steps (1,000 random warm-up steps, then one gradient step per env step: 3,000 updates), a
2 x 64 mish critic and Adam at 1e-3. It is the smallest budget at which every seed of our sweep (0, 1, 2)
beat -400 for both algorithms (benchmarks/README.md). SB3's SAC reaches about -150 at the same budget.

LQL's entry has ``step_size=1e-3``: with the default 1e-4 and a unit-normalised gradient, 20 Langevin
steps move an action by at most 20·½·1e-4·500 = 0.5, so the greedy chain from the centre cannot reach
Pendulum's torque limits.
"""

from __future__ import annotations

import pytest
import torch as th
from stable_baselines3.common.evaluation import evaluate_policy

from sb3_lql import LQL, NCLQL
from sb3_lql.zoo import load_budget, load_hyperparameters


@pytest.mark.parametrize("algo", [NCLQL, LQL], ids=["NCLQL", "LQL"])
def test_learns_pendulum(algo):
    th.set_num_threads(1)
    name = algo.__name__.lower()
    model = algo("MlpPolicy", "Pendulum-v1", seed=0, **load_hyperparameters(name, "Pendulum-v1"))
    model.learn(BUDGET := load_budget(name, "Pendulum-v1"))
    mean_return, _ = evaluate_policy(model, model.get_env(), n_eval_episodes=10, deterministic=True)
    assert mean_return > -400, f"{algo.__name__} reached {mean_return:.1f} after {BUDGET} steps"
