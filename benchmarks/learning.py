"""Learning benchmark: algorithm x env x seed runs through the RL Zoo entry point, collected into one CSV.

Every run is ``python -m sb3_lql.train`` (rl_zoo3 with LQL and NC-LQL registered) with the benchmark's
own hyperparameter files, ``benchmarks/hyperparams/<algo>.yml``: one entry per task, with the same budget,
network size, warm-up, batch and learning rate for all four algorithms. rl_zoo3's evaluation callback
records the greedy policy (``deterministic=True``) into ``evaluations.npz``;
:class:`sb3_lql.common.callbacks.StochasticEvalCallback` records the stochastic policy beside it.

Runs go in parallel, up to ``--jobs`` at a time (default: one per core, each with its share of the
threads). A finished run leaves ``done.json`` in its folder and is not redone by a later call; an
unfinished one is deleted and started again. At the end all finished runs are collected into ``--csv``,
one row per (algo, env, seed, mode, evaluation). ``benchmarks/report.py`` turns it into BENCHMARKS.md.

Usage::

    python benchmarks/learning.py                        # the whole suite, seeds 0 1 2
    python benchmarks/learning.py --envs Pendulum-v1 --algos nclql sac --seeds 0
    python benchmarks/learning.py --collect-only         # rebuild the CSV from finished runs
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

BENCHMARKS_DIR = Path(__file__).resolve().parent
CONF_DIR = BENCHMARKS_DIR / "hyperparams"
ALGOS = ("lql", "nclql", "sac", "td3")
# Evaluation schedule per task: (env steps between evaluations, episodes per evaluation).
# The budgets themselves are the ``n_timesteps`` of the hyperparameter files.
# Evaluating the Langevin policies costs 20 critic-gradient evaluations per action, so long episodes get few.
# The tasks are listed cheapest first, the order the suite runs them in.
EVALUATION = {
    "Pendulum-v1": (1_000, 5),
    "InvertedPendulum-v5": (1_500, 3),
    "MountainCarContinuous-v0": (2_500, 2),
    "InvertedDoublePendulum-v5": (2_500, 3),
    "Hopper-v5": (2_500, 3),
}
CSV_FIELDS = (
    "algo",
    "env",
    "seed",
    "mode",
    "timesteps",
    "mean_return",
    "std_return",
    "n_episodes",
    "n_timesteps",
    "wall_clock_s",
)
MODES = {"deterministic": "evaluations.npz", "stochastic": "evaluations_stochastic.npz"}


@dataclass(frozen=True)
class Job:
    """
    One training run.

    :param algo: rl_zoo3 algorithm name (``lql``, ``nclql``, ``sac``, ``td3``)
    :param env: gymnasium env id
    :param seed: the run's seed
    """

    algo: str
    env: str
    seed: int

    def folder(self, root: Path) -> Path:
        """
        :param root: the benchmark's run folder
        :return: this run's folder (rl_zoo3's ``-f``)
        """
        return root / self.algo / self.env / f"seed{self.seed}"


def run_job(
    job: Job,
    root: Path,
    threads: int,
    n_timesteps: int | None = None,
    eval_freq: int | None = None,
    eval_episodes: int | None = None,
) -> str:
    """
    Train one run through ``python -m sb3_lql.train`` unless it has finished before.

    :param job: the run
    :param root: the benchmark's run folder
    :param threads: torch / OpenMP threads for the run
    :param n_timesteps: override of the YAML budget (for quick checks); None keeps the YAML's
    :param eval_freq: override of :data:`EVALUATION`'s env steps between evaluations
    :param eval_episodes: override of :data:`EVALUATION`'s episodes per evaluation
    :return: ``"skipped"`` (finished before), ``"done"`` or ``"failed"``
    """
    folder = job.folder(root)
    if (folder / "done.json").exists():
        return "skipped"
    if folder.exists():  # an interrupted run: rl_zoo3 would start a second experiment beside it
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    default_freq, default_episodes = EVALUATION.get(job.env, (5_000, 3))
    eval_freq = eval_freq or default_freq
    eval_episodes = eval_episodes or default_episodes
    run_dir = folder / job.algo / f"{job.env}_1"  # where rl_zoo3 puts the first experiment of -f folder
    stochastic_eval = {
        "sb3_lql.common.callbacks.StochasticEvalCallback": dict(
            env_id=job.env, log_path=str(run_dir), eval_freq=eval_freq, n_eval_episodes=eval_episodes, seed=job.seed
        )
    }
    command = [
        sys.executable, "-m", "sb3_lql.train",
        "--algo", job.algo, "--env", job.env, "--seed", str(job.seed),
        "--conf-file", str(CONF_DIR / f"{job.algo}.yml"), "-f", str(folder),
        "--eval-freq", str(eval_freq), "--eval-episodes", str(eval_episodes), "--n-eval-envs", "1",
        "--device", "cpu", "--verbose", "1",
        "--hyperparams", f"callback:[{stochastic_eval!r}]",
    ]  # fmt: skip
    if n_timesteps is not None:
        command += ["-n", str(n_timesteps)]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    start = time.perf_counter()
    with open(folder / "train.log", "w") as log:
        returncode = subprocess.call(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    wall_clock = time.perf_counter() - start
    if returncode != 0 or not all((run_dir / name).exists() for name in MODES.values()):
        return "failed"
    if n_timesteps is None:
        with open(CONF_DIR / f"{job.algo}.yml") as file:
            n_timesteps = int(float(yaml.safe_load(file)[job.env]["n_timesteps"]))
    record = dict(
        algo=job.algo, env=job.env, seed=job.seed, n_timesteps=n_timesteps, wall_clock_s=wall_clock, command=command
    )
    (folder / "done.json").write_text(json.dumps(record, indent=1))
    return "done"


def collect(root: Path) -> list[dict[str, object]]:
    """
    Read the evaluation logs of every finished run under ``root``.

    :param root: the benchmark's run folder
    :return: one row per (algo, env, seed, mode, evaluation), with the fields of :data:`CSV_FIELDS`
    """
    rows: list[dict[str, object]] = []
    for done in sorted(glob.glob(str(root / "*" / "*" / "seed*" / "done.json"))):
        record = json.loads(Path(done).read_text())
        run_dir = Path(done).parent / record["algo"] / f"{record['env']}_1"
        for mode, name in MODES.items():
            log = np.load(run_dir / name)
            returns = np.asarray(log["results"], dtype=float)  # (evaluations, episodes)
            for timesteps, episode_returns in zip(log["timesteps"], returns, strict=True):
                rows.append(
                    dict(
                        algo=record["algo"],
                        env=record["env"],
                        seed=record["seed"],
                        mode=mode,
                        timesteps=int(timesteps),
                        mean_return=float(np.mean(episode_returns)),
                        std_return=float(np.std(episode_returns)),
                        n_episodes=len(episode_returns),
                        n_timesteps=record["n_timesteps"],
                        wall_clock_s=round(float(record["wall_clock_s"]), 1),
                    )
                )
    return rows


def write_csv(rows: Iterable[dict[str, object]], path: Path) -> None:
    """
    :param rows: rows with the fields of :data:`CSV_FIELDS`
    :param path: the CSV file to write (its folder is created)
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> None:
    """
    :param argv: command-line arguments (default: ``sys.argv[1:]``)
    """
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algos", nargs="+", default=list(ALGOS), choices=ALGOS)
    parser.add_argument("--envs", nargs="+", default=list(EVALUATION))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="runs at a time")
    parser.add_argument("--root", type=Path, default=BENCHMARKS_DIR / "runs", help="folder for the runs")
    parser.add_argument("--csv", type=Path, default=BENCHMARKS_DIR / "results" / "learning" / "learning.csv")
    parser.add_argument("-n", "--n-timesteps", type=int, default=None, help="override every run's budget")
    parser.add_argument("--eval-freq", type=int, default=None, help="override env steps between evaluations")
    parser.add_argument("--eval-episodes", type=int, default=None, help="override episodes per evaluation")
    parser.add_argument("--collect-only", action="store_true", help="only rebuild the CSV from finished runs")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be >= 1, got {args.jobs}")

    if not args.collect_only:
        # task by task, seed by seed: a task's runs land together, all algorithms at a seed side by side
        jobs = [Job(algo, env, seed) for env in args.envs for seed in args.seeds for algo in args.algos]
        threads = max(1, (os.cpu_count() or 1) // args.jobs)

        def launch(job: Job) -> str:
            status = run_job(job, args.root, threads, args.n_timesteps, args.eval_freq, args.eval_episodes)
            print(f"{status:8s} {job.algo:6s} {job.env} seed {job.seed}", flush=True)
            return status

        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            statuses = list(pool.map(launch, jobs))
        if "failed" in statuses:
            print(f"{statuses.count('failed')} run(s) failed: see train.log in their folders under {args.root}")

    rows = collect(args.root)
    write_csv(rows, args.csv)
    n_runs = len({(row["algo"], row["env"], row["seed"]) for row in rows})
    print(f"{len(rows)} evaluation rows from {n_runs} runs -> {args.csv}")


if __name__ == "__main__":
    main()
