"""RL Zoo integration: shipped YAML entries, train/enjoy entry points, optuna on a shared storage."""

from __future__ import annotations

import argparse
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
import yaml

from sb3_lql import LQL, NCLQL
from sb3_lql.zoo import ALGORITHMS, check_hyperparameters, default_conf_file, prepare_train_argv, register

ENTRIES = [(algo, env) for algo in ALGORITHMS for env in yaml.safe_load(default_conf_file(algo).read_text())]
REQUIRED_ENVS = {
    "Pendulum-v1",
    "MountainCarContinuous-v0",
    "InvertedPendulum-v5",
    "InvertedDoublePendulum-v5",
    "Hopper-v5",
    "HalfCheetah-v5",
    "Walker2d-v5",
    "Ant-v5",
    "Humanoid-v5",
    "Swimmer-v5",
}


def run_module(module: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.mark.parametrize("algo", list(ALGORITHMS))
def test_yaml_covers_the_tasks(algo):
    assert set(yaml.safe_load(default_conf_file(algo).read_text())) >= REQUIRED_ENVS


@pytest.mark.parametrize("algo, env_id", ENTRIES)
def test_each_yaml_entry_builds_its_model(algo, env_id, tmp_path):
    from rl_zoo3.exp_manager import ExperimentManager

    register()
    manager = ExperimentManager(
        argparse.Namespace(), algo, env_id, str(tmp_path), config=str(default_conf_file(algo)), device="cpu",
        verbose=0, eval_freq=-1,
    )  # fmt: skip
    model, hyperparams = manager.setup_experiment()
    assert isinstance(model, ALGORITHMS[algo])
    assert model.get_env().num_envs == hyperparams.get("n_envs", 1)
    if "n_envs" in hyperparams and env_id != "Pendulum-v1":  # the paper's MuJoCo protocol
        assert (model.n_envs, model.learning_starts, model.inverse_temperature) == (5, 30_000, 500.0)
        assert model.policy.net_arch == [256, 256, 256]


def test_default_conf_file_and_pass_through():
    argv = prepare_train_argv(["--algo", "nclql", "--env", "Pendulum-v1"])
    assert argv[-2:] == ["--conf-file", str(default_conf_file("nclql"))]
    assert prepare_train_argv(["--algo", "sac", "--env", "Pendulum-v1"]) == ["--algo", "sac", "--env", "Pendulum-v1"]
    register()
    from rl_zoo3.utils import ALGOS

    assert ALGOS["lql"] is LQL and ALGOS["nclql"] is NCLQL and "sac" in ALGOS


@pytest.mark.parametrize(
    "entry, message",
    [
        (
            {"n_timesteps": 10, "inverse_temprature": 5.0},
            "unknown hyperparameter 'inverse_temprature'.*inverse_temperature",
        ),
        ({"n_timesteps": 10, "step_size": "big"}, "'step_size' must be a number"),
        ({"n_timesteps": 10, "normalize_grad": 1}, "'normalize_grad' must be a boolean"),
        ({"n_timesteps": 10, "batch_size": True}, "'batch_size' must be a number"),
        ({"n_timesteps": 10, "gamma": 1.5}, "entry 'Pendulum-v1': `gamma` must be a number in"),
        ({"n_timesteps": 10, "sigma_min": 0.5}, "`sigma_min` must be smaller than `sigma_max`"),
        ({"n_timesteps": 10, "inverse_temperature": -5.0}, "`inverse_temperature` must be a finite number > 0"),
    ],
)
def test_user_yaml_errors_name_the_key(entry, message, tmp_path):
    conf = tmp_path / "my.yml"
    conf.write_text(yaml.safe_dump({"Pendulum-v1": entry}))
    with pytest.raises(ValueError, match=message):
        prepare_train_argv(["--algo", "nclql", "--env", "Pendulum-v1", "--conf-file", str(conf)])


@pytest.mark.parametrize("flag", ["--conf-file", "--conf", "--conf-f", "-conf"])
def test_abbreviated_conf_flags_keep_the_users_file(flag, tmp_path):
    conf = tmp_path / "my.yml"
    conf.write_text(yaml.safe_dump({"Pendulum-v1": {"n_timesteps": 10, "inverse_temprature": 5.0}}))
    argv = ["--algo", "nclql", "--env", "Pendulum-v1", flag, str(conf)]
    with pytest.raises(ValueError, match=r"my\.yml.*inverse_temprature"):  # the user's file is the one read
        prepare_train_argv(argv)
    conf.write_text(yaml.safe_dump({"Pendulum-v1": {"n_timesteps": 10}}))
    assert prepare_train_argv(argv) == argv  # not replaced by the shipped YAML


@pytest.mark.parametrize(
    "override, message",
    [
        ("inverse_temprature:5", "--hyperparams: unknown hyperparameter 'inverse_temprature'.*inverse_temperature"),
        ("inverse_temperature:-5", "--hyperparams: `inverse_temperature` must be a finite number > 0"),
        ("gamma:1.5", "--hyperparams: `gamma`"),
        ("normalize_grad:1", "--hyperparams: hyperparameter 'normalize_grad' must be a boolean"),
    ],
)
def test_hyperparams_overrides_get_the_yaml_checks(override, message, tmp_path):
    for trained_agent in ([], ["-i", str(tmp_path / "model.zip")]):  # also when continuing a saved model
        with pytest.raises(ValueError, match=message):
            prepare_train_argv(["--algo", "nclql", "--env", "Pendulum-v1", *trained_agent, "--hyperparams", override])


def test_user_yaml_accepts_schedules_and_zoo_keys(tmp_path):
    conf = tmp_path / "my.yml"
    entry = {"n_timesteps": 10, "learning_rate": "lin_1e-3", "normalize": True, "policy": "MlpPolicy", "n_envs": 2}
    conf.write_text(yaml.safe_dump({"default": entry}))
    check_hyperparameters("lql", conf, "Pendulum-v1")  # no error


@pytest.mark.parametrize("algo", list(ALGORITHMS))
def test_train_then_enjoy_in_subprocesses(algo, tmp_path):
    train = run_module(
        "sb3_lql.train", "--algo", algo, "--env", "Pendulum-v1", "-n", "500", "-f", str(tmp_path), "--seed", "3",
        "--hyperparams", "learning_starts:400", "--eval-freq", "250", "--eval-episodes", "1", cwd=tmp_path,
    )  # fmt: skip
    assert train.returncode == 0, train.stderr[-3000:]
    model_path = tmp_path / algo / "Pendulum-v1_1" / "Pendulum-v1.zip"
    model = ALGORITHMS[algo].load(model_path)
    assert model.num_timesteps == 500 and model._n_updates == 100
    assert (tmp_path / algo / "Pendulum-v1_1" / "evaluations.npz").exists()
    enjoy = run_module(
        "sb3_lql.enjoy", "--algo", algo, "--env", "Pendulum-v1", "-f", str(tmp_path), "--exp-id", "1", "-n", "200",
        "--no-render", cwd=tmp_path,
    )  # fmt: skip
    assert enjoy.returncode == 0, enjoy.stderr[-3000:]
    assert "Mean reward" in enjoy.stdout


def _server_binary(name: str) -> str | None:
    found = shutil.which(name) or sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found if isinstance(found, str) else (found[-1] if found else None)


@pytest.fixture
def postgresql_storage() -> Iterator[str]:
    """
    A real PostgreSQL server, started for the test in a fresh data folder on a free localhost port and stopped
    after it (Debian's package: ``apt-get install postgresql``; the driver: ``pip install "psycopg[binary]"``).
    """
    initdb, pg_ctl = _server_binary("initdb"), _server_binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("PostgreSQL's server is not installed (initdb/pg_ctl not found): apt-get install postgresql")
    pytest.importorskip("psycopg", reason='PostgreSQL\'s Python driver is missing: pip install "psycopg[binary]"')
    # The server refuses to run as root: as root, it runs as the 'postgres' user, in a folder that user owns.
    as_user: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="sb3lql-pg-", dir="/tmp"))
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the PostgreSQL server as")
        os.chown(folder, account.pw_uid, account.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"
    with socket.socket() as probe:  # a free port on the loopback interface
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    subprocess.run(
        [*as_user, initdb, "-D", str(data), "-U", "postgres", "--auth=trust"], check=True, capture_output=True
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"
    subprocess.run(
        [*as_user, pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("algo", list(ALGORITHMS))
def test_two_processes_share_one_optuna_study(algo, tmp_path):
    _two_workers_on_one_study(algo, f"sqlite:///{tmp_path / 'study.db'}", tmp_path)


def test_two_workers_share_one_study_on_a_real_postgresql_server(postgresql_storage, tmp_path):
    """The README's multi-machine set-up, on one machine: a PostgreSQL storage that both workers write to."""
    _two_workers_on_one_study("nclql", postgresql_storage, tmp_path)


def _two_workers_on_one_study(algo: str, storage: str, tmp_path: Path) -> None:
    # learning_starts above the budget: each trial builds the sampled model and evaluates it, cheaply.
    args = [
        "--algo", algo, "--env", "Pendulum-v1", "-n", "100", "-optimize", "--n-trials", "1", "--n-jobs", "1",
        "--sampler", "random", "--pruner", "none", "--n-evaluations", "1", "--eval-episodes", "1",
        "--storage", storage, "--study-name", "shared", "--no-optim-plots", "-f", str(tmp_path / "logs"),
        "--hyperparams", "learning_starts:1000",
    ]  # fmt: skip
    # Create the study (and the storage's tables) once, before the workers start, as on a cluster:
    # two processes creating the tables of a fresh storage at the same moment race.
    optuna.create_study(study_name="shared", storage=storage, direction="maximize")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    processes = [
        subprocess.Popen([sys.executable, "-m", "sb3_lql.train", *args, "--seed", str(seed)], cwd=tmp_path, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for seed in (1, 2)
    ]  # fmt: skip
    for process in processes:
        _, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, stderr[-3000:]
    study = optuna.load_study(study_name="shared", storage=storage)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == 2
    assert all("inverse_temperature" in t.params and "step_size" in t.params for t in complete)
