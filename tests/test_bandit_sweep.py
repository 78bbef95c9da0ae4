"""The bandit sweep: each run scored at every budget, written once, skipped on resuming, summed over seeds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sb3_lql import NCLQL
from tests.conftest import benchmark_script

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bandit_sweep.py"
TINY = ["--w", "5", "--seeds", "0", "--budgets", "510", "530", "--workers", "1"]


def test_a_tiny_sweep_scores_every_agent_at_every_budget_and_resumes_without_rerunning(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, str(SCRIPT), *TINY, "--algos", "nclql", "td3", "--out", str(tmp_path / "runs")]
    first = subprocess.run(
        [*command, "--plot", str(tmp_path / "sweep.png"), "--save-models"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert first.returncode == 0, first.stderr[-3000:]
    assert "2 runs to do" in first.stdout
    assert (tmp_path / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    record = json.loads((tmp_path / "runs" / "nclql_w5_seed0.json").read_text())
    assert [row["budget"] for row in record["rows"]] == [510, 530]
    for row in record["rows"]:
        for key in ("tv", "critic_tv", "sampler_tv", "sampler_floor", "mala_tv", "mala_sampler_tv"):
            assert 0.0 <= row[key] <= 1.0, key
        assert len(row["levels"]) == 10 and row["levels"][-1]["sigma"] == 0.0
    saved = NCLQL.load(tmp_path / "runs" / "nclql_w5_seed0.zip", device="cpu")  # --save-models: the trained agent
    assert saved.num_timesteps == 530 and saved.inverse_temperature == 5.0
    # the summary has a row per budget for NC-LQL, its MALA scoring and TD3
    for budget in (510, 530):
        for name in ("NC-LQL", "NC-LQL + MALA", "TD3"):
            assert f"| 5 | {budget} | {name} | 1 |" in first.stdout

    again = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "0 runs to do" in again.stdout
    assert json.loads((tmp_path / "runs" / "nclql_w5_seed0.json").read_text()) == record  # not rerun, not rewritten


def test_the_summary_gives_mean_and_std_over_seeds(tmp_path, capsys):
    sweep = benchmark_script("bandit_sweep")
    for seed, tv in enumerate((0.2, 0.4)):
        rows = [dict(budget=100, w=5.0, seconds=1.0, tv=tv, coverage=1.0, reward_mean=0.5, reward_std=0.1)]
        (tmp_path / f"sac_w5_seed{seed}.json").write_text(
            json.dumps(dict(algo="sac", train_w=5.0, seed=seed, rows=rows))
        )
    sweep.summary(tmp_path)
    assert "| 5 | 100 | SAC | 2 | 0.30 ± 0.10 |" in capsys.readouterr().out


@pytest.mark.parametrize("algo", ["td3", "sac"])
def test_td3_runs_once_per_seed_for_every_temperature_and_sac_once_per_temperature(tmp_path, algo):
    sweep = benchmark_script("bandit_sweep")
    args = sweep.argparse.Namespace(algos=[algo], w=[2.0, 20.0], seeds=[0, 1], out=tmp_path)
    todo = sweep.jobs(args)
    if algo == "td3":
        assert todo == [("td3", 2.0, 0, [2.0, 20.0]), ("td3", 2.0, 1, [2.0, 20.0])]
    else:
        assert todo == [("sac", w, seed, [w]) for seed in (0, 1) for w in (2.0, 20.0)]
    (tmp_path / f"{algo}_w2_seed0.json").write_text("{}")
    assert len(sweep.jobs(args)) == len(todo) - 1
