"""Over temperatures, budgets and seeds: how close each trained agent's samples come to the bandit's exact soft policy.

For every inverse temperature w, seed and algorithm, one agent is trained on ``MultimodalBandit-v0`` and, at every
budget of ``--budgets`` (one run, measured on the way), 10,000 of its stochastic actions are scored against the
exact soft policy exp(w·r)/Z on a 50 x 50 grid (:mod:`sb3_lql.envs.reference`): total-variation distance (TV),
mode coverage and the samples' reward. For LQL and NC-LQL the TV is split in two, so that the sampler and the
critic can be judged apart:

- *critic TV*: TV(exp(w·Q)/Z, exp(w·r)/Z), Q the agent's (clean) critic on the grid: how far the soft policy the
  agent aims at is from the exact one (no sampling involved);
- *sampler TV*: TV(samples, exp(w·Q)/Z): how far the samples are from the soft policy of the agent's own critic
  (the Langevin chain's error alone; its floor, the TV of 10,000 exact draws from exp(w·Q)/Z, is recorded as
  ``sampler_floor``; the floor of the first TV is printed per w as "exact").

and each critic level's fit to its closed-form landscape is recorded
(:func:`sb3_lql.envs.diagnostics.critic_level_fits`).

The agents: LQL and NC-LQL with the shipped ``MultimodalBandit-v0`` entries and ``inverse_temperature=w``, NC-LQL
twice: with the reference implementation's initialisation (``nclql``: ``action_init_gain=1``) and with
``action_init_gain=2.52`` (``nclql-gain``: its action weights start at a plain critic's scale), each also scored
with its trained critic sampled by MALA (``metropolis=True`` at evaluation only: same critic, adjusted chain);
SB3's SAC with ``ent_coef=1/w`` (its target policy is then the same exp(w·Q)/Z) and TD3 (deterministic: trained
once per seed, scored against every w), both with 2 x 64 networks, Adam 1e-3 and the same warm-up.

Each run writes ``--out/<algo>_w<w>_seed<s>.json`` when it ends (and, with ``--save-models``, the trained agent to
``--out/<algo>_w<w>_seed<s>.zip``, for ``benchmarks/critic_modes.py``); a later call skips the runs already written, so
the sweep resumes after an interruption. ``--summary`` prints the tables (mean ± std over seeds) from those files.

Usage: python benchmarks/bandit_sweep.py [--w 2 5 20 50] [--seeds 0 1 2 3 4] [--budgets 2000 5000] [--workers 2]
       python benchmarks/bandit_sweep.py --summary [--plot benchmarks/results/bandit/sweep.png]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch as th
from stable_baselines3 import SAC, TD3
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback

from sb3_lql import LQL, NCLQL
from sb3_lql.common.base_algorithm import LangevinQLearning
from sb3_lql.envs import BanditLandscape
from sb3_lql.envs.diagnostics import critic_level_fits, critic_on_grid
from sb3_lql.envs.reference import boltzmann_grid, histogram, sample_exact, score_samples, total_variation
from sb3_lql.zoo import load_hyperparameters

ENV_ID = "MultimodalBandit-v0"
RESULTS = Path(__file__).resolve().parent / "results" / "bandit" / "sweep"
ALGORITHMS = ("lql", "nclql", "sac", "td3", "nclql-gain")
NAMES = {"lql": "LQL", "nclql": "NC-LQL", "nclql-gain": "NC-LQL, action gain 2.52", "sac": "SAC", "td3": "TD3"}
#: The settings an agent changes in its algorithm's YAML entry.
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    # The reference implementation's initialisation, whatever the shipped entry says.
    "nclql": ("nclql", dict(policy_kwargs=dict(net_arch=[64, 64], action_init_gain=1.0))),
    # The critic's initial action weights at a plain critic's scale: sqrt((1 + 2 + 16) / (1 + 2)) = 2.52
    # (benchmarks/critic_levels.py: the 16 embedding inputs make them start 2.52 times smaller, which slows the clean
    # level on this task).
    "nclql-gain": ("nclql", dict(policy_kwargs=dict(net_arch=[64, 64], action_init_gain=2.52))),
}
BINS = 50
SAMPLES = 10_000
#: SB3's baselines: the sizes and optimiser of our bandit entries, and the same warm-up.
BASELINE = dict(learning_rate=1e-3, learning_starts=500, policy_kwargs=dict(net_arch=[64, 64]))


def build(algo: str, w: float, seed: int) -> BaseAlgorithm:
    """
    :param algo: one of :data:`ALGORITHMS`
    :param w: the inverse temperature of the soft policy the agent is scored against
    :param seed: the seed
    :return: the untrained agent
    """
    algo, changes = VARIANTS.get(algo, (algo, {}))
    if algo in ("lql", "nclql"):
        settings = {**load_hyperparameters(algo, ENV_ID), **changes, "inverse_temperature": w}
        return (LQL if algo == "lql" else NCLQL)("MlpPolicy", ENV_ID, seed=seed, **settings)
    settings = {**BASELINE, "policy_kwargs": dict(BASELINE["policy_kwargs"])}  # type: ignore[call-overload]
    if algo == "sac":
        return SAC("MlpPolicy", ENV_ID, seed=seed, ent_coef=1.0 / w, **settings)
    return TD3("MlpPolicy", ENV_ID, seed=seed, **settings)


def score(model: BaseAlgorithm, landscape: BanditLandscape, w: float, seed: int) -> dict[str, Any]:
    """:return: TV, coverage and reward of 10,000 stochastic actions; critic and sampler TV where they apply"""
    observations = np.zeros((SAMPLES, *model.observation_space.shape), dtype=np.float32)  # type: ignore[misc]
    with th.random.fork_rng(devices=[]):  # the sampler's own draws, leaving the training's random stream as it was
        th.manual_seed(seed)
        samples = np.asarray(model.predict(observations, deterministic=False)[0], dtype=np.float64).reshape(-1, 2)
    result = score_samples(samples, landscape, w, BINS)
    row: dict[str, Any] = dict(
        tv=result.tv, coverage=result.coverage, reward_mean=result.reward_mean, reward_std=result.reward_std
    )
    if isinstance(model, LangevinQLearning):
        # The agent's own soft policy exp(w·Q)/Z on the grid (Q is reward_scale·r at best: w·Q is the exponent the
        # sampler targets).
        logits = w * critic_on_grid(model, model.sampler.clean_level, BINS)
        own = np.exp(logits - logits.max())
        own /= own.sum()
        row["critic_tv"] = total_variation(own, boltzmann_grid(landscape.reward, w, BINS))
        row["sampler_tv"] = total_variation(histogram(samples, BINS), own)
        # The same for 10,000 exact draws from exp(w·Q)/Z: the part of the sampler TV that is sampling noise.
        exact = np.random.default_rng(seed).multinomial(SAMPLES, own.reshape(-1)).reshape(own.shape) / SAMPLES
        row["sampler_floor"] = total_variation(exact, own)
    return row


class Budgets(BaseCallback):
    """Scores the agent when the run reaches each budget (for LQL / NC-LQL also with MALA and the level fits)."""

    def __init__(self, budgets: list[int], temperatures: list[float], seed: int):
        super().__init__()
        self.budgets, self.temperatures, self.seed = budgets, temperatures, seed
        self.landscape = BanditLandscape()
        self.rows: list[dict[str, Any]] = []
        self.start = time.perf_counter()

    def _on_step(self) -> bool:
        if self.num_timesteps in self.budgets:
            seconds = time.perf_counter() - self.start
            for w in self.temperatures:
                row = dict(
                    budget=self.num_timesteps, w=w, seconds=seconds, **score(self.model, self.landscape, w, self.seed)
                )
                if isinstance(self.model, LangevinQLearning):
                    metropolis, self.model.metropolis = self.model.metropolis, True
                    mala = score(self.model, self.landscape, w, self.seed)
                    self.model.metropolis = metropolis
                    row.update({f"mala_{key}": value for key, value in mala.items()})
                    row["levels"] = [
                        dict(level=fit.level, sigma=fit.sigma, correlation=fit.correlation, error=fit.error)
                        for fit in critic_level_fits(self.model, self.landscape, BINS)
                    ]
                self.rows.append(row)
        return True


def run(
    algo: str, w: float, seed: int, budgets: list[int], temperatures: list[float], out: Path, save_model: bool = False
) -> str:
    """Trains one agent to the last budget, scoring it on the way, and writes its file (and the agent if asked)."""
    th.set_num_threads(1)
    model = build(algo, w, seed)
    callback = Budgets(budgets, temperatures, seed)
    model.learn(max(budgets), callback=callback)
    path = out / f"{algo}_w{w:g}_seed{seed}.json"
    if save_model:  # before the results file: a run whose file exists is not run again
        model.save(path.with_suffix(".zip"))
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(dict(algo=algo, train_w=w, seed=seed, rows=callback.rows), indent=1))
    tmp.replace(path)  # a run is either written whole or not at all
    return f"{path.name}: {callback.rows[-1]['seconds']:.0f} s"


def jobs(args: argparse.Namespace) -> list[tuple[str, float, int, list[float]]]:
    """:return: (algo, w it trains with, seed, the ws it is scored against) of every run not yet written"""
    todo = []
    for seed in args.seeds:
        for algo in args.algos:
            # TD3 ignores w: one run per seed, scored against every w (filed under the first).
            for w in args.w[:1] if algo == "td3" else args.w:
                temperatures = list(args.w) if algo == "td3" else [w]
                if not (args.out / f"{algo}_w{w:g}_seed{seed}.json").exists():
                    todo.append((algo, w, seed, temperatures))
    return todo


def collect(out: Path) -> dict[tuple[float, int, str], list[dict[str, Any]]]:
    """:return: the rows of every run in ``out``, by (w, budget, agent), the MALA scorings as agents of their own"""
    cells: dict[tuple[float, int, str], list[dict[str, Any]]] = defaultdict(list)
    for path in sorted(out.glob("*.json")):
        record = json.loads(path.read_text())
        for row in record["rows"]:
            name = NAMES[record["algo"]]
            cells[(row["w"], row["budget"], name)].append(row)
            if "mala_tv" in row:
                cells[(row["w"], row["budget"], name + " + MALA")].append(
                    {key[5:]: value for key, value in row.items() if key.startswith("mala_")}
                    | {"levels": row["levels"], "seconds": row["seconds"]}
                )
    return cells


def uniform_samples() -> np.ndarray:
    """:return: 10,000 uniformly random actions (what an agent that learned nothing would give), seeded"""
    return np.random.default_rng(0).uniform(-1.0, 1.0, size=(SAMPLES, 2))


def plot(out: Path, path: Path) -> None:
    """
    The figure of the sweep: per budget (columns), the TV to the exact soft policy (top) and the sampler TV
    (bottom) against w, mean ± std over seeds, with the floor of 10,000 exact samples.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells, landscape = collect(out), BanditLandscape()
    temperatures = sorted({key[0] for key in cells})
    budgets = sorted({key[1] for key in cells})
    names = [f"{name}{mala}" for name in NAMES.values() for mala in ("", " + MALA")]
    fig, axes = plt.subplots(2, len(budgets), figsize=(6.5 * len(budgets), 9), sharey="row", squeeze=False)
    for column, budget in enumerate(budgets):
        for row, key in enumerate(("tv", "sampler_tv")):
            ax = axes[row, column]
            for name in names:
                points = [(w, [r[key] for r in cells.get((w, budget, name), []) if key in r]) for w in temperatures]
                points = [(w, values) for w, values in points if values]
                if points:
                    ws, values = zip(*points, strict=True)
                    ax.errorbar(ws, [np.mean(v) for v in values], yerr=[np.std(v) for v in values], capsize=3,
                                marker="o", label=name, linestyle="--" if "MALA" in name else "-")  # fmt: skip
            if key == "tv":
                floor = [
                    score_samples(sample_exact(landscape, w, SAMPLES), landscape, w, BINS).tv for w in temperatures
                ]
                ax.plot(temperatures, floor, color="black", linestyle=":", label="exact samples (floor)")
                uniform = [score_samples(uniform_samples(), landscape, w, BINS).tv for w in temperatures]
                ax.plot(temperatures, uniform, color="grey", linestyle="-.", label="uniform random actions")
            ax.set(xscale="log", xlabel="inverse temperature w", title=f"{budget:,} env steps")
            ax.set_xticks(temperatures, [f"{w:g}" for w in temperatures])
            ax.minorticks_off()
        axes[0, column].set_ylabel("TV to exp(w·r)/Z")
        axes[1, column].set_ylabel("sampler TV: to exp(w·Q)/Z of the agent's own critic")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle("MultimodalBandit-v0: trained agents against the exact soft policy (mean ± std over seeds)")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def summary(out: Path) -> None:
    """Prints the tables: per w, budget and agent, mean ± std over seeds."""
    cells = collect(out)
    landscape = BanditLandscape()

    def stat(rows: list[dict[str, Any]], key: str, digits: int = 2) -> str:
        values = np.array([row[key] for row in rows if key in row], dtype=np.float64)
        return "-" if len(values) == 0 else f"{values.mean():.{digits}f} ± {values.std():.{digits}f}"

    columns = ["w", "env steps", "agent", "seeds", "TV to exp(w·r)/Z", "critic TV", "sampler TV (floor)", "coverage",
               "reward", "clean-level correlation", "s"]  # fmt: skip
    print("| " + " | ".join(columns) + " |\n" + "|---" * len(columns) + "|")
    for w in sorted({key[0] for key in cells}):
        floor = score_samples(sample_exact(landscape, w, SAMPLES), landscape, w, BINS)
        print(f"| {w:g} | - | exact (10,000 samples: the floor) | - | {floor.tv:.2f} | 0 | - | {floor.coverage:.2f} | "
              f"{floor.reward_mean:.2f} ± {floor.reward_std:.2f} | - | - |")  # fmt: skip
        uniform = score_samples(uniform_samples(), landscape, w, BINS)
        print(f"| {w:g} | - | uniform random actions | - | {uniform.tv:.2f} | - | - | {uniform.coverage:.2f} | "
              f"{uniform.reward_mean:.2f} ± {uniform.reward_std:.2f} | - | - |")  # fmt: skip
        for budget in sorted({key[1] for key in cells if key[0] == w}):
            for name in [f"{name}{mala}" for name in NAMES.values() for mala in ("", " + MALA")]:
                rows = cells.get((w, budget, name), [])
                if not rows:
                    continue
                clean = [dict(c=row["levels"][-1]["correlation"]) for row in rows if "levels" in row]
                print(
                    f"| {w:g} | {budget} | {name} | {len(rows)} | {stat(rows, 'tv')} | {stat(rows, 'critic_tv')} | "
                    f"{stat(rows, 'sampler_tv')} ({stat(rows, 'sampler_floor')}) | {stat(rows, 'coverage')} | "
                    f"{stat(rows, 'reward_mean')} | "
                    f"{stat(clean, 'c')} | {stat(rows, 'seconds', 0)} |"
                )
    print("\nThe levels (smoothest first): correlation with the closed-form smoothed reward, over w and seeds")
    levels: dict[tuple[str, int], list[np.ndarray]] = defaultdict(list)
    for (_, budget, name), rows in cells.items():
        if "levels" in rows[0] and "MALA" not in name:
            levels[(name, budget)] += [np.array([fit["correlation"] for fit in row["levels"]]) for row in rows]
    for (name, budget), fits in sorted(levels.items()):
        stacked = np.stack(fits)
        cells_text = " ".join(f"{m:.2f}±{s:.2f}" for m, s in zip(stacked.mean(0), stacked.std(0), strict=True))
        print(f"{name}, {budget} env steps ({len(fits)} runs): {cells_text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algos", nargs="+", default=list(ALGORITHMS), choices=ALGORITHMS)
    parser.add_argument("--w", nargs="+", type=float, default=[2.0, 5.0, 20.0, 50.0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--budgets", nargs="+", type=int, default=[2_000, 5_000], help="env steps")
    parser.add_argument("--workers", type=int, default=2, help="runs in parallel, one thread each")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--summary", action="store_true", help="only print the tables of the runs in --out")
    parser.add_argument("--plot", type=Path, default=None, help="also draw the figure to this PNG file")
    parser.add_argument(
        "--save-models", action="store_true", help="also save each trained agent to --out (for critic_modes.py)"
    )
    args = parser.parse_args()
    if not args.summary:
        args.out.mkdir(parents=True, exist_ok=True)
        todo = jobs(args)
        print(f"{len(todo)} runs to do", flush=True)
        with ProcessPoolExecutor(args.workers) as pool:
            futures = [
                pool.submit(run, algo, w, seed, args.budgets, temps, args.out, args.save_models)
                for algo, w, seed, temps in todo
            ]
            for future in futures:
                print(future.result(), flush=True)
    summary(args.out)
    if args.plot:
        plot(args.out, args.plot)


if __name__ == "__main__":
    main()
