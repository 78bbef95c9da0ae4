"""The critic ensemble: plain Q(s, a) for LQL, noise-conditioned Q(s, ã, l) for NC-LQL.

The ``n_critics`` Q networks are stored as one vectorised ensemble: each layer holds the stacked weights
of every member, shape (n_critics, out, in), so the TD pass, the denoising pass and the Langevin sampler's
action gradient all run as batched products over one layout.

The action gradient used by the sampler is written out by hand (:meth:`LangevinCritic.action_energy`).
Along a chain the observation is fixed, so its share of the first layer, W₁ˢ·φ(s) + b₁, is computed once
per chain, and so are the levels' shares W₁ᵉ·emb(l). With h₁ = W₁ˢφ(s) + W₁ᵉemb(l) + W₁ᵃa + b₁,
z_k = f(h_k), h_{k+1} = W_{k+1}z_k + b_{k+1} and Q = h_{K+1}:

    ∂Q/∂z_K = W_{K+1},   ∂Q/∂z_{k-1} = W_kᵀ(∂Q/∂z_k ⊙ f'(h_k)),   ∂Q/∂a = W₁ᵃᵀ(∂Q/∂z₁ ⊙ f'(h₁))

No autograd graph is built and no parameter gradient is touched; activations without a written-out
derivative (:data:`~sb3_lql.common.activations.SLOPES`) fall back to autograd.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import torch as th
from gymnasium import spaces
from stable_baselines3.common.policies import BaseModel
from stable_baselines3.common.preprocessing import get_action_dim
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from stable_baselines3.common.type_aliases import PyTorchObs
from torch import nn

from sb3_lql.common.activations import SLOPES, fast_activation
from sb3_lql.common.langevin import autograd_value_and_grad

#: A level for the whole batch (int), one level per sample (long tensor), or no level (plain critic).
Levels = int | th.Tensor | None

#: ``energy(actions, level) -> (mean_i Q_i (batch,), its gradient with respect to the actions)``.
ActionEnergy = Callable[[th.Tensor, int | None], tuple[th.Tensor, th.Tensor]]


def sinusoidal_features(n_levels: int, dim: int) -> th.Tensor:
    """
    Sinusoidal features of the level indices 0..n_levels-1, as for diffusion time steps.

    :param n_levels: number of levels
    :param dim: feature size (even)
    :return: tensor of shape (n_levels, dim)
    """
    half = dim // 2
    freqs = th.exp(-math.log(10_000.0) * th.arange(half, dtype=th.float32) / max(half, 1))
    angles = th.arange(n_levels, dtype=th.float32)[:, None] * freqs[None, :]
    return th.cat([th.sin(angles), th.cos(angles)], dim=1)


class EnsembleLinear(nn.Module):
    """
    ``n_members`` independent linear layers: weight (n_members, out, in), bias (n_members, 1, out).

    :param n_members: number of ensemble members
    :param in_features: input size
    :param out_features: output size
    """

    def __init__(self, n_members: int, in_features: int, out_features: int):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(th.empty(n_members, out_features, in_features))
        self.bias = nn.Parameter(th.empty(n_members, 1, out_features))
        for member in range(n_members):
            self.reset_member(member)

    def reset_member(self, member: int) -> None:
        """
        Initialise one member as ``nn.Linear`` initialises itself (same distribution, same random draws).

        :param member: the member's index
        """
        with th.no_grad():
            nn.init.kaiming_uniform_(self.weight[member], a=math.sqrt(5))
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            nn.init.uniform_(self.bias[member], -bound, bound)

    def forward(self, x: th.Tensor) -> th.Tensor:
        """
        :param x: inputs, (n_members, batch, in), or (batch, in) shared by every member
        :return: outputs, (n_members, batch, out)
        """
        if x.dim() == 2:
            x = x.expand(self.weight.shape[0], -1, -1)
        return th.baddbmm(self.bias, x, self.weight.transpose(1, 2))


class EnsembleMLP(nn.Module):
    """
    ``n_members`` MLPs of the same shape, ``Linear, f, Linear, f, ..., Linear``, as one ensemble.

    :param n_members: number of members
    :param sizes: layer widths, input first, output last
    :param activation_fn: activation between the layers
    """

    def __init__(self, n_members: int, sizes: list[int], activation_fn: type[nn.Module]):
        super().__init__()
        self.layers = nn.ModuleList(EnsembleLinear(n_members, n_in, n_out) for n_in, n_out in itertools.pairwise(sizes))
        self.activation = activation_fn()

    @property
    def linears(self) -> list[EnsembleLinear]:
        """The layers, first to last."""
        return list(self.layers)  # type: ignore[arg-type]

    def reset_member(self, member: int) -> None:
        """
        :param member: the member whose layers are re-initialised, first layer first
        """
        for layer in self.linears:
            layer.reset_member(member)

    def forward(self, x: th.Tensor) -> th.Tensor:
        """
        :param x: inputs, (n_members, batch, in) or (batch, in)
        :return: outputs, (n_members, batch, out)
        """
        *hidden, last = self.linears
        for layer in hidden:
            x = self.activation(layer(x))
        return last(x)


class LevelEmbedding(nn.Module):
    """
    Embedding of the noise-level index, one per ensemble member: sinusoidal features, then a small MLP
    (dim → 2·dim → dim).

    :param n_members: number of critics
    :param n_levels: number of noise levels L
    :param embedding_dim: size of the sinusoidal features and of the embedding (16 in the reference)
    :param activation_fn: activation of the MLP (mish in the reference)
    """

    def __init__(self, n_members: int, n_levels: int, embedding_dim: int, activation_fn: type[nn.Module]):
        super().__init__()
        if embedding_dim < 2 or embedding_dim % 2:
            raise ValueError(f"level_embedding_dim must be an even integer >= 2, got {embedding_dim}")
        self.register_buffer("features", sinusoidal_features(n_levels, embedding_dim), persistent=False)
        self.mlp = EnsembleMLP(n_members, [embedding_dim, 2 * embedding_dim, embedding_dim], activation_fn)

    def table(self) -> th.Tensor:
        """:return: every member's embedding of every level, (n_members, L, dim): L is small"""
        return self.mlp(self.features)

    def forward(self, levels: int | th.Tensor, batch_size: int) -> th.Tensor:
        """
        :param levels: one level for the batch, or a long tensor of shape (batch,)
        :param batch_size: the batch size
        :return: embeddings of shape (n_members, batch, dim)
        """
        table = self.table()
        if isinstance(levels, int):
            return table[:, levels : levels + 1].expand(-1, batch_size, -1)
        return table[:, levels]


class LangevinCritic(BaseModel):
    """
    ``n_critics`` Q networks over (features(s), a), stored as one ensemble, plus a level embedding when
    ``n_levels`` is given (the noise-conditioned critic of NC-LQL). The layer-1 input is
    ``[features, actions, level embedding]``.

    :param observation_space: observation space
    :param action_space: action space (a Box)
    :param net_arch: hidden layer sizes of each Q network
    :param features_extractor: the network that turns observations into features
    :param features_dim: size of the features
    :param activation_fn: activation of the hidden layers
    :param normalize_images: whether to divide image observations by 255
    :param n_critics: number of Q networks (2: the twin critic)
    :param n_levels: number of noise levels L; ``None`` for a plain critic Q(s, a)
    :param level_embedding_dim: size of the level embedding (noise-conditioned critic only)
    :param action_init_gain: multiplies the initial layer-1 weights on the action inputs. A linear layer's default
        initialisation scales its weights by 1/sqrt(fan-in), and the level embedding adds to that fan-in, so a
        noise-conditioned critic starts less sensitive to the action than a plain one:
        ``sqrt((features_dim + action_dim + level_embedding_dim) / (features_dim + action_dim))`` gives its action
        weights the plain critic's initial scale. 1 (the default, as in the reference implementation) changes nothing
    """

    features_extractor: BaseFeaturesExtractor

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        net_arch: list[int],
        features_extractor: BaseFeaturesExtractor,
        features_dim: int,
        activation_fn: type[nn.Module] = nn.Mish,
        normalize_images: bool = True,
        n_critics: int = 2,
        n_levels: int | None = None,
        level_embedding_dim: int = 16,
        action_init_gain: float = 1.0,
    ):
        super().__init__(
            observation_space,
            action_space,
            features_extractor=features_extractor,
            normalize_images=normalize_images,
        )
        self.n_critics = n_critics
        self.n_levels = n_levels
        self.features_dim = features_dim
        self.action_dim = get_action_dim(action_space)
        # nn.Mish is replaced by the same function computed from one exp (sb3_lql.common.activations).
        fast_fn = fast_activation(activation_fn)
        self.slope_fn = SLOPES.get(fast_fn)
        embedding_dim = level_embedding_dim if n_levels is not None else 0
        sizes = [features_dim + self.action_dim + embedding_dim, *net_arch, 1]
        with th.random.fork_rng(devices=[]):  # the layers' own initial draws are redone below, in another order
            self.q_net = EnsembleMLP(n_critics, sizes, fast_fn)
            self.level_embedding = (
                LevelEmbedding(n_critics, n_levels, level_embedding_dim, fast_fn) if n_levels is not None else None
            )
        # Member by member, Q network then embedding: the random draws of n_critics separate nn.Linear stacks
        # (as sb3-lql 0.1.0 built them), so a seed gives the critic it gave then.
        for member in range(n_critics):
            self.q_net.reset_member(member)
        if self.level_embedding is not None:
            for member in range(n_critics):
                self.level_embedding.mlp.reset_member(member)
        if action_init_gain != 1.0:
            with th.no_grad():
                self.q_net.linears[0].weight[:, :, features_dim : features_dim + self.action_dim] *= action_init_gain
        self._register_load_state_dict_pre_hook(self._stack_format1_state)

    def _check_levels(self, levels: Levels) -> None:
        if (levels is None) != (self.n_levels is None):
            raise ValueError(
                "A noise-conditioned critic needs `levels`, a plain critic takes none "
                f"(n_levels={self.n_levels}, levels={levels!r})"
            )

    def q_values(self, features: th.Tensor, actions: th.Tensor, levels: Levels = None) -> th.Tensor:
        """
        Q values from already extracted features.

        :param features: observation features, shape (batch, features_dim)
        :param actions: actions in [-1, 1], shape (batch, act_dim)
        :param levels: noise level(s) for a noise-conditioned critic, ``None`` for a plain one
        :return: Q values of every critic, shape (n_critics, batch)
        """
        self._check_levels(levels)
        inputs = th.cat([features, actions], dim=1)
        if self.level_embedding is not None:
            embedding = self.level_embedding(levels, actions.shape[0])  # type: ignore[arg-type]
            inputs = th.cat([inputs.expand(self.n_critics, -1, -1), embedding], dim=2)
        return self.q_net(inputs).squeeze(-1)

    def forward(self, obs: PyTorchObs, actions: th.Tensor, levels: Levels = None) -> th.Tensor:  # type: ignore[override]
        """
        :param obs: observations
        :param actions: actions in [-1, 1]
        :param levels: noise level(s), see :meth:`q_values`
        :return: Q values of every critic, shape (n_critics, batch)
        """
        features = self.extract_features(obs, self.features_extractor)
        return self.q_values(features, actions, levels)

    # --- the Langevin energy and its action gradient ------------------------------------------------

    def action_energy(self, features: th.Tensor) -> ActionEnergy:
        """
        The Langevin energy of a batch, mean_i Q_i(s, ·[, l]), with its action gradient, for fixed
        observation features: written out by hand (module docstring) when the activation's derivative
        is known, by autograd otherwise. Reads the current weights (detached); touches no gradient.

        :param features: observation features, shape (batch, features_dim), fixed along the chain
        :return: an :data:`ActionEnergy` callable
        """
        features = features.detach()
        if self.slope_fn is None:
            return autograd_value_and_grad(lambda actions, level: self.q_values(features, actions, level).mean(dim=0))
        first, *rest = self.q_net.linears
        level_dim = first.in_features - self.features_dim - self.action_dim
        w_obs, w_action, w_level = first.weight.detach().split([self.features_dim, self.action_dim, level_dim], dim=2)
        # The observation's share of layer 1, once per chain: (C, batch, H).
        obs_share = th.baddbmm(first.bias.detach(), features.expand(self.n_critics, -1, -1), w_obs.transpose(1, 2))
        level_shares: th.Tensor | None = None
        if self.level_embedding is not None:
            with th.no_grad():  # every level's share W₁ᵉ·emb(l), (C, L, H): L is small
                level_shares = th.bmm(self.level_embedding.table(), w_level.transpose(1, 2))
        weights = [layer.weight.detach() for layer in rest]
        biases = [layer.bias.detach() for layer in rest]
        # Σ_c ∂Q_c/∂h₁·W₁ᵃ_c as one (act, C·H) x (C·H, batch) product: the per-critic product with a sum over
        # critics, or the same product as (batch, C·H) x (C·H, act), is 2x slower.
        w_action_stacked_t = w_action.reshape(-1, self.action_dim).t().contiguous()
        slope_fn, n_critics = self.slope_fn, self.n_critics

        def energy(actions: th.Tensor, level: int | None) -> tuple[th.Tensor, th.Tensor]:
            pre = obs_share + th.matmul(actions, w_action.transpose(1, 2))
            if level_shares is not None and level is not None:
                pre = pre + level_shares[:, level : level + 1]
            slopes = []
            for weight, bias in zip(weights, biases, strict=True):
                z, slope = slope_fn(pre)
                slopes.append(slope)
                pre = th.baddbmm(bias, z, weight.transpose(1, 2))
            q = pre.squeeze(-1)  # (C, batch)
            # Backward for the input only: ∂ mean_i Q_i / ∂z_K = W_{K+1} / C, then down the hidden layers.
            if slopes:
                grad_h = slopes[-1] * (weights[-1] / n_critics)
                for weight, slope in zip(reversed(weights[:-1]), reversed(slopes[:-1]), strict=True):
                    grad_h = th.bmm(grad_h, weight) * slope
            else:  # no hidden layer: Q is linear in the action
                grad_h = q.new_full((n_critics, q.shape[1], 1), 1.0 / n_critics)
            grad_h = grad_h.transpose(0, 1).reshape(grad_h.shape[1], -1)
            return q.mean(dim=0), th.mm(w_action_stacked_t, grad_h.t()).t()

        return energy

    # --- models saved by sb3-lql 0.1.0 -----------------------------------------------------------

    def format1_names(self) -> dict[str, list[str]]:
        """
        How each parameter was stored by sb3-lql 0.1.0, one ``nn.Sequential`` (``create_mlp``) and one level
        embedding per critic: the names of the per-critic tensors, in the order they stack along dim 0.

        :return: {current name: [0.1.0 names]}, in the order of ``named_parameters()``
        """
        mapping: dict[str, list[str]] = {}
        members = range(self.n_critics)
        for name, _ in self.named_parameters():
            head, _, rest = name.partition(".")
            if head == "q_net":  # q_net.layers.k.weight was q_networks.c.(2k).weight
                _, k, kind = rest.split(".")
                mapping[name] = [f"q_networks.{c}.{2 * int(k)}.{kind}" for c in members]
            elif head == "level_embedding":  # level_embedding.mlp.layers.k.weight was level_embeddings.c.mlp.(2k)
                _, _, k, kind = rest.split(".")
                mapping[name] = [f"level_embeddings.{c}.mlp.{2 * int(k)}.{kind}" for c in members]
            else:
                mapping[name] = [name]
        return mapping

    def _stack_format1_state(self, state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
        """Stack the per-critic tensors of a 0.1.0 state dict into the ensemble's (load_state_dict pre-hook)."""
        if f"{prefix}q_networks.0.0.weight" not in state_dict:
            return
        parameters = dict(self.named_parameters())
        for name, old_names in self.format1_names().items():
            if old_names != [name]:
                stacked = th.stack([state_dict.pop(prefix + old) for old in old_names])
                state_dict[prefix + name] = stacked.reshape(parameters[name].shape)


def stack_format1_optimizer_state(critic: LangevinCritic, state_dict: dict[str, Any]) -> dict[str, Any]:
    """
    Convert the state of an optimiser over a 0.1.0 critic (per-critic tensors) to one over the ensemble:
    per-parameter statistics (Adam's moments, ...) are stacked like the parameters themselves.

    :param critic: the critic the optimiser now optimises
    :param state_dict: an optimiser state dict, in either format
    :return: the state dict for the ensemble's parameters (unchanged if it already is)
    """
    mapping = critic.format1_names()
    old_order = [old for olds in mapping.values() for old in olds]
    old_order.sort(key=_format1_order(critic))
    groups = state_dict["param_groups"]
    if len(groups) != 1 or len(groups[0]["params"]) != len(old_order):
        return state_dict
    old_ids = dict(zip(old_order, groups[0]["params"], strict=True))
    first_layer = state_dict["state"].get(old_ids["q_networks.0.0.weight"], {})
    per_critic = any(isinstance(value, th.Tensor) and value.dim() == 2 for value in first_layer.values())
    if len(old_order) == len(mapping) and not per_critic:  # one critic: the same count in both formats
        return state_dict
    shapes = [p.shape for p in critic.parameters()]
    state = {}
    for new_id, (olds, shape) in enumerate(zip(mapping.values(), shapes, strict=True)):
        per_member = [state_dict["state"].get(old_ids[old]) for old in olds]
        if per_member[0] is None:
            continue
        state[new_id] = {
            key: th.stack([s[key] for s in per_member]).reshape(shape)
            if isinstance(value, th.Tensor) and value.dim() > 0
            else value
            for key, value in per_member[0].items()
        }
    return {"state": state, "param_groups": [{**groups[0], "params": list(range(len(mapping)))}]}


def _format1_order(critic: LangevinCritic) -> Callable[[str], tuple[int, int, int, int]]:
    """Sort key of 0.1.0 parameter names in that version's registration order (extractor, Q nets, embeddings)."""
    extractor = [name for name, _ in critic.features_extractor.named_parameters(prefix="features_extractor")]

    def key(name: str) -> tuple[int, int, int, int]:
        if name in extractor:
            return (0, extractor.index(name), 0, 0)
        parts = name.split(".")
        group = 1 if parts[0] == "q_networks" else 2
        layer = int(parts[-2])
        return (group, int(parts[1]), layer, 0 if parts[-1] == "weight" else 1)

    return key
