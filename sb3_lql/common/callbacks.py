"""Callbacks for training runs: evaluating the soft policy next to the greedy one."""

from __future__ import annotations

import os
from typing import Any

from stable_baselines3.common.callbacks import EvalCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.logger import Logger

from sb3_lql.common.utils import positive_int


class _RenamedEvalKeys:
    """Forwards to a logger, recording ``eval/...`` keys as ``eval_stochastic/...``."""

    def __init__(self, logger: Logger) -> None:
        self._logger = logger

    def record(self, key: str, value: Any, exclude: Any = None) -> None:
        self._logger.record(key.replace("eval/", "eval_stochastic/", 1), value, exclude)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._logger, name)


class StochasticEvalCallback(EvalCallback):
    """
    Periodic evaluation with ``deterministic=False``, i.e. of the soft policy the agent samples from.

    rl_zoo3 evaluates the greedy policy (``deterministic=True``) into ``evaluations.npz``; this callback
    records the stochastic one beside it, in the same format, as ``evaluations_stochastic.npz``. It builds
    its own evaluation env from an env id, so it can be named in an rl_zoo3 ``callback`` hyperparameter::

        --hyperparams "callback:[{'sb3_lql.common.callbacks.StochasticEvalCallback': dict(
            env_id='Pendulum-v1', log_path='logs/run', eval_freq=1000)}]"

    :param env_id: gymnasium id of the evaluation env
    :param log_path: folder for ``evaluations_stochastic.npz`` (created if missing)
    :param eval_freq: evaluate every ``eval_freq`` environment steps, counted over all training envs
        (rl_zoo3 counts its own ``--eval-freq`` the same way)
    :param n_eval_episodes: episodes per evaluation
    :param seed: seed of the evaluation env
    :param verbose: 1 prints each evaluation
    """

    @property
    def logger(self) -> Logger:  # type: ignore[override]
        # under its own keys, so the greedy evaluation's ``eval/mean_reward`` is not overwritten
        return _RenamedEvalKeys(self.model.logger)  # type: ignore[return-value]

    def __init__(
        self,
        env_id: str,
        log_path: str,
        eval_freq: int = 10_000,
        n_eval_episodes: int = 5,
        seed: int | None = None,
        verbose: int = 0,
    ) -> None:
        positive_int("eval_freq", eval_freq)
        positive_int("n_eval_episodes", n_eval_episodes)
        os.makedirs(log_path, exist_ok=True)
        super().__init__(
            make_vec_env(env_id, n_envs=1, seed=seed),
            n_eval_episodes=n_eval_episodes,
            eval_freq=eval_freq,
            log_path=None,
            deterministic=False,
            verbose=verbose,
        )
        # set after super().__init__, which would append "evaluations" to a folder path
        self.log_path = os.path.join(log_path, "evaluations_stochastic")
        self._env_steps_between_evals = eval_freq

    def _init_callback(self) -> None:
        # EvalCallback counts calls, one per vector step: convert env steps into vector steps
        self.eval_freq = max(self._env_steps_between_evals // self.training_env.num_envs, 1)
        super()._init_callback()
