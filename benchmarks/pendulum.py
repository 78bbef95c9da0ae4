"""LQL, NC-LQL and SB3's SAC on Pendulum-v1 at the same budget, seeds and critic size.

Prints a markdown table: mean return over 10 deterministic evaluation episodes per seed, their mean,
and the wall-clock of each run. LQL and NC-LQL use the shipped YAML's Pendulum-v1 entries (2 x 64 networks,
Adam 1e-3, 1,000 random warm-up steps; LQL with step_size=1e-3), as tests/test_learning.py does; SAC gets the
same network, Adam step and warm-up.

Usage: python benchmarks/pendulum.py [--steps 4000] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np
import torch as th
from stable_baselines3 import SAC
from stable_baselines3.common.evaluation import evaluate_policy

from sb3_lql import LQL, NCLQL
from sb3_lql.zoo import load_budget, load_hyperparameters

_NCLQL = load_hyperparameters("nclql", "Pendulum-v1")
SHARED = {key: _NCLQL[key] for key in ("learning_rate", "learning_starts", "policy_kwargs")}
RUNS = {
    "NCLQL": (NCLQL, _NCLQL),
    "LQL": (LQL, load_hyperparameters("lql", "Pendulum-v1")),
    "SAC": (SAC, SHARED),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=load_budget("nclql", "Pendulum-v1"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--algos", nargs="+", default=list(RUNS), choices=list(RUNS))
    args = parser.parse_args()
    th.set_num_threads(1)
    print("| algorithm | steps | " + " | ".join(f"seed {s}" for s in args.seeds) + " | mean | s / run |")
    print("|---|---|" + "---|" * len(args.seeds) + "---|---|")
    for name in args.algos:
        algo, settings = RUNS[name]
        returns, times = [], []
        for seed in args.seeds:
            # deepcopy: SB3 writes into the policy_kwargs dict it is given
            model = algo("MlpPolicy", "Pendulum-v1", seed=seed, **copy.deepcopy(settings))
            start = time.perf_counter()
            model.learn(args.steps)
            times.append(time.perf_counter() - start)
            mean_return, _ = evaluate_policy(model, model.get_env(), n_eval_episodes=10, deterministic=True)
            returns.append(mean_return)
        cells = " | ".join(f"{r:.1f}" for r in returns)
        print(f"| {name} | {args.steps} | {cells} | {np.mean(returns):.1f} | {np.mean(times):.0f} |", flush=True)


if __name__ == "__main__":
    main()
