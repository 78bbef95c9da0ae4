"""The learning-benchmark harness (benchmarks/learning.py) and its report (benchmarks/report.py)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

BENCHMARKS_DIR = Path(__file__).resolve().parent.parent / "benchmarks"


sys.path.insert(0, str(BENCHMARKS_DIR))  # the benchmark scripts import each other as top-level modules
import learning  # noqa: E402
import report  # noqa: E402


def _synthetic_rows() -> list[dict[str, object]]:
    """Two algorithms, two seeds, three evaluations; returns chosen so the statistics are easy by hand."""
    returns = {
        # (algo, seed, mode): returns at 100, 200, 300 steps
        ("nclql", 0, "deterministic"): [-10.0, -4.0, -6.0],
        ("nclql", 1, "deterministic"): [-8.0, -2.0, -2.0],
        ("nclql", 0, "stochastic"): [-12.0, -6.0, -8.0],
        ("nclql", 1, "stochastic"): [-10.0, -4.0, -4.0],
        ("sac", 0, "deterministic"): [-20.0, -20.0, -20.0],
        ("sac", 1, "deterministic"): [-20.0, -20.0, -20.0],
        ("sac", 0, "stochastic"): [-30.0, -30.0, -30.0],
        ("sac", 1, "stochastic"): [-30.0, -30.0, -30.0],
    }
    rows = []
    for (algo, seed, mode), values in returns.items():
        for timesteps, value in zip((100, 200, 300), values, strict=True):
            rows.append(
                dict(
                    algo=algo,
                    env="Pendulum-v1",
                    seed=seed,
                    mode=mode,
                    timesteps=timesteps,
                    mean_return=value,
                    std_return=0.0,
                    n_episodes=5,
                    n_timesteps=300,
                    wall_clock_s=60.0 * (seed + 1),
                )
            )
    return rows


@pytest.fixture
def synthetic_csv(tmp_path: Path) -> Path:
    path = tmp_path / "learning.csv"
    learning.write_csv(_synthetic_rows(), path)
    return path


def test_learning_curve_is_mean_and_standard_error_over_seeds(synthetic_csv: Path) -> None:
    rows = report.load_rows(synthetic_csv)
    curve = report.learning_curve(rows, "Pendulum-v1", "nclql", "deterministic")
    assert curve.n_seeds == 2
    np.testing.assert_array_equal(curve.timesteps, [100, 200, 300])
    np.testing.assert_allclose(curve.mean, [-9.0, -3.0, -4.0])
    # two seeds a and b: s.e. = |a - b| / 2
    np.testing.assert_allclose(curve.standard_error, [1.0, 1.0, 2.0])
    flat = report.learning_curve(rows, "Pendulum-v1", "sac", "stochastic")
    np.testing.assert_allclose(flat.mean, [-30.0] * 3)
    np.testing.assert_allclose(flat.standard_error, [0.0] * 3)


def test_curve_keeps_only_points_every_seed_reached(synthetic_csv: Path) -> None:
    rows = [r for r in report.load_rows(synthetic_csv) if not (r["seed"] == 1 and r["timesteps"] == 300)]
    curve = report.learning_curve(rows, "Pendulum-v1", "nclql", "deterministic")
    np.testing.assert_array_equal(curve.timesteps, [100, 200])


def test_summary_final_best_and_wall_clock(synthetic_csv: Path) -> None:
    summary = report.summarise(report.load_rows(synthetic_csv), "Pendulum-v1", "nclql")
    assert summary.n_seeds == 2 and summary.n_timesteps == 300
    assert summary.final["deterministic"] == pytest.approx((-4.0, 2.0))  # last evaluations -6 and -2
    assert summary.best["deterministic"] == pytest.approx((-3.0, 1.0))  # best evaluations -4 and -2
    assert summary.final["stochastic"] == pytest.approx((-6.0, 2.0))
    assert summary.wall_clock_s == pytest.approx(90.0)
    assert report.mean_and_standard_error(np.array([5.0])) == (5.0, 0.0)


def test_report_writes_figures_and_table_between_markers(synthetic_csv: Path, tmp_path: Path) -> None:
    markdown = tmp_path / "BENCHMARKS.md"
    markdown.write_text("# Benchmarks\n\nhand-written introduction\n")
    for _ in range(2):  # a second report replaces the first instead of appending to it
        report.main(["--csv", str(synthetic_csv), "--figures", str(tmp_path / "fig"), "--markdown", str(markdown)])
    text = markdown.read_text()
    assert text.startswith("# Benchmarks\n\nhand-written introduction")
    assert text.count(report.BEGIN) == 1 and text.count(report.END) == 1
    assert "| Pendulum-v1 | NC-LQL | 2 | 300 | -4.0 ± 2.0 | -3.0 ± 1.0 | -6.0 ± 2.0 | -5.0 ± 1.0 | 1.5 min |" in text
    assert "| Pendulum-v1 | SAC | 2 | 300 | -20.0 ± 0.0 |" in text
    figure = tmp_path / "fig" / "Pendulum-v1.png"
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "](fig/Pendulum-v1.png)" in text


def test_benchmark_configs_give_every_algorithm_the_same_budget_and_network() -> None:
    configs = {}
    for algo in learning.ALGOS:
        with open(learning.CONF_DIR / f"{algo}.yml") as file:
            configs[algo] = yaml.safe_load(file)
    for env in learning.EVALUATION:
        shared = ("n_timesteps", "learning_starts", "learning_rate", "batch_size", "buffer_size", "gamma", "tau")
        for key in (*shared, "train_freq", "gradient_steps", "n_envs"):
            values = {algo: configs[algo][env].get(key) for algo in learning.ALGOS}
            assert len(set(map(str, values.values()))) == 1, f"{env}: {key} differs: {values}"
        net_archs = {algo: re.search(r"net_arch=(\[[^]]*\])", configs[algo][env]["policy_kwargs"]) for algo in configs}
        assert len({match.group(1) for match in net_archs.values() if match}) == 1, f"{env}: {net_archs}"
        assert all(net_archs.values()), f"{env}: every algorithm names its net_arch"


def test_report_lists_tasks_in_the_suite_order() -> None:
    assert tuple(learning.EVALUATION) == report.TASK_ORDER
    tasks = report.ordered({"b", "Hopper-v5", "a", "Pendulum-v1"}, report.TASK_ORDER)
    assert tasks == ["Pendulum-v1", "Hopper-v5", "a", "b"]


def test_harness_runs_a_job_end_to_end_then_skips_it(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    arguments = [
        "--algos", "nclql", "--envs", "Pendulum-v1", "--seeds", "3", "--jobs", "1",
        "-n", "300", "--eval-freq", "150", "--eval-episodes", "1",
        "--root", str(tmp_path / "runs"), "--csv", str(tmp_path / "learning.csv"),
    ]  # fmt: skip
    learning.main(arguments)
    assert "done     nclql  Pendulum-v1 seed 3" in capsys.readouterr().out
    done = tmp_path / "runs" / "nclql" / "Pendulum-v1" / "seed3" / "done.json"
    first_mtime = done.stat().st_mtime
    rows = report.load_rows(tmp_path / "learning.csv")
    assert {(r["mode"], r["timesteps"]) for r in rows} == {
        (mode, t) for mode in ("deterministic", "stochastic") for t in (150, 300)
    }
    # Pendulum's episodes last 200 steps, whatever the policy
    assert all(-200 * 16.3 <= r["mean_return"] <= 0 for r in rows)
    assert {r["n_timesteps"] for r in rows} == {300}

    learning.main(arguments)
    assert "skipped  nclql  Pendulum-v1 seed 3" in capsys.readouterr().out
    assert done.stat().st_mtime == first_mtime
    assert len(report.load_rows(tmp_path / "learning.csv")) == len(rows)
