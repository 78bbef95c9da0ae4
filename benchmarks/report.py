"""Turn the learning benchmark's CSV into learning curves and a results table in BENCHMARKS.md.

For each task: one PNG with the mean return over seeds ± its standard error against environment steps,
the greedy policy (``deterministic=True``) on the left and the stochastic one on the right. One markdown
table for all tasks, per algorithm: seeds, budget, final and best return (each the mean over seeds ±
standard error; a seed's *final* return is its last evaluation, its *best* the highest of its
evaluations), for both evaluation modes, and the mean wall-clock of a run.

The generated part of BENCHMARKS.md sits between two marker lines; the text around it is kept.

Usage: python benchmarks/report.py [--csv benchmarks/results/learning/learning.csv] [--markdown BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import csv
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from learning import EVALUATION  # benchmarks/learning.py, beside this script

BENCHMARKS_DIR = Path(__file__).resolve().parent
BEGIN = "<!-- report.py: begin (generated, edits between these lines are overwritten) -->"
END = "<!-- report.py: end -->"
ALGO_ORDER = ("nclql", "lql", "sac", "td3")
# tasks in the order of benchmarks/learning.py's suite (cheapest first); other tasks follow, sorted
TASK_ORDER = tuple(EVALUATION)
ALGO_LABELS = {"nclql": "NC-LQL", "lql": "LQL", "sac": "SAC", "td3": "TD3"}
MODES = ("deterministic", "stochastic")


def load_rows(path: Path) -> list[dict[str, Any]]:
    """
    :param path: a CSV written by ``benchmarks/learning.py``
    :return: its rows, with numbers converted
    """
    rows: list[dict[str, Any]] = []
    with open(path, newline="") as file:
        for row in csv.DictReader(file):
            rows.append(
                dict(
                    algo=row["algo"],
                    env=row["env"],
                    seed=int(row["seed"]),
                    mode=row["mode"],
                    timesteps=int(row["timesteps"]),
                    mean_return=float(row["mean_return"]),
                    n_timesteps=int(row["n_timesteps"]),
                    wall_clock_s=float(row["wall_clock_s"]),
                )
            )
    return rows


def mean_and_standard_error(values: np.ndarray) -> tuple[float, float]:
    """
    :param values: one value per seed
    :return: their mean and its standard error (sample std / sqrt(n); 0 for a single seed)
    """
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return float(values.mean()), 0.0
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(len(values)))


def per_seed_returns(rows: list[dict[str, Any]], env: str, algo: str, mode: str) -> dict[int, dict[int, float]]:
    """
    :return: ``{seed: {timesteps: mean evaluation return}}`` for one task, algorithm and evaluation mode
    """
    returns: dict[int, dict[int, float]] = defaultdict(dict)
    for row in rows:
        if row["env"] == env and row["algo"] == algo and row["mode"] == mode:
            returns[row["seed"]][row["timesteps"]] = row["mean_return"]
    return dict(returns)


@dataclass
class Curve:
    """
    A learning curve over seeds.

    :param timesteps: evaluation points present in every seed
    :param mean: mean return over seeds at each point
    :param standard_error: its standard error
    :param n_seeds: number of seeds
    """

    timesteps: np.ndarray
    mean: np.ndarray
    standard_error: np.ndarray
    n_seeds: int


def learning_curve(rows: list[dict[str, Any]], env: str, algo: str, mode: str) -> Curve:
    """
    :return: the mean ± standard-error curve, on the evaluation points every seed has reached
    """
    returns = per_seed_returns(rows, env, algo, mode)
    common = sorted(set.intersection(*(set(r) for r in returns.values()))) if returns else []
    stats = [mean_and_standard_error(np.array([r[t] for r in returns.values()])) for t in common]
    mean = np.array([m for m, _ in stats])
    standard_error = np.array([s for _, s in stats])
    return Curve(np.array(common, dtype=int), mean, standard_error, len(returns))


@dataclass
class Summary:
    """
    One table row: a task and an algorithm.

    :param n_seeds: finished seeds
    :param n_timesteps: the budget in environment steps
    :param final: ``{mode: (mean, standard error)}`` of each seed's last evaluation
    :param best: ``{mode: (mean, standard error)}`` of each seed's best evaluation
    :param wall_clock_s: mean wall-clock of a run, seconds
    """

    n_seeds: int
    n_timesteps: int
    final: dict[str, tuple[float, float]]
    best: dict[str, tuple[float, float]]
    wall_clock_s: float


def summarise(rows: list[dict[str, Any]], env: str, algo: str) -> Summary:
    """
    :return: the table row for one task and algorithm
    """
    final, best = {}, {}
    for mode in MODES:
        returns = per_seed_returns(rows, env, algo, mode)
        final[mode] = mean_and_standard_error(np.array([r[max(r)] for r in returns.values()]))
        best[mode] = mean_and_standard_error(np.array([max(r.values()) for r in returns.values()]))
    runs = {row["seed"]: row for row in rows if row["env"] == env and row["algo"] == algo}
    return Summary(
        n_seeds=len(runs),
        n_timesteps=max(int(row["n_timesteps"]) for row in runs.values()),  # type: ignore[call-overload]
        final=final,
        best=best,
        wall_clock_s=float(np.mean([row["wall_clock_s"] for row in runs.values()])),
    )


def ordered(values: set[str], order: tuple[str, ...] = ()) -> list[str]:
    """
    :return: ``values`` with those named in ``order`` first, in that order, then the rest sorted
    """
    return [v for v in order if v in values] + sorted(values - set(order))


def plot_curves(rows: list[dict[str, Any]], env: str, path: Path) -> None:
    """
    Write one task's learning curves (both evaluation modes) to a PNG.

    :param rows: the benchmark's rows
    :param env: the task
    :param path: the PNG file
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, mode in zip(axes, MODES, strict=True):
        for algo in ordered({str(r["algo"]) for r in rows if r["env"] == env}, ALGO_ORDER):
            curve = learning_curve(rows, env, algo, mode)
            if len(curve.timesteps) == 0:
                continue
            label = f"{ALGO_LABELS.get(algo, algo)} ({curve.n_seeds} seeds)"
            (line,) = ax.plot(curve.timesteps, curve.mean, label=label)
            ax.fill_between(
                curve.timesteps,
                curve.mean - curve.standard_error,
                curve.mean + curve.standard_error,
                color=line.get_color(),
                alpha=0.2,
            )
        ax.set_title(f"{env}: {mode} evaluation")
        ax.set_xlabel("environment steps")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("mean return (± s.e. over seeds)")
    axes[0].legend(loc="best")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _cell(value: tuple[float, float]) -> str:
    return f"{value[0]:.1f} ± {value[1]:.1f}"


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """
    :param rows: the benchmark's rows
    :return: the results table, one line per task and algorithm
    """
    lines = [
        "| task | algorithm | seeds | env steps | final (greedy) | best (greedy) | final (stochastic) "
        "| best (stochastic) | wall-clock / run |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for env in ordered({str(r["env"]) for r in rows}, TASK_ORDER):
        for algo in ordered({str(r["algo"]) for r in rows if r["env"] == env}, ALGO_ORDER):
            s = summarise(rows, env, algo)
            lines.append(
                f"| {env} | {ALGO_LABELS.get(algo, algo)} | {s.n_seeds} | {s.n_timesteps:,} "
                f"| {_cell(s.final['deterministic'])} | {_cell(s.best['deterministic'])} "
                f"| {_cell(s.final['stochastic'])} | {_cell(s.best['stochastic'])} | {s.wall_clock_s / 60:.1f} min |"
            )
    return "\n".join(lines)


def write_report(rows: list[dict[str, Any]], figures_dir: Path, markdown: Path) -> None:
    """
    Write the curves and put the table and figure links between the markers of ``markdown``
    (appended to it, or to a new file, if the markers are missing).

    :param rows: the benchmark's rows
    :param figures_dir: folder for the PNGs
    :param markdown: BENCHMARKS.md
    """
    figures = []
    for env in ordered({str(r["env"]) for r in rows}, TASK_ORDER):
        path = figures_dir / f"{env}.png"
        plot_curves(rows, env, path)
        figures.append(f"![{env}]({os.path.relpath(path, markdown.parent)})")
    write_between_markers(markdown, [markdown_table(rows), *figures], BEGIN, END)


def write_between_markers(markdown: Path, blocks: list[str], begin: str, end: str) -> None:
    """
    Put generated text between two marker lines of a markdown file, replacing what was there before (appended to
    the file, or to a new one, if the markers are missing); the text around them is kept.

    :param markdown: the file
    :param blocks: the generated paragraphs, tables and figure links, in order
    :param begin: the line that opens the generated part
    :param end: the line that closes it
    """
    generated = "\n\n".join([begin, *blocks, end])
    text = markdown.read_text() if markdown.exists() else ""
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + generated + rest.split(end, 1)[1]
    else:
        text = text + ("\n\n" if text else "") + generated + "\n"
    markdown.write_text(text)


def main(argv: list[str] | None = None) -> None:
    """
    :param argv: command-line arguments (default: ``sys.argv[1:]``)
    """
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv", type=Path, default=BENCHMARKS_DIR / "results" / "learning" / "learning.csv")
    parser.add_argument("--figures", type=Path, default=BENCHMARKS_DIR / "results" / "learning")
    parser.add_argument("--markdown", type=Path, default=BENCHMARKS_DIR.parent / "BENCHMARKS.md")
    args = parser.parse_args(argv)
    rows = load_rows(args.csv)
    if not rows:
        parser.error(f"{args.csv} has no rows: run benchmarks/learning.py first")
    write_report(rows, args.figures, args.markdown)
    print(markdown_table(rows))
    print(f"-> {args.markdown}, figures in {args.figures}")


if __name__ == "__main__":
    main()
