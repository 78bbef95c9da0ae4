"""How far each critic level is from the bandit's closed-form landscapes as training goes, LQL against NC-LQL.

Trains each algorithm on ``MultimodalBandit-v0`` with the shipped YAML entry and prints, every ``--every`` env
steps, each level's correlation with its Gaussian-smoothed landscape and the error left after removing an offset
(:mod:`sb3_lql.envs.diagnostics`). LQL has one (plain) level; NC-LQL's level L-1 is its clean critic.

Controlled experiments on why a noise-conditioned critic learns its clean level more slowly than a plain one:

- ``--set KEY=VALUE``: any setting of the YAML entry (capacity, number of levels, learning rate, ...);
- ``--ablation no-denoising``: NC-LQL without its denoising step (the clean level is trained by TD alone, the other
  levels not at all): is the denoising update on the shared network what slows the clean level?
- ``--ablation two-optimizers``: the denoising step has its own Adam (same settings) instead of sharing the TD
  loss's moment estimates;
- ``--set "policy_kwargs=dict(net_arch=[64, 64], action_init_gain=X)"``: the critic's initial first-layer weights
  on the action inputs multiplied by X (a linear layer's default initialisation scales them by 1/sqrt(fan-in), and
  NC-LQL's fan-in includes its level embedding: 1 + 2 + 16 inputs against LQL's 1 + 2, so its action weights start
  sqrt(19/3) = 2.52 times smaller; X = 2.52 for NC-LQL, or 1/2.52 = 0.397 for LQL, swaps the two scales);
- ``--fixed-data``: every agent learns from the same replay buffer of uniformly random actions (``--steps`` of
  them), with as many gradient steps as a normal run makes, so that differences in what the agents' samplers
  explore are taken out.

Usage: python benchmarks/critic_levels.py [--algos lql nclql] [--seeds 0 1] [--steps 5000] [--every 1000]
       [--set KEY=VALUE ...]   (e.g. --set n_noise_levels=2 "policy_kwargs=dict(net_arch=[256, 256])")
       [--ablation {no-denoising,two-optimizers}] [--fixed-data]
"""

from __future__ import annotations

import argparse
import ast
import time
from typing import Any

import gymnasium as gym
import torch as th

from sb3_lql import LQL, NCLQL
from sb3_lql.envs.diagnostics import CriticLandscapeCallback, critic_level_fits
from sb3_lql.zoo import load_hyperparameters

ALGORITHMS = {"lql": LQL, "nclql": NCLQL}


class NoDenoising(NCLQL):
    """NC-LQL whose denoising step is skipped (an ablation: the update is otherwise the paper's)."""

    def _optimizer_step(self, loss: th.Tensor, name: str = "td") -> None:
        if name != "denoise":
            super()._optimizer_step(loss, name)


class TwoOptimizers(NCLQL):
    """NC-LQL whose denoising step has an Adam of its own (an ablation: same learning rate and settings)."""

    def _optimizer_step(self, loss: th.Tensor, name: str = "td") -> None:
        if name != "denoise":
            super()._optimizer_step(loss, name)
            return
        td_optimizer = self.critic.optimizer
        if not hasattr(self, "denoise_optimizer"):
            self.denoise_optimizer = type(td_optimizer)(self.critic.parameters(), **td_optimizer.defaults)
        self.critic.optimizer = self.denoise_optimizer
        try:
            super()._optimizer_step(loss, name)
        finally:
            self.critic.optimizer = td_optimizer


ABLATIONS = {"no-denoising": NoDenoising, "two-optimizers": TwoOptimizers}


def learn_from_fixed_data(model: LQL | NCLQL, steps: int, every: int, callback: CriticLandscapeCallback) -> None:
    """
    Fill the buffer with ``steps`` uniformly random actions, then make the gradient steps a normal run makes
    (one per env step after the warm-up), measuring the levels every ``every`` of them.
    """
    updates = steps - model.learning_starts
    model.learning_starts = steps  # every action of this learn() call is a uniform random one, and no update
    model.learn(steps)
    callback.init_callback(model)
    done = 0
    while done < updates:
        chunk = min(every, updates - done)
        model.train(gradient_steps=chunk, batch_size=model.batch_size)
        done += chunk
        callback.history.append((done, critic_level_fits(model, callback.landscape, callback.bins)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algos", nargs="+", default=list(ALGORITHMS), choices=list(ALGORITHMS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--steps", type=int, default=5_000)
    parser.add_argument("--every", type=int, default=1_000)
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE", help="override YAML entries")
    parser.add_argument("--ablation", choices=list(ABLATIONS), default=None, help="NC-LQL ablations")
    parser.add_argument("--fixed-data", action="store_true", help="learn from one buffer of random actions")
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
            algo = ABLATIONS[args.ablation] if args.ablation and name == "nclql" else ALGORITHMS[name]
            model = algo("MlpPolicy", env, seed=seed, **settings)
            callback = CriticLandscapeCallback(env.unwrapped.landscape, eval_freq=args.every)  # type: ignore[attr-defined]
            start = time.perf_counter()
            if args.fixed_data:
                learn_from_fixed_data(model, args.steps, args.every, callback)
            else:
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
