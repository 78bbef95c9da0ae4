"""RL Zoo integration: LQL and NC-LQL in rl_zoo3's algorithm table, YAML files and optuna samplers.

``python -m sb3_lql.train`` and ``python -m sb3_lql.enjoy`` call :func:`register`, read the command line with
rl_zoo3's own parser (so its abbreviations, ``--conf`` for ``--conf-file``, mean what they mean to rl_zoo3),
default the ``--conf-file`` of our algorithms to the YAML shipped in ``sb3_lql/hyperparams/``, check the YAML
entry and the ``--hyperparams`` overrides with the algorithms' own checks, then hand the command line to
rl_zoo3 unchanged, so that every rl_zoo3 flag works.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import inspect
import numbers
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import yaml

from sb3_lql import LQL, NCLQL
from sb3_lql.common.base_algorithm import ARGUMENT_CHECKS, LangevinQLearning

ALGORITHMS: dict[str, type[LangevinQLearning]] = {"lql": LQL, "nclql": NCLQL}
HYPERPARAMS_DIR = Path(__file__).parent / "hyperparams"

#: Keys of an rl_zoo3 YAML entry that rl_zoo3 consumes itself rather than passing to the algorithm.
ZOO_KEYS = {
    "n_timesteps",
    "policy",
    "n_envs",
    "normalize",
    "env_wrapper",
    "vec_env_wrapper",
    "frame_stack",
    "callback",
    "env_kwargs",
    "monitor_kwargs",
    "noise_type",
    "noise_std",
}
#: Critic sizes the optuna samplers choose from.
NET_ARCHS = {"small": [64, 64], "medium": [256, 256], "large": [256, 256, 256]}


def default_conf_file(algo: str) -> Path:
    """
    :param algo: ``"lql"`` or ``"nclql"``
    :return: the YAML file shipped with the package for that algorithm
    """
    return HYPERPARAMS_DIR / f"{algo}.yml"


def load_hyperparameters(algo: str, env_id: str) -> dict[str, Any]:
    """
    The shipped YAML entry of ``env_id`` as keyword arguments of the algorithm (rl_zoo3's own keys dropped,
    ``policy_kwargs`` evaluated), for scripts that build models without rl_zoo3.

    :param algo: ``"lql"`` or ``"nclql"``
    :param env_id: the environment id
    :return: keyword arguments for ``ALGORITHMS[algo](policy, env, **kwargs)``
    """
    from torch import nn  # noqa: F401  (policy_kwargs strings name nn.Mish, ...)

    entry = dict(yaml.safe_load(default_conf_file(algo).read_text())[env_id])
    if isinstance(entry.get("policy_kwargs"), str):
        entry["policy_kwargs"] = eval(entry["policy_kwargs"])  # as rl_zoo3 does: the shipped file is ours
    return {key: value for key, value in entry.items() if key not in ZOO_KEYS}


def load_budget(algo: str, env_id: str) -> int:
    """
    :param algo: ``"lql"`` or ``"nclql"``
    :param env_id: the environment id
    :return: the ``n_timesteps`` of the shipped YAML entry of ``env_id``
    """
    return int(yaml.safe_load(default_conf_file(algo).read_text())[env_id]["n_timesteps"])


def _sample_common(trial: Any) -> dict[str, Any]:
    return {
        "learning_rate": trial.suggest_float("learning_rate", 1e-5, 3e-3, log=True),
        "batch_size_pow": trial.suggest_int("batch_size_pow", 6, 9),
        "net_arch": trial.suggest_categorical("net_arch", list(NET_ARCHS)),
        "inverse_temperature": trial.suggest_float("inverse_temperature", 1.0, 1000.0, log=True),
        "step_size": trial.suggest_float("step_size", 1e-5, 1e-2, log=True),
        "reward_scale": trial.suggest_float("reward_scale", 0.05, 5.0, log=True),
    }


def convert_params(params: dict[str, Any]) -> dict[str, Any]:
    """
    Turn an optuna trial's parameters into keyword arguments of the algorithm (rl_zoo3's converter).

    :param params: the trial's parameters (``batch_size_pow``, ``net_arch`` as a size name, ...)
    :return: algorithm keyword arguments
    """
    hyperparams = dict(params)
    if "batch_size_pow" in hyperparams:
        hyperparams["batch_size"] = 2 ** hyperparams.pop("batch_size_pow")
    if "net_arch" in hyperparams:
        hyperparams["policy_kwargs"] = dict(net_arch=NET_ARCHS[hyperparams.pop("net_arch")])
    return hyperparams


def sample_lql_params(trial: Any, n_actions: int, n_envs: int, additional_args: dict) -> dict[str, Any]:
    """
    Optuna search space of LQL: learning rate, batch size, critic size, w (log-uniform), ε, reward
    scale and the number of Langevin steps.

    :param trial: the optuna trial
    :param n_actions: action dimension (unused)
    :param n_envs: number of envs (unused)
    :param additional_args: rl_zoo3's extra arguments (unused)
    :return: algorithm keyword arguments
    """
    params = _sample_common(trial)
    params["langevin_steps"] = trial.suggest_int("langevin_steps", 5, 40)
    return convert_params(params)


def sample_nclql_params(trial: Any, n_actions: int, n_envs: int, additional_args: dict) -> dict[str, Any]:
    """
    Optuna search space of NC-LQL: as LQL's, with the noise ladder (L, σ_max, σ_min) and the steps per
    level instead of the number of steps.

    :param trial: the optuna trial
    :param n_actions: action dimension (unused)
    :param n_envs: number of envs (unused)
    :param additional_args: rl_zoo3's extra arguments (unused)
    :return: algorithm keyword arguments
    """
    params = _sample_common(trial)
    params["n_noise_levels"] = trial.suggest_int("n_noise_levels", 2, 16)
    params["sigma_max"] = trial.suggest_float("sigma_max", 0.02, 1.0, log=True)
    params["sigma_min"] = trial.suggest_float("sigma_min", 1e-4, 1e-2, log=True)  # always below sigma_max
    params["langevin_steps_per_level"] = trial.suggest_int("langevin_steps_per_level", 1, 4)
    return convert_params(params)


def register() -> None:
    """Add ``lql`` and ``nclql`` to rl_zoo3's algorithm table, optuna samplers and converters (idempotent)."""
    from rl_zoo3 import hyperparams_opt, utils

    utils.ALGOS.update(ALGORITHMS)
    hyperparams_opt.HYPERPARAMS_SAMPLER.update(lql=sample_lql_params, nclql=sample_nclql_params)
    hyperparams_opt.HYPERPARAMS_CONVERTER.update(lql=convert_params, nclql=convert_params)  # type: ignore[arg-type]


def algorithm_parameters(algo: type[LangevinQLearning]) -> dict[str, inspect.Parameter]:
    """
    :param algo: LQL or NCLQL
    :return: every keyword argument the algorithm accepts (its own and the shared base's)
    """
    params: dict[str, inspect.Parameter] = {}
    for cls in (LangevinQLearning, algo):
        params.update(inspect.signature(cls.__init__).parameters)
    for name in ("self", "policy", "env", "kwargs", "unsupported", "_init_setup_model", "_sampler_settings"):
        params.pop(name, None)
    return params


def check_entry(algo: str, entry: dict[str, Any], where: str) -> None:
    """
    Check hyperparameters meant for ``algo`` before anything is built: every key must be an rl_zoo3 key or an
    argument of the algorithm, numbers and booleans must have the type of the argument's default, and values go
    through the algorithm's own checks (SB3's arguments and the sampler's settings, together).

    :param algo: ``"lql"`` or ``"nclql"``
    :param entry: the hyperparameters (a YAML entry, or ``--hyperparams`` overrides)
    :param where: where they come from, for the error message
    :raises ValueError: naming the origin and the bad key
    """
    algorithm = ALGORITHMS[algo]
    params = algorithm_parameters(algorithm)
    sampler_settings = {}
    for key, value in entry.items():
        if key in ZOO_KEYS:
            continue
        if key not in params:
            close = difflib.get_close_matches(key, list(params) + sorted(ZOO_KEYS), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"{where}: unknown hyperparameter {key!r} for {algo}.{hint}")
        if key == "learning_rate" and isinstance(value, str) and value.startswith("lin_"):
            continue  # rl_zoo3's linear schedule, e.g. lin_1e-3
        default = params[key].default
        expected: type | None = bool if isinstance(default, bool) else numbers.Real
        if not isinstance(default, numbers.Real):
            expected = None
        if expected is not None and (
            not isinstance(value, expected) or (expected is not bool and isinstance(value, bool))
        ):
            kind = "a boolean" if expected is bool else "a number"
            raise ValueError(f"{where}: hyperparameter {key!r} must be {kind}, got {value!r}")
        try:
            if key in ARGUMENT_CHECKS:
                ARGUMENT_CHECKS[key](key, value)
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None
        if key in algorithm.sampler_class.setting_names():
            sampler_settings[key] = value
    if sampler_settings:  # with the defaults of the others: the constraints between settings are checked too
        defaults = {name: params[name].default for name in algorithm.sampler_class.setting_names()}
        try:
            algorithm.sampler_class(**{**defaults, **sampler_settings})
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None


def check_hyperparameters(algo: str, conf_file: str | Path, env_id: str) -> None:
    """
    Check the YAML entry that rl_zoo3 will use for ``env_id`` (:func:`check_entry`).

    :param algo: ``"lql"`` or ``"nclql"``
    :param conf_file: the YAML file
    :param env_id: the environment id (its entry, else ``default``)
    :raises ValueError: naming the file, the entry and the bad key
    """
    with open(conf_file) as file:
        entries = yaml.safe_load(file) or {}
    entry_name = env_id if env_id in entries else "default"
    if entry_name not in entries:
        return  # rl_zoo3 reports a missing entry itself
    check_entry(algo, entries[entry_name] or {}, f"{conf_file}, entry {entry_name!r}")


class _ParserCaptured(Exception):
    pass


def zoo_train_parser() -> argparse.ArgumentParser:
    """
    :return: rl_zoo3's own ``train`` argument parser, caught as its ``train()`` builds it (nothing else runs)
    """
    register()
    from rl_zoo3 import train as zoo_train_module

    parsers: list[argparse.ArgumentParser] = []

    def capture(parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        parsers.append(parser)
        raise _ParserCaptured

    with mock.patch.object(argparse.ArgumentParser, "parse_args", capture), contextlib.suppress(_ParserCaptured):
        zoo_train_module.train()
    return parsers[0]


def prepare_train_argv(argv: list[str]) -> list[str]:
    """
    Default ``--conf-file`` to our YAML for our algorithms and check the entry and the ``--hyperparams``
    overrides; other algorithms pass through.

    :param argv: rl_zoo3 train arguments (without the program name)
    :return: the arguments to hand to rl_zoo3
    """
    args = zoo_train_parser().parse_args(argv)  # rl_zoo3's own errors and abbreviations
    if args.algo not in ALGORITHMS:
        return argv
    conf_file = args.conf_file
    if conf_file is None:
        conf_file = str(default_conf_file(args.algo))
        argv = [*argv, "--conf-file", conf_file]
    if conf_file.endswith((".yml", ".yaml")):
        check_hyperparameters(args.algo, conf_file, args.env)
    if args.hyperparams:
        check_entry(args.algo, args.hyperparams, "--hyperparams")
    return argv


def train(argv: list[str] | None = None) -> None:
    """
    ``rl_zoo3 train`` with LQL and NC-LQL registered (console script ``sb3-lql-train``).

    :param argv: command-line arguments; ``sys.argv[1:]`` by default
    """
    register()
    from rl_zoo3.train import train as zoo_train

    args = prepare_train_argv(list(sys.argv[1:] if argv is None else argv))
    sys.argv = [sys.argv[0], *args]
    zoo_train()


def enjoy(argv: list[str] | None = None) -> None:
    """
    ``rl_zoo3 enjoy`` with LQL and NC-LQL registered (console script ``sb3-lql-enjoy``).

    :param argv: command-line arguments; ``sys.argv[1:]`` by default
    """
    register()
    from rl_zoo3.enjoy import enjoy as zoo_enjoy

    sys.argv = [sys.argv[0], *(sys.argv[1:] if argv is None else argv)]
    zoo_enjoy()
