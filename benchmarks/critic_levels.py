"""How far each critic level is from the bandit's closed-form landscapes as training goes, LQL against NC-LQL.

Trains each algorithm on ``MultimodalBandit-v0`` with the shipped YAML entry and prints, every ``--every`` env
steps, each level's correlation with its Gaussian-smoothed landscape and the error left after removing an offset
(:mod:`sb3_lql.envs.diagnostics`). LQL has one (plain) level; NC-LQL's level L-1 is its clean critic.

Usage: python benchmarks/critic_levels.py [--algos lql nclql] [--seeds 0 1] [--steps 5000] [--every 1000]
       [--set KEY=VALUE ...]   (e.g. --set n_noise_levels=2 "policy_kwargs=dict(net_arch=[256, 256])")
"""

from __future__ import annotations

import argparse
import ast
import time
from typing import Any

import gymnasium as gym
import torch as th

from sb3_lql import LQL, NCLQL
from sb3_lql.envs.diagnostics import CriticLandscapeCallback
from sb3_lql.zoo import load_hyperparameters

ALGORITHMS = {"lql": LQL, "nclql": NCLQL}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algos", nargs="+", default=list(ALGORITHMS), choices=list(ALGORITHMS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--steps", type=int, default=5_000)
    parser.add_argument("--every", type=int, default=1_000)
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE", help="override YAML entries")
    args = parser.parse_args()
    overrides: dict[str, Any] = {}
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key] = eval(value, {"dict": dict}) if key == "policy_kwargs" else ast.literal_eval(value)
    th.set_num_threads(1)
    print("| algorithm | seed | env steps | per level, smoothest first: correlation / error (reward units) | s |")
    print("|---|---|---|---|---|")
    for name in args.algos:
        for seed in args.seeds:
            env = gym.make("MultimodalBandit-v0")
            settings = {**load_hyperparameters(name, "MultimodalBandit-v0"), **overrides}
            model = ALGORITHMS[name]("MlpPolicy", env, seed=seed, **settings)
            callback = CriticLandscapeCallback(env.unwrapped.landscape, eval_freq=args.every)  # type: ignore[attr-defined]
            start = time.perf_counter()
            model.learn(args.steps, callback=callback)
            elapsed = time.perf_counter() - start
            for steps, fits in callback.history:
                cells = " ".join(
                    f"{'plain' if fit.level is None else fit.level}: {fit.correlation:.2f} / {fit.error:.3f}"
                    for fit in fits
                )
                print(f"| {name} | {seed} | {steps} | {cells} | {elapsed:.0f} |", flush=True)


if __name__ == "__main__":
    main()
