"""Actor-free policy: actions are drawn by Langevin dynamics over the twin critic."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch as th
from gymnasium import spaces
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.preprocessing import get_action_dim
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor, CombinedExtractor, FlattenExtractor
from stable_baselines3.common.type_aliases import PyTorchObs, Schedule
from torch import nn

from sb3_lql.common.critic import LangevinCritic
from sb3_lql.common.fast_critic import FastCriticGradient, supports_fast_path
from sb3_lql.common.langevin import (
    LangevinSchedule,
    SamplerStats,
    ValueAndGrad,
    autograd_value_and_grad,
    langevin_sample,
)
from sb3_lql.common.utils import check_positive_int

DEFAULT_NET_ARCH = [256, 256, 256]


def _critic_net_arch(net_arch: list[int] | dict[str, list[int]] | None) -> list[int]:
    """Accept SAC's forms: a list, or a dict whose ``qf`` entry is the critic's (there is no actor)."""
    if net_arch is None:
        return list(DEFAULT_NET_ARCH)
    if isinstance(net_arch, dict):
        if "qf" not in net_arch:
            raise ValueError(f"net_arch as a dict needs a 'qf' entry (these policies have no actor), got {net_arch}")
        return list(net_arch["qf"])
    return list(net_arch)


def _with_fused_adam(optimizer_class: type[th.optim.Optimizer], optimizer_kwargs: dict[str, Any]) -> dict[str, Any]:
    """
    Adam's fused kernel is about 4x faster than its per-tensor loop on CPU (the loop is torch's default there)
    and gives the same update up to float rounding; use it unless the user chose an implementation.

    :param optimizer_class: the critic's optimiser class
    :param optimizer_kwargs: the user's keyword arguments for it
    :return: the keyword arguments to build it with
    """
    chosen = {"fused", "foreach", "differentiable", "capturable"} & optimizer_kwargs.keys()
    if optimizer_class in (th.optim.Adam, th.optim.AdamW) and not chosen:
        return {**optimizer_kwargs, "fused": True}
    return optimizer_kwargs


class LangevinPolicy(BasePolicy):
    """
    Policy base shared by LQL and NC-LQL: a twin critic, its target copy, and a Langevin sampler
    over the critic's mean, pi(a|s) ∝ exp(w·mean_i Q_i(s, a)). There is no actor network.

    ``predict(deterministic=False)`` draws from the soft policy: chains start Uniform(-1, 1).
    ``predict(deterministic=True)`` is the greedy (w → ∞) end of the same sampler: the chains
    start from fixed points (the centre of the box, then unscrambled Sobol points) and run
    without injected noise, i.e. (annealed) gradient ascent on the critic. It draws no random
    number, so the same observation and model always give the same action, whatever else is
    in the batch. With ``n_particles > 1`` both modes keep the particle with the highest
    min_i Q_i at the clean level (best-of-N).

    :param observation_space: observation space
    :param action_space: action space (a Box with finite bounds)
    :param lr_schedule: learning rate schedule
    :param schedule: the stages of the Langevin chain
    :param n_levels: number of critic noise levels (``None``: plain critic)
    :param net_arch: hidden layers of each Q network (a list, or SAC's ``dict(qf=[...])``)
    :param activation_fn: activation function (mish in the reference)
    :param features_extractor_class: features extractor class
    :param features_extractor_kwargs: keyword arguments of the features extractor
    :param normalize_images: whether to divide image observations by 255
    :param optimizer_class: optimiser class
    :param optimizer_kwargs: keyword arguments of the optimiser
    :param n_critics: number of critic networks
    :param level_embedding_dim: size of the noise-level embedding (noise-conditioned critic)
    :param inverse_temperature: w of the soft policy
    :param normalize_grad: rescale each action gradient to unit norm in the sampler
    :param n_particles: chains per observation; best-of-N by min-Q when > 1
    :param metropolis: Metropolis-adjusted Langevin (MALA) for the stochastic chains
    :param compile_sampler: run the Langevin chain through ``torch.compile``, which fuses each step's
        elementwise work (on this project's 2-core CPU: 10.6 → 3.4 ms per action, 115 → 80 ms per
        256-sample chain at the reference defaults) after a one-off compilation of about a minute per
        batch-size class: worth it for long runs, not for short ones. Samples are the same as without it
        (inductor uses torch's own random numbers). If compilation fails, a warning is given and the
        eager chain is used.
    """

    critic: LangevinCritic
    critic_target: LangevinCritic
    deterministic_starts: th.Tensor
    nonfinite_grad_count: th.Tensor

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        lr_schedule: Schedule,
        schedule: LangevinSchedule,
        n_levels: int | None,
        net_arch: list[int] | dict[str, list[int]] | None = None,
        activation_fn: type[nn.Module] = nn.Mish,
        features_extractor_class: type[BaseFeaturesExtractor] = FlattenExtractor,
        features_extractor_kwargs: dict[str, Any] | None = None,
        normalize_images: bool = True,
        optimizer_class: type[th.optim.Optimizer] = th.optim.Adam,
        optimizer_kwargs: dict[str, Any] | None = None,
        n_critics: int = 2,
        level_embedding_dim: int = 16,
        inverse_temperature: float = 500.0,
        normalize_grad: bool = True,
        n_particles: int = 1,
        metropolis: bool = False,
        compile_sampler: bool = False,
    ):
        super().__init__(
            observation_space,
            action_space,
            features_extractor_class,
            features_extractor_kwargs,
            optimizer_class=optimizer_class,
            optimizer_kwargs=optimizer_kwargs,
            normalize_images=normalize_images,
            squash_output=True,  # actions live in [-1, 1]; predict() maps them to the Box bounds
        )
        check_positive_int("n_critics", n_critics)
        self.net_arch = _critic_net_arch(net_arch)
        self.activation_fn = activation_fn
        self.n_critics = n_critics
        self.n_levels = n_levels
        self.level_embedding_dim = level_embedding_dim
        self.schedule = schedule
        self.inverse_temperature = inverse_temperature
        self.normalize_grad = normalize_grad
        self.n_particles = n_particles
        self.metropolis = metropolis
        self.compile_sampler = compile_sampler
        self._compiled_chain: Callable[..., tuple[th.Tensor, SamplerStats]] | None = None
        self.action_dim = get_action_dim(action_space)
        # Fixed starting points of the deterministic chains: the centre, then a low-discrepancy cover.
        sobol = th.quasirandom.SobolEngine(self.action_dim, scramble=False).draw(n_particles + 1)[1:]
        self.register_buffer("deterministic_starts", 2.0 * sobol - 1.0, persistent=False)
        # NaN/inf action gradients replaced by zero, over the policy's lifetime (logged by train()).
        self.register_buffer("nonfinite_grad_count", th.zeros((), dtype=th.long), persistent=False)
        self._build(lr_schedule)

    @property
    def clean_level(self) -> int | None:
        """The critic level used for TD, evaluation and best-of-N (``None`` for a plain critic)."""
        return None if self.n_levels is None else self.n_levels - 1

    def make_critic(self) -> LangevinCritic:
        """
        :return: a new critic with its own features extractor
        """
        features_extractor = self.make_features_extractor()
        return LangevinCritic(
            self.observation_space,
            self.action_space,  # type: ignore[arg-type]
            net_arch=self.net_arch,
            features_extractor=features_extractor,
            features_dim=features_extractor.features_dim,
            activation_fn=self.activation_fn,
            normalize_images=self.normalize_images,
            n_critics=self.n_critics,
            n_levels=self.n_levels,
            level_embedding_dim=self.level_embedding_dim,
        ).to(self.device)

    def _build(self, lr_schedule: Schedule) -> None:
        self.critic = self.make_critic()
        self.use_fast_gradient = supports_fast_path(self.critic)
        self.critic.optimizer = self.optimizer_class(
            self.critic.parameters(),
            lr=lr_schedule(1),  # type: ignore[call-arg]
            **_with_fused_adam(self.optimizer_class, self.optimizer_kwargs),
        )
        self.critic_target = self.make_critic()
        self.critic_target.load_state_dict(self.critic.state_dict())
        self.critic_target.set_training_mode(False)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(
            dict(
                schedule=self.schedule,
                n_levels=self.n_levels,
                net_arch=self.net_arch,
                activation_fn=self.activation_fn,
                features_extractor_class=self.features_extractor_class,
                features_extractor_kwargs=self.features_extractor_kwargs,
                n_critics=self.n_critics,
                level_embedding_dim=self.level_embedding_dim,
                inverse_temperature=self.inverse_temperature,
                normalize_grad=self.normalize_grad,
                n_particles=self.n_particles,
                metropolis=self.metropolis,
                compile_sampler=self.compile_sampler,
                lr_schedule=self._dummy_schedule,
            )
        )
        return data

    def critic_value_and_grad(self, features: th.Tensor) -> ValueAndGrad:
        """
        The Langevin energy of a batch, mean_i Q_i(s, ·[, l]), with its action gradient: the hand-written
        path (:mod:`sb3_lql.common.fast_critic`) for the usual MLP critics, autograd otherwise.

        :param features: observation features, shape (batch, features_dim), fixed along the chain
        :return: a :data:`~sb3_lql.common.langevin.ValueAndGrad` callable
        """
        if self.use_fast_gradient:
            return FastCriticGradient(self.critic, features)

        def mean_q(actions: th.Tensor, level: int | None) -> th.Tensor:
            return self.critic.q_values(features, actions, level).mean(dim=0)

        return autograd_value_and_grad(mean_q)

    def _run_chain(self, features: th.Tensor, init: th.Tensor, deterministic: bool) -> tuple[th.Tensor, SamplerStats]:
        return langevin_sample(
            self.critic_value_and_grad(features),
            init,
            self.schedule,
            inverse_temperature=self.inverse_temperature,
            normalize_grad=self.normalize_grad,
            add_noise=not deterministic,
            metropolis=self.metropolis,
        )

    def _chain(self) -> Callable[..., tuple[th.Tensor, SamplerStats]]:
        """The eager chain, or its compiled version when ``compile_sampler`` is on and compiles here."""
        if not self.compile_sampler:
            return self._run_chain
        if self._compiled_chain is None:
            compiled = th.compile(self._run_chain, dynamic=True, options={"fallback_random": True})

            def chain_or_fallback(*args: Any) -> tuple[th.Tensor, SamplerStats]:
                try:
                    return compiled(*args)
                except Exception as error:  # no C++ compiler, unsupported platform, ...
                    warnings.warn(f"compile_sampler: torch.compile failed ({error!r}); using the eager sampler")
                    self._compiled_chain = self._run_chain
                    return self._run_chain(*args)

            self._compiled_chain = chain_or_fallback
        return self._compiled_chain

    def sample_actions(self, obs: PyTorchObs, deterministic: bool = False) -> tuple[th.Tensor, SamplerStats]:
        """
        Draw one action per observation from the soft policy with the online critic.

        :param obs: a batch of (preprocessed-to-tensor) observations
        :param deterministic: the greedy, noise-free, RNG-free chain (see the class docstring)
        :return: actions in [-1, 1] of shape (batch, act_dim), and the sampler's diagnostics
        """
        with th.no_grad():
            features = self.critic.extract_features(obs, self.critic.features_extractor)
        n = self.n_particles
        features = features.repeat_interleave(n, dim=0)  # particle-major within each observation
        batch_size = features.shape[0] // n
        if deterministic:
            init = self.deterministic_starts.repeat(batch_size, 1)
        else:
            init = 2.0 * th.rand(features.shape[0], self.action_dim, device=features.device) - 1.0

        actions, stats = self._chain()(features, init, deterministic)
        self.nonfinite_grad_count += stats.nonfinite
        if n > 1:
            with th.no_grad():
                q_min = self.critic.q_values(features, actions, self.clean_level).min(dim=0).values
            q_min = th.nan_to_num(q_min, nan=-th.inf).view(batch_size, n)
            best = q_min.argmax(dim=1)
            actions = actions.view(batch_size, n, -1)[th.arange(batch_size, device=actions.device), best]
        return actions, stats

    def forward(self, obs: PyTorchObs, deterministic: bool = False) -> th.Tensor:
        return self._predict(obs, deterministic=deterministic)

    def _predict(self, observation: PyTorchObs, deterministic: bool = False) -> th.Tensor:
        return self.sample_actions(observation, deterministic)[0]

    def set_training_mode(self, mode: bool) -> None:
        """
        Put the critic (not its target) in training or evaluation mode.

        :param mode: ``True`` for training mode
        """
        self.critic.set_training_mode(mode)
        self.training = mode


class DictObservationPolicy(LangevinPolicy):
    """
    Mixin for the ``MultiInputPolicy`` aliases: dict observations go through SB3's ``CombinedExtractor``
    unless another ``features_extractor_class`` is given.

    :param observation_space: observation space (a Dict)
    :param action_space: action space
    :param lr_schedule: learning rate schedule
    :param kwargs: the arguments of the algorithm's policy
    """

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Box, lr_schedule: Schedule, **kwargs: Any):
        kwargs.setdefault("features_extractor_class", CombinedExtractor)
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)
