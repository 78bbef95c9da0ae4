"""Actor-free policy: a critic ensemble, its target copy, its optimiser, and a Langevin sampler over it."""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import torch as th
from gymnasium import spaces
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor, FlattenExtractor
from stable_baselines3.common.type_aliases import PyTorchObs, Schedule
from torch import nn

from sb3_lql.common.critic import LangevinCritic, stack_format1_optimizer_state
from sb3_lql.common.langevin import LangevinSampler, SamplerStats
from sb3_lql.common.utils import positive_float, positive_int

DEFAULT_NET_ARCH = [256, 256, 256]


def _critic_net_arch(net_arch: list[int] | dict[str, list[int]] | None) -> list[int]:
    """Accept SAC's forms: a list, or a dict whose ``qf`` entry is the critic's (there is no actor)."""
    if net_arch is None:
        return list(DEFAULT_NET_ARCH)
    if isinstance(net_arch, dict):
        if "qf" not in net_arch:
            raise ValueError(f"net_arch as a dict needs a 'qf' entry (these policies have no actor), got {net_arch}")
        net_arch = net_arch["qf"]
    if not isinstance(net_arch, list | tuple):
        raise ValueError(f"`net_arch` must be a list of layer widths (or dict(qf=[...])), got {net_arch!r}")
    return [positive_int("net_arch (each layer width)", width) for width in net_arch]


def _with_fused_adam(optimizer_class: type[th.optim.Optimizer], optimizer_kwargs: dict[str, Any]) -> dict[str, Any]:
    """
    Adam's fused kernel is several times faster than its per-tensor loop on CPU (the loop is torch's default
    there; benchmarks/README.md) and gives the same update up to float rounding; use it unless the user chose
    an implementation.

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
    Policy shared by LQL and NC-LQL, in the spirit of sb3-contrib's ``TQCPolicy`` without the actor: the
    critic ensemble, its target copy, the critic's optimiser, and the :class:`~sb3_lql.common.langevin.LangevinSampler`
    that draws actions from pi(a|s) ∝ exp(w·mean_i Q_i(s, a)). See the sampler for what ``deterministic`` means.

    :param observation_space: observation space
    :param action_space: action space (a Box with finite bounds)
    :param lr_schedule: learning rate schedule
    :param sampler: the Langevin sampler, which holds every sampler setting (the algorithm builds it)
    :param net_arch: hidden layers of each Q network (a list, or SAC's ``dict(qf=[...])``)
    :param activation_fn: activation function (mish in the reference)
    :param features_extractor_class: features extractor class, shared by the critics of the ensemble (their target
        copy has its own, Polyak-averaged); ``None``: the alias's :attr:`default_features_extractor`
    :param features_extractor_kwargs: keyword arguments of the features extractor
    :param normalize_images: whether to divide image observations by 255
    :param optimizer_class: optimiser class
    :param optimizer_kwargs: keyword arguments of the optimiser
    :param n_critics: number of critic networks
    :param level_embedding_dim: size of the noise-level embedding (noise-conditioned critic)
    :param action_init_gain: multiplies the critic's initial layer-1 weights on the action inputs (> 0; 1, the
        reference's initialisation, changes nothing). The level embedding's inputs add to layer 1's fan-in, so a
        noise-conditioned critic's action weights start sqrt(fan-in ratio) smaller than a plain critic's; on the
        2-D bandit this made its clean level learn the reward's modes about half as fast, and the gain
        ``sqrt((features_dim + action_dim + level_embedding_dim) / (features_dim + action_dim))`` closed the gap
        (see :class:`~sb3_lql.common.critic.LangevinCritic`)
    :param compile_sampler: accepted for models saved by sb3-lql 0.1.0, where it was a policy argument; it is
        now the algorithm's ``compile_sampler``
    """

    critic: LangevinCritic
    critic_target: LangevinCritic
    #: The features extractor when none is given: flattening for ``MlpPolicy``; ``CnnPolicy`` (NatureCNN) and
    #: ``MultiInputPolicy`` (CombinedExtractor) set their own, as SB3's aliases do.
    default_features_extractor: ClassVar[type[BaseFeaturesExtractor]] = FlattenExtractor

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        lr_schedule: Schedule,
        sampler: LangevinSampler,
        net_arch: list[int] | dict[str, list[int]] | None = None,
        activation_fn: type[nn.Module] = nn.Mish,
        features_extractor_class: type[BaseFeaturesExtractor] | None = None,
        features_extractor_kwargs: dict[str, Any] | None = None,
        normalize_images: bool = True,
        optimizer_class: type[th.optim.Optimizer] = th.optim.Adam,
        optimizer_kwargs: dict[str, Any] | None = None,
        n_critics: int = 2,
        level_embedding_dim: int = 16,
        action_init_gain: float = 1.0,
        compile_sampler: bool | None = None,
    ):
        super().__init__(
            observation_space,
            action_space,
            features_extractor_class or self.default_features_extractor,
            features_extractor_kwargs,
            optimizer_class=optimizer_class,
            optimizer_kwargs=optimizer_kwargs,
            normalize_images=normalize_images,
            squash_output=True,  # actions live in [-1, 1]; predict() maps them to the Box bounds
        )
        positive_int("n_critics", n_critics)
        positive_float("action_init_gain", action_init_gain)
        if compile_sampler is not None:
            warnings.warn(
                "policy_kwargs['compile_sampler'] is now the algorithm's argument `compile_sampler`; "
                f"using compile_sampler={compile_sampler!r}",
                FutureWarning,
            )
            sampler.compile_sampler = compile_sampler
        self.net_arch = _critic_net_arch(net_arch)
        self.activation_fn = activation_fn
        self.n_critics = n_critics
        self.level_embedding_dim = level_embedding_dim
        self.action_init_gain = action_init_gain
        self.sampler = sampler
        self._build(lr_schedule)
        sampler.structure_fixed = True

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
            n_levels=self.sampler.n_levels,
            level_embedding_dim=self.level_embedding_dim,
            action_init_gain=self.action_init_gain,
        ).to(self.device)

    def _build(self, lr_schedule: Schedule) -> None:
        self.critic = self.make_critic()
        self.critic.optimizer = self.optimizer_class(
            self.critic.parameters(),
            lr=lr_schedule(1),  # type: ignore[call-arg]
            **_with_fused_adam(self.optimizer_class, self.optimizer_kwargs),
        )
        # Optimiser states saved by sb3-lql 0.1.0 (one tensor per critic) are stacked on load.
        critic = self.critic
        self.critic.optimizer.register_load_state_dict_pre_hook(
            lambda _, state_dict: stack_format1_optimizer_state(critic, state_dict)
        )
        self.critic_target = self.make_critic()
        self.critic_target.load_state_dict(self.critic.state_dict())
        self.critic_target.set_training_mode(False)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(
            dict(
                sampler=self.sampler,
                net_arch=self.net_arch,
                activation_fn=self.activation_fn,
                features_extractor_class=self.features_extractor_class,
                features_extractor_kwargs=self.features_extractor_kwargs,
                n_critics=self.n_critics,
                level_embedding_dim=self.level_embedding_dim,
                action_init_gain=self.action_init_gain,
                lr_schedule=self._dummy_schedule,
            )
        )
        return data

    def sample_actions(self, obs: PyTorchObs, deterministic: bool = False) -> tuple[th.Tensor, SamplerStats]:
        """
        Draw one action per observation from the soft policy with the online critic.

        :param obs: a batch of (preprocessed-to-tensor) observations
        :param deterministic: the greedy, noise-free, RNG-free chain
        :return: actions in [-1, 1] of shape (batch, act_dim), and the sampler's diagnostics
        """
        with th.no_grad():
            features = self.critic.extract_features(obs, self.critic.features_extractor)
        return self.sampler.sample(self.critic, features, deterministic)

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
