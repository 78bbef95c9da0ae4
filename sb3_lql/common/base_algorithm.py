"""What LQL and NC-LQL share as SB3 off-policy algorithms: everything but the update itself."""

from __future__ import annotations

import io
import math
import pathlib
import warnings
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Literal, TypeVar

import numpy as np
import torch as th
from stable_baselines3.common.base_class import maybe_make_env
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.noise import ActionNoise
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import (
    DictReplayBufferSamples,
    GymEnv,
    MaybeCallback,
    ReplayBufferSamples,
    Schedule,
    TrainFreq,
)
from stable_baselines3.common.utils import get_parameters_by_name, polyak_update

from sb3_lql.common.critic import LangevinCritic
from sb3_lql.common.langevin import AUTO_COMPILE_MIN_STEPS, LangevinSampler, SamplerStats, Temperature
from sb3_lql.common.policies import LangevinPolicy
from sb3_lql.common.utils import (
    bounded_float,
    check_action_space,
    positive_float,
    positive_int,
    rate_or_schedule,
)

SelfLangevinQLearning = TypeVar("SelfLangevinQLearning", bound="LangevinQLearning")
ReplaySamples = ReplayBufferSamples | DictReplayBufferSamples


def sampler_setting(name: str) -> property:
    """
    The algorithm's view of one sampler setting: ``model.inverse_temperature = 7`` sets (and checks) the
    sampler's own value, which the next action uses. The value lives in the sampler only.

    :param name: the setting's name
    :return: the property
    """

    def get(self: LangevinQLearning) -> Any:
        return getattr(self.sampler, name)

    def set(self: LangevinQLearning, value: Any) -> None:
        setattr(self.sampler, name, value)

    return property(get, set, doc=f"The sampler's ``{name}``; setting it changes the next action.")


def _gradient_steps(name: str, value: Any) -> int:
    if value == -1 and not isinstance(value, bool):
        return -1
    return positive_int(f"{name} (or -1: as many as env steps)", value)


def _train_freq(name: str, value: Any) -> Any:
    if isinstance(value, TrainFreq):  # SB3's own form, once set up
        positive_int(name, value.frequency)
        return value
    if isinstance(value, tuple | list):
        if len(value) != 2 or value[1] not in ("step", "episode"):
            raise ValueError(f"`{name}` must be an int or (int, 'step' | 'episode'), got {value!r}")
        positive_int(name, value[0])
        return tuple(value)
    return positive_int(name, value)


#: The one check of each of SB3's arguments that SB3 itself leaves to fail later (deep in numpy or torch, or not at
#: all), and of ours: run at construction, on load, and on RL-Zoo entries and ``--hyperparams``. The sampler's
#: settings are checked by the sampler.
ARGUMENT_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "learning_rate": rate_or_schedule,
    "buffer_size": positive_int,
    "learning_starts": lambda name, value: positive_int(name, value, minimum=0),
    "batch_size": positive_int,
    "tau": lambda name, value: bounded_float(name, value, 0.0, 1.0),
    "gamma": lambda name, value: bounded_float(name, value, 0.0, 1.0),
    "gradient_steps": _gradient_steps,
    "n_steps": positive_int,
    "train_freq": _train_freq,
    "reward_scale": positive_float,
    "target_update_interval": positive_int,
}


#: Arguments users carry over from SAC and TD3 that mean nothing without an actor, and what plays their role here.
ACTOR_ARGUMENTS = {
    **dict.fromkeys(
        ("use_sde", "sde_sample_freq", "use_sde_at_warmup"),
        "it sets the state-dependent exploration of SAC's actor; exploration here is the Langevin noise of the soft "
        "policy pi ∝ exp(w·Q), set by `inverse_temperature` (and `step_size`)",
    ),
    **dict.fromkeys(
        ("ent_coef", "target_entropy"),
        "it sets SAC's entropy bonus; there is no entropy term here: the soft policy pi ∝ exp(w·Q) takes its "
        "temperature 1/w from `inverse_temperature`",
    ),
    **dict.fromkeys(
        ("policy_delay", "target_policy_noise", "target_noise_clip"),
        "it shapes TD3's actor and target policy; here the next action of the TD target is drawn by the Langevin "
        "sampler (`inverse_temperature`, `step_size`)",
    ),
}


def _refuse_actor_arguments(algorithm: str, arguments: dict[str, Any]) -> None:
    """
    :param algorithm: the algorithm's name
    :param arguments: keyword arguments that no parameter took
    :raises ValueError: for an actor argument of SAC or TD3, saying what plays its role
    :raises TypeError: for any other, as Python does
    """
    for name in arguments:
        if name in ACTOR_ARGUMENTS:
            raise ValueError(f"`{name}` is not an argument of {algorithm}, which has no actor: {ACTOR_ARGUMENTS[name]}")
    if arguments:
        raise TypeError(f"{algorithm}.__init__() got unexpected keyword argument(s) {sorted(arguments)}")


class _TrainLog:
    """Sums of the logged training statistics, kept on the device: read (one sync) only when the logger dumps."""

    def __init__(self) -> None:
        self.sums: dict[str, th.Tensor] = {}
        self.counts: dict[str, int] = {}

    def add(self, name: str, value: th.Tensor) -> None:
        value = value.detach().float()
        self.sums[name] = self.sums[name] + value if name in self.sums else value
        self.counts[name] = self.counts.get(name, 0) + 1

    def flush(self) -> dict[str, float]:
        """:return: the mean of each statistic since the last flush"""
        if not self.sums:
            return {}
        values = th.stack(list(self.sums.values())).tolist()
        means = {name: value / self.counts[name] for name, value in zip(self.sums, values, strict=True)}
        self.sums, self.counts = {}, {}
        return means


class _SkippedUpdates:
    """Critic updates skipped for a non-finite loss, counted per loss on the device; read at checks only."""

    def __init__(self) -> None:
        self.counts: dict[str, th.Tensor] = {}
        self.steps: dict[str, int] = {}
        self.checked: dict[str, tuple[int, int]] = {}  # (skipped, steps) at the last check

    def add(self, name: str, nonfinite: th.Tensor) -> None:
        if name not in self.counts:
            self.counts[name], self.steps[name], self.checked[name] = th.zeros_like(nonfinite, dtype=th.long), 0, (0, 0)
        self.counts[name] += nonfinite
        self.steps[name] += 1

    def steps_since_check(self) -> int:
        return sum(self.steps[name] - self.checked[name][1] for name in self.steps)

    def check(self) -> tuple[int, dict[str, tuple[int, int]]]:
        """:return: the skipped updates so far, and per loss (skipped, updates) since the last check (one sync)"""
        totals = th.stack(list(self.counts.values())).tolist() if self.counts else []
        since = {}
        for (name, steps), skipped in zip(self.steps.items(), totals, strict=True):
            old_skipped, old_steps = self.checked[name]
            since[name] = (skipped - old_skipped, steps - old_steps)
            self.checked[name] = (skipped, steps)
        return sum(totals), since


class LangevinQLearning(OffPolicyAlgorithm):
    """
    Base of LQL and NC-LQL: an SB3 off-policy algorithm whose policy is Langevin sampling over a twin
    critic. Subclasses define their sampler class (the chain's schedule), their policy base and ``train()``.

    :param policy: the policy model to use (``"MlpPolicy"``, ``"MultiInputPolicy"`` or a class)
    :param env: the environment to learn from (if registered in Gym, can be str)
    :param learning_rate: learning rate of the critic's Adam, constant or a schedule of progress remaining
    :param buffer_size: size of the replay buffer
    :param learning_starts: how many steps of the model to collect transitions for before learning starts
    :param batch_size: minibatch size for each gradient update
    :param tau: the soft update coefficient ("Polyak update", between 0 and 1)
    :param gamma: the discount factor
    :param train_freq: update the model every ``train_freq`` steps, or a tuple ``(5, "step")``
    :param gradient_steps: how many gradient steps after each rollout; -1 does as many as env steps
    :param action_noise: optional extra exploration noise (the policy is already stochastic)
    :param replay_buffer_class: replay buffer class (e.g. ``HerReplayBuffer``); ``None`` picks one
    :param replay_buffer_kwargs: keyword arguments of the replay buffer
    :param optimize_memory_usage: memory-efficient replay buffer variant
    :param n_steps: n-step returns (SB3's ``NStepReplayBuffer``)
    :param target_update_interval: update the target critic every ``target_update_interval`` gradient steps
    :param inverse_temperature: w, the soft policy is pi(a|s) ∝ exp(w·Q(s, a)); a number, or a schedule of the
        progress remaining (1 → 0) like ``learning_rate``
    :param step_size: the Langevin step size ε (at the clean level for NC-LQL)
    :param normalize_grad: rescale each action gradient to unit L2 norm in the sampler
    :param n_particles: Langevin chains per decision; best-of-N by min-Q at the clean level when > 1
    :param reward_scale: rewards are multiplied by this in the TD target
    :param metropolis: Metropolis-adjust each Langevin step (MALA), see
        :func:`~sb3_lql.common.langevin.mala_step`; the acceptance rate is logged
    :param compile_sampler: ``torch.compile`` the Langevin chain: ``True``, ``False``, or ``"auto"``: only inside
        ``learn()`` calls long enough for the one-off compilation per batch size to pay for itself
        (:data:`~sb3_lql.common.langevin.AUTO_COMPILE_MIN_STEPS` environment steps)
    :param stats_window_size: window size for the rollout logging
    :param tensorboard_log: the log location for tensorboard (if None, no logging)
    :param policy_kwargs: additional arguments of the policy (``net_arch``, ``activation_fn``, ...)
    :param verbose: 0 no output, 1 info, 2 debug
    :param seed: seed for the pseudo random generators
    :param device: device (cpu, cuda, ...); ``"auto"`` picks the GPU if there is one
    :param _init_setup_model: whether or not to build the network at the creation of the instance
    :param _sampler_settings: the settings of the subclass's own sampler (its schedule), given by the subclass
    :param unsupported: arguments of SAC or TD3 that have no meaning without an actor: refused with the reason
    """

    policy: LangevinPolicy
    critic: LangevinCritic
    critic_target: LangevinCritic
    sampler: LangevinSampler
    #: The sampler class of the algorithm (its schedule).
    sampler_class: ClassVar[type[LangevinSampler]]
    #: Every policy of the algorithm derives from this class.
    policy_base: ClassVar[type[LangevinPolicy]]
    #: Critic updates with a non-finite loss are skipped; when nearly all updates between two checks (every
    #: ``nonfinite_check_interval`` updates and at every log dump) are, the critic has stopped learning and the
    #: run stops. One bad transition in a large buffer spoils a share of about batch_size / buffer size.
    max_nonfinite_share: ClassVar[float] = 0.9
    nonfinite_check_interval: ClassVar[int] = 1000

    inverse_temperature = sampler_setting("inverse_temperature")
    step_size = sampler_setting("step_size")
    normalize_grad = sampler_setting("normalize_grad")
    n_particles = sampler_setting("n_particles")
    metropolis = sampler_setting("metropolis")
    compile_sampler = sampler_setting("compile_sampler")

    def __init__(
        self,
        policy: str | type[BasePolicy],
        env: GymEnv | str | None,
        learning_rate: float | Schedule = 1e-4,
        buffer_size: int = 1_000_000,
        learning_starts: int = 100,
        batch_size: int = 256,
        tau: float = 0.005,
        gamma: float = 0.99,
        train_freq: int | tuple[int, str] = 1,
        gradient_steps: int = 1,
        action_noise: ActionNoise | None = None,
        replay_buffer_class: type[ReplayBuffer] | None = None,
        replay_buffer_kwargs: dict[str, Any] | None = None,
        optimize_memory_usage: bool = False,
        n_steps: int = 1,
        target_update_interval: int = 1,
        inverse_temperature: Temperature = 500.0,
        step_size: float = 1e-4,
        normalize_grad: bool = True,
        n_particles: int = 1,
        metropolis: bool = False,
        compile_sampler: bool | Literal["auto"] = "auto",
        reward_scale: float = 0.2,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
        _sampler_settings: dict[str, Any] | None = None,
        **unsupported: Any,
    ):
        _refuse_actor_arguments(type(self).__name__, unsupported)
        # Checked before anything is built: a bad value never reaches training. The sampler checks its own.
        self.sampler = self.sampler_class(
            inverse_temperature=inverse_temperature,
            step_size=step_size,
            normalize_grad=normalize_grad,
            n_particles=n_particles,
            metropolis=metropolis,
            compile_sampler=compile_sampler,
            **(_sampler_settings or {}),
        )
        clash = set(policy_kwargs or {}) & ({*self.sampler.setting_names(), "sampler"} - {"compile_sampler"})
        if clash:
            raise ValueError(
                f"{sorted(clash)} are arguments of {type(self).__name__} itself, not of policy_kwargs: "
                f"pass them as {type(self).__name__}(..., {sorted(clash)[0]}=...)"
            )
        policy_kwargs = dict(policy_kwargs or {})  # ours from here on: the caller's dict is never written to
        self.reward_scale = reward_scale
        self.target_update_interval = target_update_interval
        self._train_log = _TrainLog()
        # SB3 would only assert on the action space: check it first, with a message that says what is allowed.
        env = maybe_make_env(env, verbose)  # type: ignore[arg-type]
        if env is not None:
            check_action_space(env.action_space)
        super().__init__(
            policy,
            env,  # type: ignore[arg-type]
            learning_rate,
            buffer_size,
            learning_starts,
            batch_size,
            tau,
            gamma,
            train_freq,
            gradient_steps,
            action_noise,
            replay_buffer_class=replay_buffer_class,
            replay_buffer_kwargs=replay_buffer_kwargs,
            optimize_memory_usage=optimize_memory_usage,
            n_steps=n_steps,
            policy_kwargs=policy_kwargs,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            verbose=verbose,
            device=device,
            seed=seed,
            supported_action_spaces=None,  # checked above, with a clearer message
            support_multi_env=True,
            sde_support=False,
        )
        if _init_setup_model:
            self._setup_model()

    def _check_arguments(self) -> None:
        """
        Check SB3's arguments and ours where SB3 would fail later, deep in numpy or torch, or not at all: at
        construction and on load alike (``load(path, gamma=...)`` and ``custom_objects`` included).

        :raises ValueError: naming the argument and what is allowed
        """
        if not (isinstance(self.policy_class, type) and issubclass(self.policy_class, self.policy_base)):
            name = getattr(self.policy_class, "__name__", repr(self.policy_class))
            raise ValueError(
                f"{type(self).__name__} needs a policy derived from {self.policy_base.__name__}, got {name}: "
                "a model saved by another algorithm loads with that algorithm's load()"
            )
        for name, check in ARGUMENT_CHECKS.items():
            setattr(self, name, check(name, getattr(self, name)))

    def _policy_arguments(self) -> dict[str, Any]:
        """
        The policy's constructor arguments: the user's ``policy_kwargs`` (left as given, as SB3 saves them) with the
        sampler, less the keys SB3's SAC writes into a ``policy_kwargs`` dict it is given, where they mean nothing
        here (no actor); a SAC key that would mean something is refused.
        """
        arguments = {**self.policy_kwargs, "sampler": self.sampler}
        if arguments.pop("use_sde", False):
            raise ValueError(
                "policy_kwargs['use_sde']=True: these algorithms have no actor, so there is no state-dependent "
                "exploration; the soft policy's spread is set by `inverse_temperature`"
            )
        arguments.pop("share_features_extractor", None)  # SAC's actor/critic sharing: there is no actor
        return arguments

    def _setup_model(self) -> None:
        self._check_arguments()
        # `load()` and `load(..., name=value)` put saved or given settings in __dict__, under the properties'
        # names: they go to the sampler, through its checks, before the policy is built around it.
        pending = {name: self.__dict__.pop(name) for name in self.sampler.setting_names() if name in self.__dict__}
        self.sampler.update(**pending)
        # The policy gets the sampler without it being mixed into `policy_kwargs` (saved as the user gave them).
        user_policy_kwargs = self.policy_kwargs
        self.policy_kwargs = self._policy_arguments()
        try:
            super()._setup_model()
        finally:
            self.policy_kwargs = user_policy_kwargs
        self.sampler.progress_remaining = self._current_progress_remaining
        self._skipped_updates, self._warned_nonfinite = _SkippedUpdates(), False
        self.critic = self.policy.critic
        self.critic_target = self.policy.critic_target
        self.batch_norm_stats = get_parameters_by_name(self.critic, ["running_"])
        self.batch_norm_stats_target = get_parameters_by_name(self.critic_target, ["running_"])

    def learn(
        self: SelfLangevinQLearning,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 4,
        tb_log_name: str = "",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfLangevinQLearning:
        """
        Train the model, as SB3's ``learn()``.

        :param total_timesteps: number of environment steps to train for
        :param callback: callback(s) called at every step
        :param log_interval: log every ``log_interval`` episodes
        :param tb_log_name: tensorboard run name; the algorithm's name (``LQL``, ``NCLQL``) by default
        :param reset_num_timesteps: whether to reset the timestep counter (``False`` to continue a run)
        :param progress_bar: show a progress bar (needs tqdm and rich)
        :return: the trained model
        """
        warm_up_left = max(0, self.learning_starts - (0 if reset_num_timesteps else self.num_timesteps))
        self.sampler.compiling = (
            self.sampler.compile_sampler == "auto" and total_timesteps - warm_up_left >= AUTO_COMPILE_MIN_STEPS
        )
        try:
            super().learn(
                total_timesteps=total_timesteps,
                callback=callback,
                log_interval=log_interval,
                tb_log_name=tb_log_name or type(self).__name__,
                reset_num_timesteps=reset_num_timesteps,
                progress_bar=progress_bar,
            )
        finally:
            self.sampler.compiling = False
        self._record_train_log()  # what was gathered since the last dump, for logger.name_to_value readers
        return self

    # --- pieces of the update shared by both algorithms -------------------------------------------

    def _start_train(self) -> None:
        """What every ``train()`` does first: training mode, the learning rate and w of the current progress."""
        self.policy.set_training_mode(True)
        rate = self.lr_schedule(self._current_progress_remaining)
        if not (isinstance(rate, float | int) and math.isfinite(rate) and rate >= 0):
            raise ValueError(
                f"`learning_rate` gave {rate!r} at progress remaining {self._current_progress_remaining:.4g}: "
                "a learning rate must be a finite number >= 0 (the critic was not updated with it)"
            )
        self._update_learning_rate([self.critic.optimizer])
        self.sampler.progress_remaining = self._current_progress_remaining

    def _td_target(self, batch: ReplaySamples) -> tuple[th.Tensor, th.Tensor, SamplerStats]:
        """
        y = reward_scale·r + γ·(1 - terminated)·min_i Q_targ_i(s', a'), a' ~ Langevin on the online critic.

        :param batch: replay samples
        :return: the TD target (batch,), the sampled next actions, the sampler's diagnostics
        """
        next_actions, stats = self.policy.sample_actions(batch.next_observations)
        with th.no_grad():
            next_q = self.critic_target(batch.next_observations, next_actions, self.sampler.clean_level)
            next_q = next_q.min(dim=0).values
            # SB3's `dones` already excludes time-limit truncations (handle_timeout_termination).
            # n-step buffers give a discount per sample (on the model's device); otherwise gamma, a float.
            discounts = batch.discounts.flatten() if batch.discounts is not None else self.gamma
            target = self.reward_scale * batch.rewards.flatten() + (1.0 - batch.dones.flatten()) * discounts * next_q
        return target, next_actions, stats

    @staticmethod
    def _regression_loss(q_values: th.Tensor, target: th.Tensor) -> th.Tensor:
        """Sum over critics of the mean squared error towards a shared target (batch,)."""
        return ((q_values - target.unsqueeze(0)) ** 2).mean(dim=1).sum()

    def _optimizer_step(self, loss: th.Tensor, name: str = "td") -> None:
        """
        One step of the critic's optimiser on ``loss``, skipped and counted when the loss is not finite (a NaN or
        inf reward or observation in the batch): a non-finite value never reaches the weights. Fused Adam skips
        the step on the device itself (its ``found_inf`` input, as under AMP): no host sync; other optimisers
        need one sync per step to decide.

        :param loss: the loss
        :param name: which loss it is (the skipped updates are counted per loss)
        """
        optimizer = self.critic.optimizer
        nonfinite = ~th.isfinite(loss)
        optimizer.zero_grad()
        loss.backward()
        self._skipped_updates.add(name, nonfinite)
        if getattr(optimizer, "_step_supports_amp_scaling", False):
            optimizer.found_inf = nonfinite.float()  # type: ignore[attr-defined]
            try:
                optimizer.step()
            finally:
                del optimizer.found_inf  # type: ignore[attr-defined]
        elif not nonfinite:
            optimizer.step()

    def _check_nonfinite_updates(self) -> None:
        """
        Read the counts of skipped updates (one sync): warn the first time, with the likely cause, and stop the
        run when more than :attr:`max_nonfinite_share` of the updates of one loss since the last check were skipped.

        :raises RuntimeError: when the skipped updates persist
        """
        total, since = self._skipped_updates.check()
        self.logger.record("train/nonfinite_updates", total)
        new = sum(skipped for skipped, _ in since.values())
        if new == 0:
            return
        counts = ", ".join(f"{skipped} of the last {steps} {name} updates" for name, (skipped, steps) in since.items())
        message = (
            f"{counts} had a non-finite loss (NaN or inf) and were skipped: the critic's weights are unchanged by "
            f"them. {self._nonfinite_cause()}"
        )
        if any(steps >= 10 and skipped > self.max_nonfinite_share * steps for skipped, steps in since.values()):
            raise RuntimeError(f"{message} Training stops here rather than go on without learning.")
        if not self._warned_nonfinite:
            self._warned_nonfinite = True
            warnings.warn(message + " (This warning is given once; train/nonfinite_updates counts them.)")

    def _nonfinite_cause(self) -> str:
        """The likely cause of a non-finite loss, from what the replay buffer holds."""
        buffer = self.replay_buffer
        if buffer is None:
            return ""
        size = buffer.buffer_size if buffer.full else buffer.pos
        causes = []
        for name in ("rewards", "observations", "next_observations"):
            stored = getattr(buffer, name, None)
            if isinstance(stored, np.ndarray) and stored.size and not np.isfinite(stored[:size]).all():
                count = int((~np.isfinite(stored[:size])).reshape(size, -1).any(axis=1).sum())
                causes.append(f"{count} transition(s) of the replay buffer have non-finite {name}")
        if causes:
            return "Likely cause: " + "; ".join(causes) + "."
        return "The replay buffer holds only finite rewards and observations: check gamma, tau and the learning rate."

    def _update_targets(self, gradient_step: int) -> None:
        if gradient_step % self.target_update_interval == 0:
            polyak_update(self.critic.parameters(), self.critic_target.parameters(), self.tau)
            polyak_update(self.batch_norm_stats, self.batch_norm_stats_target, 1.0)

    def _log(self, name: str, value: th.Tensor) -> None:
        """Add one value of ``train/<name>`` (averaged over the gradient steps between two log dumps)."""
        self._train_log.add(name, value)

    def _log_sampler(self, next_actions: th.Tensor, stats: SamplerStats) -> None:
        self._log("action_grad_norm", stats.grad_norm)
        self._log("action_std", next_actions.std(dim=0).mean())
        if self.metropolis:
            self._log("acceptance_rate", stats.acceptance)

    def _end_train(self, gradient_steps: int) -> None:
        if self._skipped_updates.steps_since_check() >= self.nonfinite_check_interval:
            self._check_nonfinite_updates()  # also between log dumps, so that a broken run stops soon
        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/inverse_temperature", self.sampler.current_inverse_temperature())

    def _record_train_log(self) -> None:
        """Hand the statistics gathered on the device to the logger: the one host sync of the logging."""
        for name, value in self._train_log.flush().items():
            self.logger.record(f"train/{name}", value)
        if self.sampler.nonfinite_count is not None:
            self.logger.record("train/nonfinite_action_grads", int(self.sampler.nonfinite_count.item()))
        self._check_nonfinite_updates()

    def dump_logs(self) -> None:
        """Write the log data (SB3's), with the training statistics gathered since the last dump."""
        self._record_train_log()
        super().dump_logs()

    # --- saving -----------------------------------------------------------------------------------

    def _excluded_save_params(self) -> list[str]:
        return [
            *super()._excluded_save_params(),
            *("critic", "critic_target", "sampler", "_train_log", "_skipped_updates", "_warned_nonfinite"),
        ]

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        return ["policy", "critic.optimizer"], []

    def save(
        self,
        path: str | pathlib.Path | io.BufferedIOBase,
        exclude: Iterable[str] | None = None,
        include: Iterable[str] | None = None,
    ) -> None:
        """
        Save the model as SB3 does. The sampler's settings are written as plain entries of the saved data, so
        that ``load(path, inverse_temperature=...)`` and ``custom_objects`` can replace them.

        :param path: path to the file where the model is saved
        :param exclude: names of attributes not to save, in addition to the default ones
        :param include: names of attributes to save even if excluded by default
        """
        settings = self.sampler.settings()
        self.__dict__.update(settings)  # read by SB3's save from __dict__; the properties still read the sampler
        try:
            super().save(path, exclude=exclude, include=include)
        finally:
            for name in settings:
                del self.__dict__[name]
