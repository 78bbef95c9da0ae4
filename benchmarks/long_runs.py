"""Long learning runs at the paper's protocol, truncated to what a 2-core CPU affords, resumable across sessions.

The protocol of arXiv 2602.07873 (and of its reference implementation), truncated: 5 parallel envs, one gradient
step per vector step, 30,000 random warm-up transitions, the paper's networks and optimiser; a budget of 500,000 env
steps (100,000 vector steps, 10 % of the paper's; 94,000 gradient steps after the warm-up); every 25,000 env steps
an evaluation of 10 episodes with the stochastic policy (the paper's way) and 10 with the greedy one. NC-LQL and LQL
run at their defaults (the paper's), with the compiled sampler (the same samples, faster); LQL with
``step_size=1e-3`` (with the default 1e-4 and unit gradients, 20 steps move an action by at most 0.5: our Pendulum
sweep, benchmarks/README.md). SB3's SAC and TD3 and sb3-contrib's TQC and CrossQ use rl_zoo3's hyperparameters for
the task, with the protocol's envs, warm-up and update ratio.

Every run checkpoints itself (model with its optimiser states and step counters, replay buffer, evaluation
history, wall-clock) every ``--checkpoint-freq`` env steps, atomically, and a later call resumes an unfinished
run from its last checkpoint: the episodes in progress at the checkpoint are cut (the envs are reset), nothing
else is lost. Each run's evaluations go to ``--results/<algo>_<env>_seed<N>.json`` as they land, with the
commit and how far the run got, and each checkpoint is copied to ``--results/checkpoints/`` (up to
``--export-limit-mb``), so that partial results and the checkpoint to resume them from can be committed at the end
of a session, or recovered from the working tree of a session that was cut off.

Usage::

    python benchmarks/long_runs.py --algos nclql sac crossq --envs Hopper-v4 --seeds 0 1 2
    python benchmarks/long_runs.py --algos nclql --envs Pendulum-v1 --budget 2000 --learning-starts 500 \\
        --eval-freq 1000 --checkpoint-freq 500 --net-arch 64 64      # a quick look
    python benchmarks/long_runs.py --report     # the tables and curves of every run so far, into BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import pickle
import platform
import shutil
import subprocess
import textwrap
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
import yaml
from report import write_between_markers  # benchmarks/report.py, beside this script
from sb3_contrib import TQC, CrossQ
from stable_baselines3 import SAC, TD3
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.utils import set_random_seed

from sb3_lql import LQL, NCLQL

BENCHMARKS_DIR = Path(__file__).resolve().parent
ALGORITHMS: dict[str, type[OffPolicyAlgorithm]] = {
    "nclql": NCLQL, "lql": LQL, "sac": SAC, "td3": TD3, "tqc": TQC, "crossq": CrossQ,
}  # fmt: skip
#: The paper's protocol, truncated to 10 % of its gradient steps.
PROTOCOL = dict(n_envs=5, learning_starts=30_000, budget=500_000, eval_freq=25_000, eval_episodes=10)
#: The two evaluations: the stochastic policy (the paper's) and the greedy one; keys of every evaluation row.
MODES = ("stochastic", "deterministic")
#: How the tables of the README name the algorithms.
LABELS = {"nclql": "NC-LQL", "lql": "LQL", "sac": "SAC", "td3": "TD3", "tqc": "TQC", "crossq": "CrossQ"}
#: The lines of BENCHMARKS.md between which ``--report`` writes the tables and figures.
BEGIN = "<!-- long_runs.py --report: begin (generated, edits between these lines are overwritten) -->"
END = "<!-- long_runs.py --report: end -->"
#: The lines of README.md between which ``--report`` writes :func:`headline`.
HEADLINE_BEGIN = "<!-- long_runs.py --report: headline (generated, edits between these lines are overwritten) -->"
HEADLINE_END = "<!-- long_runs.py --report: headline end -->"
#: rl_zoo3's keys that are not arguments of the algorithm.
ZOO_ONLY = {"n_timesteps", "policy", "n_envs", "normalize", "env_wrapper", "callback", "frame_stack", "noise_type",
            "noise_std", "vec_env_wrapper", "monitor_kwargs", "env_kwargs"}  # fmt: skip


def hyperparameters(algo: str, env_id: str, learning_starts: int) -> dict[str, Any]:
    """
    :param algo: a key of :data:`ALGORITHMS`
    :param env_id: the task (its rl_zoo3 entry, where the algorithm has one; the defaults otherwise)
    :param learning_starts: the protocol's random warm-up
    :return: the algorithm's keyword arguments for this task under the protocol
    """
    if algo in ("nclql", "lql"):
        params: dict[str, Any] = dict(compile_sampler=True)
        if algo == "lql":
            params["step_size"] = 1e-3
    else:
        import rl_zoo3

        with open(Path(rl_zoo3.__file__).parent / "hyperparams" / f"{algo}.yml") as file:
            entry = dict(yaml.safe_load(file).get(env_id) or {})
        params = {key: value for key, value in entry.items() if key not in ZOO_ONLY}
        if isinstance(params.get("policy_kwargs"), str):
            params["policy_kwargs"] = eval(params["policy_kwargs"], {"nn": th.nn, "dict": dict})
        if "noise_type" in entry:  # TD3's exploration noise, as rl_zoo3 builds it
            from stable_baselines3.common.noise import NormalActionNoise

            n_actions = int(np.prod(gym.make(env_id).action_space.shape or ()))
            params["action_noise"] = NormalActionNoise(np.zeros(n_actions), entry["noise_std"] * np.ones(n_actions))
    # the protocol: one gradient step per vector step, the same warm-up for all
    return {**params, "learning_starts": learning_starts, "train_freq": 1, "gradient_steps": 1}


#: What a run's code is, for :func:`commit` (documents and results may change while it runs).
CODE = ("sb3_lql", "benchmarks", "setup.cfg", "pyproject.toml")


def commit() -> str:
    """:return: the repository's commit (with '+' if its code differs from it; results files do not count)"""
    try:
        git = ["git", "-C", str(BENCHMARKS_DIR.parent)]
        head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--untracked-files=no", "--", *CODE, ":!benchmarks/results"],
            capture_output=True, text=True,
        )  # fmt: skip
        return head.stdout.strip() + ("+" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


#: The code this process runs: read once, when it starts (the tree may move on while a run goes).
COMMIT = commit()
#: The distributions a result depends on besides our code: the networks, the peers, the physics.
PACKAGES = ("torch", "stable-baselines3", "sb3-contrib", "gymnasium", "mujoco", "numpy")


def versions() -> dict[str, str]:
    """:return: the installed version of each of :data:`PACKAGES` ("absent" where one is not installed)"""
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "absent"
    return found


def machine() -> str:
    """
    :return: the CPU's model name, family and model numbers and widest vector instructions, and the number of cores:
        CPU time depends on them, and floating-point results on the kernels the vector instructions select
    """
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():  # the first core's fields
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    name = fields.get("model name") or platform.processor() or platform.machine()
    flags = set(fields.get("flags", "").split())
    details = [f"family {fields['cpu family']} model {fields['model']}"] if "cpu family" in fields else []
    details += [label for flag, label in (("avx512f", "AVX-512"), ("avx2", "AVX2")) if flag in flags][:1]
    if details:
        name += " (" + ", ".join(details) + ")"
    return f"{name}, {os.cpu_count()} cores"


class Stopwatch:
    """
    A run's time over every session: wall-clock seconds, and this process's CPU seconds, which, unlike wall-clock,
    are not inflated when other jobs share the cores.

    :param wall: wall-clock seconds of the sessions before this one
    :param cpu: CPU seconds of the sessions before this one; None for runs begun before CPU time was recorded
        (their first sessions' CPU time is unknown, and so is their total)
    """

    def __init__(self, wall: float = 0.0, cpu: float | None = 0.0):
        self.wall_before, self.cpu_before = wall, cpu
        self.restart()

    def restart(self) -> None:
        """This session's share starts now (after the set-up, which does not count)."""
        self.wall_start, self.cpu_start = time.perf_counter(), time.process_time()

    def wall(self) -> float:
        """:return: wall-clock seconds over every session"""
        return round(self.wall_before + time.perf_counter() - self.wall_start, 1)

    def cpu(self) -> float | None:
        """:return: CPU seconds over every session, None where the first sessions' are unknown"""
        if self.cpu_before is None:
            return None
        return round(self.cpu_before + time.process_time() - self.cpu_start, 1)


def save_replay_buffer(buffer: ReplayBuffer | None, path: Path) -> None:
    """
    Write the filled part of a replay buffer, compressed (SB3's pickle holds every slot, filled or not, at full size).

    Two things make it small and neither loses what training reads: each next observation that repeats the
    following row's observation (all but the last step of an episode) is kept once, and 64-bit float observations
    (MuJoCo's) are kept as the 32-bit floats the networks turn them into anyway.

    :param buffer: a plain :class:`~stable_baselines3.common.buffers.ReplayBuffer` with next observations
    :param path: the ``.npz`` file to write
    """
    if type(buffer) is not ReplayBuffer or buffer.optimize_memory_usage:  # nor None: the model has no buffer
        raise ValueError(f"save_replay_buffer takes a ReplayBuffer with next observations, not {type(buffer).__name__}")
    filled = buffer.buffer_size if buffer.full else buffer.pos
    observations, next_observations = buffer.observations[:filled], buffer.next_observations[:filled]
    if observations.dtype == np.float64:
        observations, next_observations = observations.astype(np.float32), next_observations.astype(np.float32)
    feature_axes = tuple(range(2, observations.ndim))
    repeats = np.zeros(observations.shape[:2], dtype=bool)  # (row, env): next observation = the next row's
    repeats[:-1] = np.all(next_observations[:-1] == observations[1:], axis=feature_axes)
    np.savez_compressed(
        path, pos=buffer.pos, full=buffer.full, observations=observations, repeats=repeats,
        next_observations=next_observations[~repeats], actions=buffer.actions[:filled],
        rewards=buffer.rewards[:filled], dones=buffer.dones[:filled].astype(bool),
        timeouts=buffer.timeouts[:filled].astype(bool),
    )  # fmt: skip


def load_replay_buffer(buffer: ReplayBuffer | None, path: Path) -> None:
    """
    Fill an empty replay buffer of the same spaces, size and envs from :func:`save_replay_buffer`'s file.

    :param buffer: the buffer to fill (a freshly loaded model's)
    :param path: the ``.npz`` file
    """
    if type(buffer) is not ReplayBuffer or buffer.optimize_memory_usage:
        raise ValueError(f"load_replay_buffer fills a ReplayBuffer with next observations, not {type(buffer).__name__}")
    with np.load(path) as data:
        observations, repeats = data["observations"], data["repeats"]
        filled = len(observations)
        if observations.shape[1:] != buffer.observations.shape[1:] or filled > buffer.buffer_size:
            raise ValueError(
                f"{path} holds {filled} rows of {observations.shape[1:]} (envs, observation), the buffer "
                f"{buffer.buffer_size} of {buffer.observations.shape[1:]}"
            )
        next_observations = np.empty_like(observations)
        next_observations[:-1] = observations[1:]
        next_observations[~repeats] = data["next_observations"]
        buffer.observations[:filled], buffer.next_observations[:filled] = observations, next_observations
        for name in ("actions", "rewards", "dones", "timeouts"):
            getattr(buffer, name)[:filled] = data[name]
        buffer.pos, buffer.full = int(data["pos"]), bool(data["full"])


class EvaluateAndCheckpoint(BaseCallback):
    """
    Evaluates both policies every ``eval_freq`` env steps and checkpoints the run every ``checkpoint_freq``.

    Checkpoints are taken when the next rollout starts, i.e. after the gradient steps of the env steps before
    them, so that a resumed run makes exactly the gradient steps an uninterrupted one makes. Each one is also
    exported (:meth:`Run.export_checkpoint`) where the repository carries it, so that a session cut off before it
    could export leaves its last checkpoint in the working tree, beside the history it matches.

    :param run: the run whose history and files this callback writes
    :param eval_freq: env steps between evaluations
    :param checkpoint_freq: env steps between checkpoints
    """

    model: OffPolicyAlgorithm  # every algorithm of the harness keeps a replay buffer

    def __init__(self, run: Run, eval_freq: int, checkpoint_freq: int):
        super().__init__()
        self.run, self.eval_freq, self.checkpoint_freq = run, eval_freq, checkpoint_freq
        self.last_checkpoint = 0

    def _on_training_start(self) -> None:
        self.last_checkpoint = self.num_timesteps

    def _on_step(self) -> bool:
        steps, previous = self.num_timesteps, self.num_timesteps - self.training_env.num_envs
        if steps // self.eval_freq > previous // self.eval_freq:
            self.run.evaluate(self.model, steps)
        return True

    def _on_rollout_start(self) -> None:
        if self.num_timesteps // self.checkpoint_freq > self.last_checkpoint // self.checkpoint_freq:
            self.run.checkpoint(self.model)
            run = self.run
            print(f"{run.algo} {run.env_id} seed {run.seed}: {run.export_checkpoint()}", flush=True)
            self.last_checkpoint = self.num_timesteps


class Run:
    """
    One algorithm x task x seed: its folder, its checkpoint, its evaluation history.

    :param algo: a key of :data:`ALGORITHMS`
    :param env_id: the task
    :param seed: the seed
    :param root: the folder of the runs' checkpoints, on this machine
    :param results: the folder of the evaluation histories (committed), and of the checkpoints exported for the
        next session (:meth:`export`), which may run on another machine
    :param settings: the protocol's settings (:data:`PROTOCOL` and overrides)
    :param export_limit_mb: the largest checkpoint exported, in MB (model and compacted replay buffer): larger
        ones stay on this machine, as too much to commit every session
    """

    def __init__(
        self, algo: str, env_id: str, seed: int, root: Path, results: Path, settings: dict[str, Any],
        export_limit_mb: float = 100.0,
    ):  # fmt: skip
        self.algo, self.env_id, self.seed, self.settings = algo, env_id, seed, settings
        self.export_limit_mb = export_limit_mb
        self.folder = root / algo / env_id / f"seed{seed}"
        self.results_file = results / f"{algo}_{env_id}_seed{seed}.json"
        self.exported_dir = results / "checkpoints" / f"{algo}_{env_id}_seed{seed}"
        self.history: list[dict[str, Any]] = []
        self.clock = Stopwatch()  # training and evaluation, over every session
        # one per session that trained the run: where it took over, with which code, packages and machine
        self.segments: list[dict[str, Any]] = []
        self.eval_env = Monitor(gym.make(env_id))

    @property
    def checkpoint_dir(self) -> Path:
        return self.folder / "checkpoint"

    def evaluate(self, model: OffPolicyAlgorithm, steps: int) -> None:
        """Evaluate both policies, append to the history and write the results file."""
        self.eval_env.reset(seed=10_000 + steps)
        row: dict[str, Any] = dict(timesteps=steps, gradient_steps=model._n_updates)
        spent = Stopwatch()  # this evaluation's own cost: the run's clock holds training and evaluating
        for mode in MODES:
            returns, lengths = evaluate_policy(
                model, self.eval_env, n_eval_episodes=self.settings["eval_episodes"],
                deterministic=mode == "deterministic", return_episode_rewards=True,
            )  # fmt: skip
            assert isinstance(returns, list) and isinstance(lengths, list)  # one of each per episode
            row[mode], row[f"{mode}_lengths"] = [float(r) for r in returns], [int(n) for n in lengths]
        row["eval_wall_s"], row["eval_cpu_s"] = spent.wall(), spent.cpu()
        row["wall_clock_s"], row["cpu_s"] = self.clock.wall(), self.clock.cpu()
        self.history.append(row)
        self.write_results(status="running", model=model)
        print(
            f"{self.algo} {self.env_id} seed {self.seed}: {steps} env steps, stochastic "
            f"{np.mean(row['stochastic']):.1f}, greedy {np.mean(row['deterministic']):.1f}, "
            f"{row['wall_clock_s'] / 3600:.2f} h",
            flush=True,
        )

    def write_results(self, status: str, model: OffPolicyAlgorithm) -> None:
        self.results_file.parent.mkdir(parents=True, exist_ok=True)
        record = dict(
            algo=self.algo, env=self.env_id, seed=self.seed, status=status, commit=COMMIT,
            timesteps=model.num_timesteps, gradient_steps=model._n_updates,
            wall_clock_s=self.clock.wall(), cpu_s=self.clock.cpu(), protocol=self.settings, segments=self.segments,
            evaluations=self.history,
        )  # fmt: skip
        temporary = self.results_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(record, indent=1))
        os.replace(temporary, self.results_file)

    def checkpoint(self, model: OffPolicyAlgorithm) -> None:
        """Write model, replay buffer and history to a new folder, then swap it in: a kill never leaves half a one."""
        fresh, old = self.folder / "checkpoint.new", self.folder / "checkpoint.old"
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir(parents=True)
        model.save(fresh / "model.zip")
        save_replay_buffer(model.replay_buffer, fresh / "replay_buffer.npz")
        progress = dict(
            history=self.history, elapsed_s=self.clock.wall(), cpu_s=self.clock.cpu(), segments=self.segments,
            timesteps=model.num_timesteps,
        )  # fmt: skip
        (fresh / "progress.json").write_text(json.dumps(progress))
        if self.checkpoint_dir.exists():
            os.replace(self.checkpoint_dir, old)
        os.replace(fresh, self.checkpoint_dir)
        shutil.rmtree(old, ignore_errors=True)

    def begin_segment(self, timesteps: int, before: list[dict[str, Any]]) -> None:
        """
        Record this session's share of the run, and say so when its packages differ from the last session's.

        :param timesteps: the env steps the run had made before this session
        :param before: the earlier sessions' segments
        """
        now = versions()
        if before and before[-1]["versions"] != now:
            changed = {name: version for name, version in now.items() if before[-1]["versions"].get(name) != version}
            print(f"{self.algo} {self.env_id} seed {self.seed}: resumed with other packages: {changed}", flush=True)
        self.segments = [*before, dict(from_timesteps=timesteps, commit=COMMIT, versions=now, machine=machine())]

    def recorded(self) -> dict[str, Any] | None:
        """:return: the run's committed record (status, progress, evaluations), or None before its first write"""
        return json.loads(self.results_file.read_text()) if self.results_file.exists() else None

    def resumable(self) -> bool:
        """:return: whether a checkpoint of the run is at hand: this machine's, or one exported to the results"""
        folders = (self.checkpoint_dir, self.folder / "checkpoint.old", self.exported_dir)
        return any((folder / "model.zip").exists() for folder in folders)

    def model(self) -> OffPolicyAlgorithm:
        """The run's model: resumed from its last checkpoint, or new."""
        algorithm = ALGORITHMS[self.algo]
        env = make_vec_env(self.env_id, n_envs=self.settings["n_envs"], seed=self.seed)
        if not self.checkpoint_dir.exists() and (self.folder / "checkpoint.old").exists():
            os.replace(self.folder / "checkpoint.old", self.checkpoint_dir)  # killed between the two renames
        if not self.checkpoint_dir.exists() and self.exported_dir.exists():  # another machine's, from the repository
            shutil.copytree(self.exported_dir, self.checkpoint_dir)
            print(f"{self.algo} {self.env_id} seed {self.seed}: checkpoint taken from {self.exported_dir}", flush=True)
        if (self.checkpoint_dir / "model.zip").exists():
            model = algorithm.load(self.checkpoint_dir / "model.zip", env=env, device="cpu")
            if (self.checkpoint_dir / "replay_buffer.npz").exists():
                load_replay_buffer(model.replay_buffer, self.checkpoint_dir / "replay_buffer.npz")
            else:  # written before checkpoints were compacted
                model.load_replay_buffer(self.checkpoint_dir / "replay_buffer.pkl")
            progress = json.loads((self.checkpoint_dir / "progress.json").read_text())
            self.history = progress["history"]
            # CPU time and segments: absent from checkpoints written before they were recorded
            self.clock = Stopwatch(progress["elapsed_s"], progress.get("cpu_s"))
            self.begin_segment(model.num_timesteps, progress.get("segments", []))
            model._last_obs = None  # type: ignore[assignment]  # fresh envs: reset them, cutting the episodes in progress
            set_random_seed(self.seed * 1_000_003 + model.num_timesteps)  # each resumed segment its own seed
            print(f"{self.algo} {self.env_id} seed {self.seed}: resumed at {model.num_timesteps} env steps", flush=True)
            return model
        self.begin_segment(0, [])
        params = hyperparameters(self.algo, self.env_id, self.settings["learning_starts"])
        if self.settings.get("eager") and "compile_sampler" in params:
            params["compile_sampler"] = False
        if self.settings.get("net_arch"):
            params["policy_kwargs"] = {**params.get("policy_kwargs", {}), "net_arch": self.settings["net_arch"]}
        return algorithm("MlpPolicy", env, seed=self.seed, device="cpu", **params)

    @contextlib.contextmanager
    def claimed(self) -> Iterator[bool]:
        """
        Hold the run's lock while training or exporting it: two lanes started with overlapping seeds would
        otherwise both resume it and overwrite each other's checkpoints, and an export could copy a model and a
        history from two different checkpoints. The system drops the lock when its process ends, killed or not.

        :return: (as a context manager) whether this process holds the lock; False while another one does
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True  # closing the file releases the lock

    def train(self) -> str:
        """:return: "finished" (now or before) after training to the budget, or why it did not train"""
        with self.claimed() as mine:
            return self._train() if mine else "skipped, another process is training it"

    def _train(self) -> str:
        record = self.recorded()
        if record is not None and record["status"] == "finished":
            shutil.rmtree(self.exported_dir, ignore_errors=True)  # left by an export before it finished
            return "finished before"
        if record is not None and not self.resumable():
            # its evaluations are all there is of it: a fresh start would write its own history over them
            return (
                f"not started: its results ({record['timesteps']} env steps) have no checkpoint on this machine nor "
                f"exported, and a new run would overwrite them; move {self.results_file} away to start it again"
            )
        model = self.model()
        self.clock.restart()
        left = self.settings["budget"] - model.num_timesteps
        if left > 0:
            callback = EvaluateAndCheckpoint(self, self.settings["eval_freq"], self.settings["checkpoint_freq"])
            model.learn(left, callback=callback, reset_num_timesteps=False)
        self.checkpoint(model)
        self.write_results(status="finished", model=model)
        shutil.rmtree(self.exported_dir, ignore_errors=True)  # finished: the repository need not carry it
        return "finished"

    def export(self) -> str:
        """
        Copy an unfinished run's last checkpoint next to its results, to be committed, so that the next session
        resumes it even on another machine (whose runs folder starts empty).

        :return: what was done, for the log
        """
        if not self.folder.exists():  # not run here: leave no empty run folder behind
            return "no checkpoint on this machine"
        with self.claimed() as mine:
            return self.export_checkpoint() if mine else "not exported, another process is training it: stop it first"

    def export_checkpoint(self) -> str:
        """
        :meth:`export`'s work, by a process holding the run's lock: after each checkpoint (training) or on demand.

        :return: what was done, for the log
        """
        record = self.recorded()
        if record is not None and record["status"] == "finished":
            return "finished, nothing to export"
        if not (self.checkpoint_dir / "model.zip").exists():
            return "no checkpoint on this machine"
        files = [self.checkpoint_dir / name for name in ("model.zip", "replay_buffer.npz")]
        size_mb = sum(file.stat().st_size for file in files if file.exists()) / 2**20
        if size_mb > self.export_limit_mb:
            return f"not exported: its checkpoint is {size_mb:.1f} MB, over --export-limit-mb {self.export_limit_mb:g}"
        fresh = self.exported_dir.with_name(self.exported_dir.name + ".new")
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir(parents=True)
        for name in ("model.zip", "progress.json"):
            shutil.copy2(self.checkpoint_dir / name, fresh / name)
        if (self.checkpoint_dir / "replay_buffer.npz").exists():
            shutil.copy2(self.checkpoint_dir / "replay_buffer.npz", fresh / "replay_buffer.npz")
        else:  # a checkpoint written before they were compacted: compact its buffer
            with open(self.checkpoint_dir / "replay_buffer.pkl", "rb") as file:
                save_replay_buffer(pickle.load(file), fresh / "replay_buffer.npz")
        shutil.rmtree(self.exported_dir, ignore_errors=True)
        os.replace(fresh, self.exported_dir)
        timesteps = json.loads((self.exported_dir / "progress.json").read_text())["timesteps"]
        megabytes = sum(file.stat().st_size for file in self.exported_dir.iterdir()) / 2**20
        return f"exported at {timesteps} env steps ({megabytes:.1f} MB) to {self.exported_dir}"


def records(results: Path) -> list[dict[str, Any]]:
    """:return: every run's record in the folder of the evaluation histories, in file-name order"""
    return [json.loads(path.read_text()) for path in sorted(results.glob("*.json"))]


def by_task_and_algorithm(runs: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """
    :param runs: the runs' records (:func:`records`)
    :return: the records with at least one evaluation, grouped by (task, algorithm), sorted
    """
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for record in runs:
        if record["evaluations"]:
            groups.setdefault((record["env"], record["algo"]), []).append(record)
    return dict(sorted(groups.items()))


def summary(runs: list[dict[str, Any]]) -> str:
    """
    :param runs: the runs' records (:func:`records`)
    :return: a markdown table: one row per run, how far it got and its latest and best mean returns; below it, the
        package versions and machines the runs were trained with
    """
    lines = [
        "| task | algorithm | seed | status | env steps | gradient steps | latest stochastic / greedy "
        "| best stochastic / greedy | wall-clock (h) | CPU (h) | of which evaluating (CPU h) | commit |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for record in runs:
        rows = record["evaluations"]
        if rows:
            latest = f"{np.mean(rows[-1]['stochastic']):.1f} / {np.mean(rows[-1]['deterministic']):.1f}"
            best = " / ".join(f"{max(np.mean(row[mode]) for row in rows):.1f}" for mode in MODES)
        else:
            latest = best = "-"
        cpu = "-" if record.get("cpu_s") is None else f"{record['cpu_s'] / 3600:.2f}"
        timed = [row["eval_cpu_s"] for row in rows if "eval_cpu_s" in row]  # absent from older evaluations
        evaluating = f"{sum(timed) / 3600:.2f}" if timed else "-"
        if 0 < len(timed) < len(rows):
            evaluating += f" ({len(timed)} of {len(rows)} evaluations)"
        lines.append(
            f"| {record['env']} | {record['algo']} | {record['seed']} | {record['status']} | {record['timesteps']:,} "
            f"| {record['gradient_steps']:,} | {latest} | {best} | {record['wall_clock_s'] / 3600:.2f} | {cpu} "
            f"| {evaluating} | `{record['commit']}` |"
        )
    sets: dict[str, int] = {}
    for record in runs:
        for segment in record.get("segments", []):
            text = ", ".join(f"{name} {version}" for name, version in segment["versions"].items())
            text += f" on {segment['machine']}" if "machine" in segment else ""
            sets[text] = sets.get(text, 0) + 1
    recorded = sum(1 for record in runs if record.get("segments"))
    if sets:
        each = "; ".join(f"{text} ({counted(count, 'session')})" for text, count in sets.items())
        lines.append(f"\nPackages, per session of a run ({recorded} of {len(runs)} runs record them): {each}.")
    return "\n".join(lines)


def aggregate(runs: list[dict[str, Any]]) -> str:
    """
    :param runs: the runs' records (:func:`records`)
    :return: a markdown table: per task and algorithm, over its finished runs and, in rows of their own, over its
        runs still in progress that reached the same number of env steps, mean ± standard error over seeds of the
        final and the best mean return and of the area under the curve (the mean return over the evaluations made),
        for both policies, and the wall-clock and CPU time per run
    """

    def mean_se(values: list[float], digits: int = 0) -> str:
        array = np.asarray(values, dtype=np.float64)
        text = f"{array.mean():,.{digits}f}"
        return text + (f" ± {standard_error(array):,.{digits}f}" if len(array) > 1 else "")

    lines = [
        "| task | algorithm | status | seeds | env steps | final stochastic / greedy | best stochastic / greedy "
        "| AUC stochastic / greedy | wall-clock per run (h) | CPU per run (h) | commits |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (env, algo), group in by_task_and_algorithm(runs).items():
        finished = [run for run in group if run["status"] == "finished"]
        running = [run for run in group if run["status"] != "finished"]
        # Runs in progress are pooled only with runs that reached the same point: a mean over runs at 25k and at
        # 400k env steps would describe neither.
        subsets = [("finished", finished)] + [
            ("running", [run for run in running if run["timesteps"] == point])
            for point in sorted({run["timesteps"] for run in running}, reverse=True)
        ]
        for status, subset in subsets:
            if not subset:
                continue
            cells = []
            for statistic in (lambda rows, m: np.mean(rows[-1][m]), lambda rows, m: max(np.mean(r[m]) for r in rows),
                              lambda rows, m: np.mean([np.mean(r[m]) for r in rows])):  # fmt: skip
                cells.append(" / ".join(mean_se([statistic(r["evaluations"], m) for r in subset]) for m in MODES))
            reached = ", ".join(sorted({f"{r['timesteps']:,}" for r in subset}))
            hours = mean_se([r["wall_clock_s"] / 3600 for r in subset], digits=2)
            cpu_hours = [r["cpu_s"] / 3600 for r in subset if r.get("cpu_s") is not None]
            cpu = "-" if not cpu_hours else mean_se(cpu_hours, digits=2)
            if 0 < len(cpu_hours) < len(subset):
                cpu += f" ({len(cpu_hours)} of {len(subset)} runs)"
            commits = ", ".join(sorted({f"`{r['commit']}`" for r in subset}))
            lines.append(
                f"| {env} | {algo} | {status} | {len(subset)} | {reached} | {' | '.join(cells)} | {hours} | {cpu} "
                f"| {commits} |"
            )
    return "\n".join(lines)


def counted(count: int, noun: str) -> str:
    """
    :param count: how many
    :param noun: what, singular
    :return: e.g. "1 seed", "3 seeds"
    """
    return f"{count} {noun}{'' if count == 1 else 's'}"


def hours_of(run: dict[str, Any]) -> str:
    """:return: the clock :func:`matched` reads for a run: CPU time where every evaluation has it, else wall-clock"""
    return "cpu_s" if all(row.get("cpu_s") is not None for row in run["evaluations"]) else "wall_clock_s"


def window_mean(rows: list[dict[str, Any]], until: int, window: int) -> tuple[float, float]:
    """
    :param rows: a run's evaluations
    :param until: the point, in env steps
    :param window: env steps averaged over before it
    :return: the mean return of the stochastic and of the greedy policy over the evaluations in the window
    """
    rows = [row for row in rows if until - window < row["timesteps"] <= until]
    stochastic, greedy = (float(np.mean([np.mean(row[mode]) for row in rows])) for mode in MODES)
    return stochastic, greedy


def reached(runs: list[dict[str, Any]], point: int) -> list[dict[str, Any]]:
    """:return: the runs (records) that have been evaluated at ``point`` env steps or later"""
    return [run for run in runs if run["evaluations"][-1]["timesteps"] >= point]


def cell(values: list[tuple[float, float]]) -> str:
    """:return: the seeds' mean of (stochastic, greedy) values and how many seeds, "-" where there are none"""
    if not values:
        return "-"
    means = np.mean(values, axis=0)
    return f"{means[0]:,.0f} / {means[1]:,.0f} ({len(values)})"


def matched(
    runs: list[dict[str, Any]],
    steps: tuple[int, ...] = (100_000, 200_000, 300_000, 400_000, 500_000),
    hours: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0),
    window: int = 100_000,
) -> str:
    """
    The algorithms side by side at equal env steps and at equal time. One evaluation (10 episodes) of a Hopper
    policy swings by thousands, so each cell is the mean return over the evaluations in the last ``window`` env
    steps before the point, averaged over the seeds that reached it (their number in brackets).

    :param runs: the runs' records (:func:`records`)
    :param steps: the env-step points
    :param hours: the time points, in hours of one core: a run's CPU time where every evaluation recorded it, else
        its wall-clock (runs begun before CPU time was recorded; one thread each, so about the same when the run had
        a core to itself); a run counts at a point once it has passed it or finished, at the latest evaluation made
        by then
    :param window: env steps averaged over before each point
    :return: two markdown tables, stochastic / greedy in each cell
    """

    groups = by_task_and_algorithm(runs)
    step_lines = [
        "| task | algorithm | " + " | ".join(f"{point // 1000}k env steps" for point in steps) + " |",
        "|---|---|" + "---|" * len(steps),
    ]
    hour_lines = [
        "| task | algorithm | " + " | ".join(f"{point:g} h" for point in hours) + " |",
        "|---|---|" + "---|" * len(hours),
    ]
    for (env, algo), group in groups.items():
        at_steps = [
            [window_mean(run["evaluations"], point, window) for run in reached(group, point)] for point in steps
        ]
        at_hours = []
        for point in hours:
            values = []
            for run in group:
                clock, rows = hours_of(run), run["evaluations"]
                made = [row for row in rows if row[clock] <= point * 3600]
                if made and (rows[-1][clock] >= point * 3600 or run["status"] == "finished"):
                    values.append(window_mean(rows, made[-1]["timesteps"], window))
            at_hours.append(values)
        step_lines.append(f"| {env} | {algo} | " + " | ".join(cell(values) for values in at_steps) + " |")
        hour_lines.append(f"| {env} | {algo} | " + " | ".join(cell(values) for values in at_hours) + " |")
    return "\n".join(step_lines) + "\n\n" + "\n".join(hour_lines)


def headline(runs: list[dict[str, Any]], point: int = PROTOCOL["budget"], window: int = 100_000) -> str:
    """
    The long runs in one table, for the README: a row per task, a column per algorithm (ours first), and in each
    cell the mean return over the evaluations in the last ``window`` env steps before ``point`` (stochastic /
    greedy), averaged over the seeds that reached it, how many, and the hours of one core a run took to get there
    (as :func:`matched` reads them). Under it, a line says what the table leaves out: the algorithms not run on a
    task (a dash), and the runs short of ``point`` (a dash, or fewer seeds than the others) with how far they got,
    so that the README's prose need not keep count.

    :param runs: the runs' records (:func:`records`)
    :param point: the env steps compared at
    :param window: env steps averaged over before it
    :return: a markdown table, and the line under it where something is left out
    """
    groups = by_task_and_algorithm(runs)
    algos = [algo for algo in ALGORITHMS if any(key[1] == algo for key in groups)]
    lines = ["| task | " + " | ".join(LABELS[algo] for algo in algos) + " |", "|---|" + "---|" * len(algos)]
    not_run, short = [], []
    for env in sorted({key[0] for key in groups}):
        missing = [LABELS[algo] for algo in algos if (env, algo) not in groups]
        if missing:
            not_run.append(f"{listed(missing)} on {env}")
        cells = []
        for algo in algos:
            group = groups.get((env, algo), [])
            there = reached(group, point)
            behind = sorted(steps for steps in (run["evaluations"][-1]["timesteps"] for run in group) if steps < point)
            if behind:
                furthest = listed([f"{steps:,}" for steps in dict.fromkeys(behind)])
                short.append(f"{LABELS[algo]} on {env}, {counted(len(behind), 'run')} at {furthest}")
            if not there:
                cells.append("-")
                continue
            hours = [next(row for row in run["evaluations"] if row["timesteps"] >= point)[hours_of(run)] / 3600
                     for run in there]  # fmt: skip
            means = cell([window_mean(run["evaluations"], point, window) for run in there])
            cells.append(f"{means}, {np.mean(hours):.1f} h")
        lines.append(f"| {env} | " + " | ".join(cells) + " |")
    notes = ([f"Not run: {'; '.join(not_run)}."] if not_run else []) + (
        [f"Short of {point:,} env steps, so left out above: {'; '.join(short)}."] if short else []
    )
    return "\n".join(lines) + ("\n\n" + textwrap.fill(" ".join(notes), 118) if notes else "")


def listed(items: list[str]) -> str:
    """
    :param items: at least one
    :return: the items as prose, e.g. "a", "a and b", "a, b and c"
    """
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def tables(runs: list[dict[str, Any]]) -> str:
    """
    :param runs: the runs' records (:func:`records`)
    :return: every table of the report: :func:`summary`, :func:`aggregate` and :func:`matched`
    """
    return summary(runs) + "\n\n" + aggregate(runs) + "\n\n" + matched(runs)


def report(runs: list[dict[str, Any]], figures: Path, markdown: Path, readme: Path) -> None:
    """
    Draw the curves (:func:`plot`) and put them, under the tables (:func:`tables`), between the markers
    :data:`BEGIN` and :data:`END` of ``markdown``, and :func:`headline` between those of ``readme``, so that both
    documents show exactly the committed histories.

    :param runs: the runs' records (:func:`records`)
    :param figures: where the PNG files go
    :param markdown: BENCHMARKS.md
    :param readme: README.md
    """
    links = [f"![{path.stem} long runs]({os.path.relpath(path, markdown.parent)})" for path in plot(runs, figures)]
    write_between_markers(markdown, [tables(runs), *links], BEGIN, END)
    write_between_markers(readme, [headline(runs)], HEADLINE_BEGIN, HEADLINE_END)


def standard_error(values: np.ndarray) -> float:
    """:param values: one value per seed, at least two
    :return: the standard error of their mean"""
    return float(values.std(ddof=1) / np.sqrt(len(values)))


def ragged_mean(curves: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """
    The mean over seeds of curves of different lengths (runs that have gone different distances).

    :param curves: one 1-D array per seed, each a prefix of the same sequence of evaluation points
    :return: at each point of the longest curve, the mean over the seeds that reached it, its standard error (0 where
        one seed did) and how many seeds reached it
    """
    length = max(len(curve) for curve in curves)
    reached = [np.array([curve[point] for curve in curves if len(curve) > point]) for point in range(length)]
    seeds = np.array([len(values) for values in reached])
    mean = np.array([values.mean() for values in reached])
    se = np.array([standard_error(values) if len(values) > 1 else 0.0 for values in reached])
    return mean, se, seeds


def plot(runs: list[dict[str, Any]], out: Path) -> list[Path]:
    """
    Learning curves, one figure per task: mean return ± standard error over seeds against env steps (left) and
    against hours of one core (right: CPU time, or wall-clock for runs begun before CPU time was recorded; the
    seeds' mean at each evaluation), stochastic policy above, greedy below. The mean is solid as far as every seed
    has gone and dashed beyond, over the seeds that went further while there are at least two (a seed still running
    would otherwise hide the others' mean); each seed is also drawn on its own, thin, as far as it has gone.

    :param runs: the runs' records (:func:`records`)
    :param out: where the PNG files go
    :return: the files written
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for (env, algo), group in by_task_and_algorithm(runs).items():
        tasks.setdefault(env, {})[algo] = group
    written = []
    for env, algos in sorted(tasks.items()):
        fig, axes = plt.subplots(2, 2, figsize=(12, 8), sharey="row")
        for algo, group in sorted(algos.items()):
            colour = list(ALGORITHMS).index(algo)  # one colour per algorithm in every figure
            histories = [run["evaluations"] for run in group]
            label = f"{algo} ({counted(len(histories), 'seed')})"
            steps = [np.array([e["timesteps"] for e in history], dtype=float) for history in histories]
            clocks = [np.array([e[hours_of(run)] for e in run["evaluations"]]) / 3600 for run in group]
            hours, _, _ = ragged_mean(clocks)
            longest = max(steps, key=len)
            for row, mode in enumerate(MODES):
                curves = [np.array([np.mean(e[mode]) for e in history]) for history in histories]
                mean, se, seeds = ragged_mean(curves)
                every = seeds == len(histories)  # both prefixes: histories only grow
                several = seeds >= 2
                for ax, x, each in zip(axes[row], (longest, hours), (steps, clocks), strict=True):
                    ax.plot(x[every], mean[every], color=f"C{colour}", label=label)
                    ax.fill_between(x[every], (mean - se)[every], (mean + se)[every], color=f"C{colour}", alpha=0.25)
                    if several.sum() > every.sum():  # from the last point every seed has made on
                        tail = slice(max(int(every.sum()) - 1, 0), int(several.sum()))
                        ax.plot(x[tail], mean[tail], color=f"C{colour}", linestyle="--")
                    for x_seed, curve in zip(each, curves, strict=True):
                        ax.plot(x_seed, curve, color=f"C{colour}", linewidth=0.6, alpha=0.4)
        for row, mode in enumerate(("stochastic policy", "greedy policy")):
            axes[row, 0].set(xlabel="env steps", ylabel=f"return, {mode}")
            axes[row, 1].set(xlabel="hours of one core (CPU time; wall-clock where not recorded)")
        axes[0, 0].legend()
        fig.suptitle(
            f"{env}: mean return ± standard error over seeds (10 episodes per evaluation; "
            "dashed: over the seeds that have got that far)"
        )
        fig.tight_layout()
        path = out / f"{env}.png"
        fig.savefig(path, dpi=80)
        plt.close(fig)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    """:param argv: command-line arguments (default: ``sys.argv[1:]``)"""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algos", nargs="+", default=["nclql", "sac", "crossq"], choices=list(ALGORITHMS))
    parser.add_argument("--envs", nargs="+", default=["Hopper-v4"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--root", type=Path, default=BENCHMARKS_DIR / "runs" / "long", help="checkpoints")
    parser.add_argument("--results", type=Path, default=BENCHMARKS_DIR / "results" / "long", help="histories")
    parser.add_argument("--budget", type=int, default=PROTOCOL["budget"], help="env steps per run")
    parser.add_argument("--n-envs", type=int, default=PROTOCOL["n_envs"])
    parser.add_argument("--learning-starts", type=int, default=PROTOCOL["learning_starts"])
    parser.add_argument("--eval-freq", type=int, default=PROTOCOL["eval_freq"])
    parser.add_argument("--eval-episodes", type=int, default=PROTOCOL["eval_episodes"])
    parser.add_argument("--checkpoint-freq", type=int, default=PROTOCOL["eval_freq"])
    parser.add_argument("--net-arch", type=int, nargs="+", default=None, help="override the networks (quick looks)")
    parser.add_argument("--eager", action="store_true", help="LQL / NC-LQL without compiling (quick looks, tests)")
    parser.add_argument("--threads", type=int, default=th.get_num_threads())
    parser.add_argument("--summary", action="store_true", help="only print the tables of the runs in --results")
    parser.add_argument("--plot", action="store_true", help="only draw the learning curves of the runs in --results")
    parser.add_argument(
        "--report", action="store_true",
        help="only draw the curves, write them and the tables into --markdown and the headline table into --readme",
    )  # fmt: skip
    parser.add_argument("--markdown", type=Path, default=BENCHMARKS_DIR.parent / "BENCHMARKS.md", help="--report's")
    parser.add_argument("--readme", type=Path, default=BENCHMARKS_DIR.parent / "README.md", help="--report's")
    parser.add_argument(
        "--export", action="store_true",
        help="only copy the unfinished runs' last checkpoints into --results/checkpoints (as training does after each)",
    )  # fmt: skip
    parser.add_argument(
        "--export-limit-mb", type=float, default=100.0,
        help="largest checkpoint (model and compacted replay buffer) exported, after each checkpoint or by --export",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.summary:
        print(tables(records(args.results)))
        return
    if args.plot:
        for path in plot(records(args.results), args.results):
            print(f"wrote {path}")
        return
    if args.report:
        report(records(args.results), args.results, args.markdown, args.readme)
        print(f"wrote the tables and curves of {args.results} into {args.markdown} and {args.readme}")
        return
    th.set_num_threads(args.threads)
    settings = dict(
        n_envs=args.n_envs, learning_starts=args.learning_starts, budget=args.budget, eval_freq=args.eval_freq,
        eval_episodes=args.eval_episodes, checkpoint_freq=args.checkpoint_freq, net_arch=args.net_arch,
        eager=args.eager,
    )  # fmt: skip
    for env_id in args.envs:
        for seed in args.seeds:
            for algo in args.algos:
                run = Run(algo, env_id, seed, args.root, args.results, settings, args.export_limit_mb)
                status = run.export() if args.export else run.train()
                print(f"{status}: {algo} {env_id} seed {seed}", flush=True)


if __name__ == "__main__":
    main()
