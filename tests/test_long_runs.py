"""The long-run harness survives being killed, and the loss of the machine: a resumed run ends where an
uninterrupted one does."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.logger import configure

from sb3_lql import NCLQL
from tests.conftest import benchmark_script

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "long_runs.py"
TINY = ["--algos", "nclql", "--envs", "Pendulum-v1", "--seeds", "0", "--budget", "800", "--n-envs", "2",
        "--learning-starts", "100", "--eval-freq", "200", "--eval-episodes", "1", "--checkpoint-freq", "200",
        "--net-arch", "16", "16", "--eager", "--threads", "1"]  # fmt: skip


def command(root: Path) -> list[str]:
    return [sys.executable, str(SCRIPT), *TINY, "--root", str(root / "runs"), "--results", str(root / "results")]


def finished(root: Path) -> tuple[dict, NCLQL]:
    record = json.loads((root / "results" / "nclql_Pendulum-v1_seed0.json").read_text())
    model = NCLQL.load(root / "runs" / "nclql" / "Pendulum-v1" / "seed0" / "checkpoint" / "model.zip")
    return record, model


def test_a_killed_run_resumes_on_another_machine_and_ends_like_an_uninterrupted_one(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(command(tmp_path / "straight"), check=True, capture_output=True, env=env, timeout=600)
    straight, straight_model = finished(tmp_path / "straight")

    interrupted = tmp_path / "interrupted"
    process = subprocess.Popen(command(interrupted), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # each checkpoint is exported as soon as it is taken, next to the results the repository carries
    exported = interrupted / "results" / "checkpoints" / "nclql_Pendulum-v1_seed0"
    deadline = time.monotonic() + 300
    while not (exported.exists() and json.loads((exported / "progress.json").read_text())["timesteps"] >= 400):
        assert process.poll() is None and time.monotonic() < deadline, "the run ended before its second checkpoint"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)  # mid-run, as the end of a session does, before any --export
    process.wait()
    partial = json.loads((interrupted / "results" / "nclql_Pendulum-v1_seed0.json").read_text())
    assert partial["status"] == "running" and partial["timesteps"] < 800
    assert sorted(path.name for path in exported.iterdir()) == ["model.zip", "progress.json", "replay_buffer.npz"]
    # the session is cut off and its machine lost: what remains is the working tree, results and exported checkpoint
    shutil.rmtree(interrupted / "runs")

    resumed = subprocess.run(command(interrupted), check=True, capture_output=True, text=True, env=env, timeout=600)
    assert "checkpoint taken from" in resumed.stdout and "resumed at" in resumed.stdout
    record, model = finished(interrupted)
    assert not exported.exists()  # a finished run's checkpoint is not carried in the repository
    assert record["status"] == "finished"
    assert (model.num_timesteps, model._n_updates) == (straight_model.num_timesteps, straight_model._n_updates)
    assert (record["timesteps"], record["gradient_steps"]) == (800, straight["gradient_steps"])
    # an unbroken evaluation history: every 200 env steps once, in order, both policies each time
    assert [row["timesteps"] for row in record["evaluations"]] == [200, 400, 600, 800]
    assert all(len(row["stochastic"]) == len(row["deterministic"]) == 1 for row in record["evaluations"])
    # each evaluation's episode lengths (Pendulum: 200 steps) and its own cost, part of the run's clock
    assert all(row["stochastic_lengths"] == row["deterministic_lengths"] == [200] for row in record["evaluations"])
    assert all(0 < row["eval_cpu_s"] < row["cpu_s"] for row in record["evaluations"])
    assert record["wall_clock_s"] >= record["evaluations"][-1]["wall_clock_s"] > 0
    # CPU time carries across the kill too: it only grows, from the first session's evaluations to the resumed ones
    cpu = [row["cpu_s"] for row in record["evaluations"]]
    assert 0 < cpu[0] < cpu[1] < cpu[2] < cpu[3] <= record["cpu_s"]
    # one segment per session, each with its code and packages: the resumed one took over at the checkpoint
    first, second = record["segments"]
    assert first["from_timesteps"] == 0 and 400 <= second["from_timesteps"] < 800
    assert first["versions"] == second["versions"] and first["versions"]["torch"].startswith("2.")
    assert first["machine"] == second["machine"] and first["machine"].endswith(f"{os.cpu_count()} cores")
    # a finished run is not trained again, and a copy exported before it finished is dropped
    shutil.copytree(interrupted / "runs" / "nclql" / "Pendulum-v1" / "seed0" / "checkpoint", exported)
    again = subprocess.run(command(interrupted), check=True, capture_output=True, text=True, env=env, timeout=600)
    assert "finished before" in again.stdout and not exported.exists()


def test_export_copies_a_checkpoint_up_to_the_size_limit(tmp_path):
    long_runs = benchmark_script("long_runs")
    model = long_runs.SAC("MlpPolicy", "Pendulum-v1", policy_kwargs=dict(net_arch=[8]), device="cpu")
    small = long_runs.Run("sac", "Pendulum-v1", 0, tmp_path / "runs", tmp_path / "results", {}, export_limit_mb=0.5)
    small.checkpoint(model)
    assert small.export().startswith("exported at 0 env steps")
    assert (small.exported_dir / "model.zip").read_bytes() == (small.checkpoint_dir / "model.zip").read_bytes()
    # a checkpoint over the limit stays on the machine (CrossQ's 103 MB model), and the run's earlier copy too
    large = long_runs.Run("sac", "Pendulum-v1", 0, tmp_path / "runs", tmp_path / "results", {}, export_limit_mb=0.001)
    message = large.export()
    assert message.startswith("not exported: its checkpoint is 0.0") and "over --export-limit-mb 0.001" in message
    assert (small.exported_dir / "model.zip").exists()


def test_a_run_another_process_is_training_is_neither_trained_nor_exported_by_a_second_one(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    folder = tmp_path / "runs" / "nclql" / "Pendulum-v1" / "seed0"
    folder.mkdir(parents=True)
    with open(folder / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a lane training the run holds it
        second = subprocess.run(command(tmp_path), check=True, capture_output=True, text=True, env=env, timeout=600)
        export = subprocess.run([*command(tmp_path), "--export"], check=True, capture_output=True, text=True, env=env)
    assert "skipped, another process is training it: nclql Pendulum-v1 seed 0" in second.stdout
    assert "not exported, another process is training it" in export.stdout
    assert sorted(path.name for path in folder.iterdir()) == ["lock"]  # no checkpoint written over the lane's
    assert not (tmp_path / "results").exists()  # nor its history
    # the lock goes with the process that held it: the next call does the export's work (nothing to export yet)
    export = subprocess.run([*command(tmp_path), "--export"], check=True, capture_output=True, text=True, env=env)
    assert "no checkpoint on this machine: nclql Pendulum-v1 seed 0" in export.stdout


def test_a_run_whose_checkpoint_is_lost_does_not_start_again_over_its_results(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    results = tmp_path / "results" / "nclql_Pendulum-v1_seed0.json"
    results.parent.mkdir()
    record = dict(algo="nclql", env="Pendulum-v1", seed=0, status="running", timesteps=400, evaluations=[])
    results.write_text(json.dumps(record))  # a run's history, committed, whose checkpoint was never exported
    export = subprocess.run([*command(tmp_path), "--export"], check=True, capture_output=True, text=True, env=env)
    assert "no checkpoint on this machine: nclql Pendulum-v1 seed 0" in export.stdout
    assert not (tmp_path / "runs").exists()  # a run this machine never ran leaves no folder behind
    second = subprocess.run(command(tmp_path), check=True, capture_output=True, text=True, env=env, timeout=600)
    assert "not started: its results (400 env steps) have no checkpoint" in second.stdout
    assert json.loads(results.read_text()) == record  # its history is untouched
    assert not (tmp_path / "runs" / "nclql" / "Pendulum-v1" / "seed0" / "checkpoint").exists()
    # moved away, as the message says, the run starts again
    results.rename(tmp_path / "old.json")
    third = subprocess.run(command(tmp_path), check=True, capture_output=True, text=True, env=env, timeout=600)
    assert "finished: nclql Pendulum-v1 seed 0" in third.stdout
    assert json.loads(results.read_text())["timesteps"] == 800


def test_the_summary_says_how_far_each_run_got(tmp_path):
    long_runs = benchmark_script("long_runs")
    rows = [
        dict(timesteps=25_000, gradient_steps=0, stochastic=[1.0, 3.0], deterministic=[5.0], wall_clock_s=60),
        dict(timesteps=50_000, gradient_steps=4_000, stochastic=[0.0], deterministic=[9.0], wall_clock_s=3600),
    ]
    record = dict(algo="nclql", env="Hopper-v4", seed=1, status="running", commit="abc1234", timesteps=51_000,
                  gradient_steps=4_200, wall_clock_s=3700, evaluations=rows)  # fmt: skip
    (tmp_path / "nclql_Hopper-v4_seed1.json").write_text(json.dumps(record))
    rows[1]["eval_cpu_s"] = 1800.0
    segments = [dict(from_timesteps=steps, commit="abc1234", versions={"torch": "2.13.0", "mujoco": mujoco},
                     machine="AMD EPYC, 2 cores") for steps, mujoco in ((0, "3.17.0"), (25_000, "4.0.0"))]  # fmt: skip
    (tmp_path / "sac_Hopper-v4_seed1.json").write_text(json.dumps({**record, "algo": "sac", "segments": segments}))
    table = long_runs.summary(long_runs.records(tmp_path))
    row = "| Hopper-v4 | nclql | 1 | running | 51,000 | 4,200 | 0.0 / 9.0 | 2.0 / 9.0 | 1.03 | - | - | `abc1234` |"
    assert row in table  # no CPU time recorded: "-", nor the evaluations' own
    # the evaluations' own CPU time, summed where recorded (the SAC run: 1,800 s, its second evaluation only)
    assert "| 1.03 | - | 0.50 (1 of 2 evaluations) | `abc1234` |" in table
    # the packages each session ran with, so that a run resumed with another MuJoCo shows it
    assert "Packages, per session of a run (1 of 2 runs record them): " in table
    sessions = (
        "torch 2.13.0, mujoco 3.17.0 on AMD EPYC, 2 cores (1 session); "
        "torch 2.13.0, mujoco 4.0.0 on AMD EPYC, 2 cores (1 session)."
    )
    assert sessions in table


def test_a_run_resumed_with_other_packages_says_which(tmp_path, capsys):
    long_runs = benchmark_script("long_runs")
    run = long_runs.Run("sac", "Pendulum-v1", 0, tmp_path, tmp_path, settings={})
    earlier = dict(from_timesteps=0, commit="abc", versions={**long_runs.versions(), "mujoco": "2.3.7"})
    run.begin_segment(400, [earlier])
    assert "resumed with other packages" in capsys.readouterr().out
    assert [segment["from_timesteps"] for segment in run.segments] == [0, 400]
    assert run.segments[1]["versions"] == long_runs.versions() != earlier["versions"]
    run.begin_segment(800, run.segments)  # the same packages: nothing to say
    assert capsys.readouterr().out == "" and len(run.segments) == 3


def test_the_aggregate_table_and_the_curves_sum_over_seeds(tmp_path):
    long_runs = benchmark_script("long_runs")
    # seeds 0 and 1 finished at 50 env steps, seed 2 running at 30; seeds 1 and 2 recorded CPU time (half the clock)
    runs = {0: ((100.0, 300.0), 1.0, False), 1: ((200.0, 500.0), 2.0, True), 2: ((1000.0,), 1.0, True)}
    for seed, (values, hours, cpu) in runs.items():
        evaluations = [
            dict(timesteps=25 * (i + 1), gradient_steps=5 * i, stochastic=[value], deterministic=[value + 10],
                 wall_clock_s=3600.0 * hours * (i + 1) / 2)
            for i, value in enumerate(values)
        ]  # fmt: skip
        if cpu:
            for row in evaluations:
                row["cpu_s"] = row["wall_clock_s"] / 2
        status, steps = ("finished", 50) if len(values) == 2 else ("running", 30)
        record = dict(algo="sac", env="Hopper-v4", seed=seed, status=status, commit="abc", timesteps=steps,
                      gradient_steps=10, wall_clock_s=3600.0 * hours, evaluations=evaluations)  # fmt: skip
        if cpu:
            record["cpu_s"] = 1800.0 * hours
        (tmp_path / f"sac_Hopper-v4_seed{seed}.json").write_text(json.dumps(record))
    table = long_runs.aggregate(long_runs.records(tmp_path))
    # finished: final 300 and 500, mean 400, standard error 100; best the same; AUC (200 and 350): 275 ± 75;
    # 1 h and 2 h of wall-clock; CPU time known for one run. The running run has a row of its own.
    assert "| Hopper-v4 | sac | finished | 2 | 50 | 400 ± 100 / 410 ± 100 | 400 ± 100 / 410 ± 100 " in table
    assert "| 275 ± 75 / 285 ± 75 | 1.50 ± 0.50 | 1.00 (1 of 2 runs) | `abc` |" in table
    assert (
        "| Hopper-v4 | sac | running | 1 | 30 | 1,000 / 1,010 | 1,000 / 1,010 | 1,000 / 1,010 | 1.00 | 0.50 |" in table
    )
    runs = long_runs.records(tmp_path)
    steps, hours = long_runs.matched(runs, steps=(25, 50), hours=(0.25, 0.5, 1.0, 3.0), window=25).split("\n\n")
    # at equal env steps: every seed that reached the point, each point's own evaluation (the window holds one)
    assert "| Hopper-v4 | sac | 433 / 443 (3) | 400 / 410 (2) |" in steps
    # at equal time: seed 0 by wall-clock (100 at 0.5 h, 300 at 1 h), seeds 1 and 2 by CPU time (seed 1: 200 at
    # 0.5 h, then 500; seed 2: 1,000 at 0.25 h). Seed 2, running and last seen at 0.25 h, does not count after it;
    # finished runs count with their last evaluation to the end.
    assert "| Hopper-v4 | sac | 1,000 / 1,010 (1) | 150 / 160 (2) | 400 / 410 (2) | 400 / 410 (2) |" in hours
    (written,) = long_runs.plot(long_runs.records(tmp_path), tmp_path)
    assert written.name == "Hopper-v4.png" and written.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a second run in progress that got less far has a row of its own: no mean over runs at 30 and at 25 env steps
    rows = [dict(timesteps=25, gradient_steps=0, stochastic=[40.0], deterministic=[50.0], wall_clock_s=360.0)]
    record = dict(algo="sac", env="Hopper-v4", seed=3, status="running", commit="def", timesteps=25,
                  gradient_steps=0, wall_clock_s=360.0, evaluations=rows)  # fmt: skip
    (tmp_path / "sac_Hopper-v4_seed3.json").write_text(json.dumps(record))
    table = long_runs.aggregate(long_runs.records(tmp_path))
    assert "| Hopper-v4 | sac | running | 1 | 30 | 1,000 / 1,010 | 1,000 / 1,010 | 1,000 / 1,010 | 1.00 |" in table
    assert "| Hopper-v4 | sac | running | 1 | 25 | 40 / 50 | 40 / 50 | 40 / 50 | 0.10 | - | `def` |" in table


def test_the_report_writes_the_tables_and_curves_between_its_markers(tmp_path):
    long_runs = benchmark_script("long_runs")
    rows = [dict(timesteps=25 * (i + 1), gradient_steps=5 * i, stochastic=[10.0 * i], deterministic=[20.0 * i],
                 wall_clock_s=2000.0 * (i + 1), cpu_s=1800.0 * (i + 1)) for i in range(2)]  # fmt: skip
    for seed in (0, 1):
        record = dict(algo="nclql", env="Hopper-v4", seed=seed, status="finished", commit="abc", timesteps=50,
                      gradient_steps=5, wall_clock_s=4000.0, cpu_s=3600.0, evaluations=rows)  # fmt: skip
        (tmp_path / f"nclql_Hopper-v4_seed{seed}.json").write_text(json.dumps(record))
    (tmp_path / "sac_Hopper-v4_seed0.json").write_text(json.dumps({**record, "algo": "sac", "seed": 0}))
    markdown, readme = tmp_path / "docs" / "BENCHMARKS.md", tmp_path / "README.md"
    markdown.parent.mkdir()
    markdown.write_text("# Benchmarks\n\nbefore\n\n" + long_runs.BEGIN + "\nstale\n" + long_runs.END + "\n\nafter\n")
    readme.write_text("# sb3-lql\n")  # no markers: the headline is appended
    for _ in range(2):  # a second report replaces the first
        long_runs.main(["--report", "--results", str(tmp_path), "--markdown", str(markdown), "--readme", str(readme)])
    text = markdown.read_text()
    assert text.startswith("# Benchmarks\n\nbefore\n\n") and text.endswith("\n\nafter\n") and "stale" not in text
    assert text.count(long_runs.BEGIN) == 1 and text.count(long_runs.END) == 1
    assert long_runs.tables(long_runs.records(tmp_path)) in text
    assert "| Hopper-v4 | nclql | finished | 2 | 50 | 10 ± 0 / 20 ± 0 |" in text
    assert "![Hopper-v4 long runs](../Hopper-v4.png)" in text  # relative to the document
    assert (tmp_path / "Hopper-v4.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the README's table: the 500,000 env steps of the protocol are not reached here
    runs = long_runs.records(tmp_path)
    assert readme.read_text() == "\n\n".join(
        ["# sb3-lql\n", long_runs.HEADLINE_BEGIN, long_runs.headline(runs), long_runs.HEADLINE_END + "\n"]
    )
    assert long_runs.headline(runs).splitlines()[2] == "| Hopper-v4 | - | - |"
    # under the table, what it leaves out: here every run is short of the protocol's budget
    assert long_runs.headline(runs).split("\n\n")[1] == (
        "Short of 500,000 env steps, so left out above: NC-LQL on Hopper-v4, 2 runs at 50; "
        "SAC on Hopper-v4, 1 run at 50."
    )
    # an algorithm with no run on a task is named as not run; runs that got different distances are each counted
    (tmp_path / "sac_Walker2d-v4_seed0.json").write_text(json.dumps({**record, "algo": "sac", "env": "Walker2d-v4"}))
    short = {**record, "algo": "sac", "env": "Walker2d-v4", "seed": 1, "timesteps": 25, "evaluations": rows[:1]}
    (tmp_path / "sac_Walker2d-v4_seed1.json").write_text(json.dumps(short))
    assert long_runs.headline(long_runs.records(tmp_path), point=50, window=50).split("\n\n")[1] == (
        "Not run: NC-LQL on Walker2d-v4. Short of 50 env steps, so left out above: SAC on Walker2d-v4, 1 run at 25."
    )
    # at 50 env steps with a window of 50: both evaluations (0 and 10, greedy 0 and 20), 2 seeds, 1 h of CPU each
    assert long_runs.headline(runs, point=50, window=50).splitlines() == [
        "| task | NC-LQL | SAC |", "|---|---|---|", "| Hopper-v4 | 5 / 10 (2), 1.0 h | 5 / 10 (1), 1.0 h |"
    ]  # fmt: skip


def test_the_documents_show_the_tables_of_the_committed_runs():
    """Whoever commits a run's history commits the tables made from it (``long_runs.py --report``)."""
    long_runs = benchmark_script("long_runs")
    runs = long_runs.records(SCRIPT.parent / "results" / "long")
    text = (SCRIPT.parent.parent / "BENCHMARKS.md").read_text()
    assert long_runs.tables(runs) in text.split(long_runs.BEGIN, 1)[1].split(long_runs.END, 1)[0]
    text = (SCRIPT.parent.parent / "README.md").read_text()
    assert long_runs.headline(runs) in text.split(long_runs.HEADLINE_BEGIN, 1)[1].split(long_runs.HEADLINE_END, 1)[0]


def test_the_curves_average_each_point_over_the_seeds_that_reached_it():
    long_runs = benchmark_script("long_runs")
    # seed 1 still running: two points where seeds 0 and 2 have three
    curves = [np.array([1.0, 3.0, 5.0]), np.array([3.0, 5.0]), np.array([2.0, 7.0, 9.0])]
    mean, se, seeds = long_runs.ragged_mean(curves)
    assert seeds.tolist() == [3, 3, 2]
    np.testing.assert_allclose(mean, [2.0, 5.0, 7.0])
    np.testing.assert_allclose(se, [1 / np.sqrt(3), 2 / np.sqrt(3), np.sqrt(8) / np.sqrt(2)])
    mean, se, seeds = long_runs.ragged_mean([np.array([4.0, 6.0])])
    assert seeds.tolist() == [1, 1] and mean.tolist() == [4.0, 6.0] and se.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("algo", ["nclql", "sac", "crossq"])
def test_a_compacted_replay_buffer_trains_exactly_like_the_original(tmp_path, algo):
    long_runs = benchmark_script("long_runs")
    algorithm = long_runs.ALGORITHMS[algo]
    # Hopper: 64-bit observations (kept as 32-bit floats) and episodes that end early (next observations kept)
    original = algorithm(
        "MlpPolicy", make_vec_env("Hopper-v4", n_envs=2, seed=0), learning_starts=100, buffer_size=1_000,
        batch_size=32, policy_kwargs=dict(net_arch=[16]), seed=0,
    )  # fmt: skip
    original.learn(300)
    buffer = original.replay_buffer
    assert buffer.observations.dtype == np.float64 and buffer.dones.sum() > 0
    original.save(tmp_path / "model.zip")
    long_runs.save_replay_buffer(buffer, tmp_path / "buffer.npz")
    restored = algorithm.load(tmp_path / "model.zip", env=make_vec_env("Hopper-v4", n_envs=2, seed=0))
    long_runs.load_replay_buffer(restored.replay_buffer, tmp_path / "buffer.npz")
    restored.set_logger(configure(None, []))  # train() logs; learn() would have set one

    copy, filled = restored.replay_buffer, buffer.pos
    assert (copy.pos, copy.full) == (buffer.pos, buffer.full) == (150, False)
    for name in ("observations", "next_observations"):
        np.testing.assert_array_equal(getattr(copy, name), getattr(buffer, name).astype(np.float32))
    for name in ("actions", "rewards", "dones", "timeouts"):
        np.testing.assert_array_equal(getattr(copy, name)[:filled], getattr(buffer, name)[:filled])
    # what matters: the same gradient steps from the same batches, to the last bit
    before = {name: value.clone() for name, value in original.policy.state_dict().items()}
    for model in (original, restored):
        np.random.seed(1)  # the buffer's batches
        th.manual_seed(1)  # the samplers' and the policies' noise
        model.train(gradient_steps=5, batch_size=32)
    mine, theirs = original.policy.state_dict(), restored.policy.state_dict()
    assert mine.keys() == theirs.keys()
    assert [name for name in mine if not th.equal(mine[name], theirs[name])] == []
    assert any(not th.equal(before[name], mine[name]) for name in mine)  # the steps did change the networks


def test_only_a_plain_replay_buffer_with_next_observations_is_compacted(tmp_path):
    long_runs = benchmark_script("long_runs")
    from stable_baselines3.common.buffers import ReplayBuffer

    space = gym.spaces.Box(-1, 1, (3,))
    buffer = ReplayBuffer(10, space, space, optimize_memory_usage=True, handle_timeout_termination=False)
    with pytest.raises(ValueError, match="ReplayBuffer with next observations"):
        long_runs.save_replay_buffer(buffer, tmp_path / "buffer.npz")
