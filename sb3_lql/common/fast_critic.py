"""A hand-written value-and-action-gradient of the critics' mean, for the Langevin loop.

Along a chain the observation is fixed, so its share of the first layer, W₁ˢ·φ(s) + b₁, is computed
once per chain, and the levels' shares W₁ᵉ·emb(l) once per chain too. Each step then costs one small matmul
for the action, the hidden layers of all critics as one batched matmul (stacked weights), and the
input gradient back through them:

    h₁ = W₁ˢφ(s) + W₁ᵉemb(l) + W₁ᵃa + b₁,  z_k = f(h_k),  h_{k+1} = W_{k+1}z_k + b_{k+1},  Q = w_out·z_K + b_out
    ∂Q/∂z_K = w_out,   ∂Q/∂z_{k-1} = W_kᵀ(∂Q/∂z_k ⊙ f'(h_k)),   ∂Q/∂a = W₁ᵃᵀ(∂Q/∂z₁ ⊙ f'(h₁))

No autograd graph is built and no parameter gradient is touched. ``tests/test_fast_critic.py``
checks it against autograd; critics whose layers it does not know fall back to autograd.
"""

from __future__ import annotations

from collections.abc import Callable

import torch as th
from torch import nn

from sb3_lql.common.activations import Mish, mish_and_slope
from sb3_lql.common.critic import LangevinCritic

#: pre-activation h -> (f(h), f'(h)) for the activations the hand-written path supports.
ActivationWithDerivative = Callable[[th.Tensor], tuple[th.Tensor, th.Tensor]]


def _relu(h: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
    return th.relu(h), (h > 0).to(h.dtype)


def _tanh(h: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
    t = th.tanh(h)
    return t, 1.0 - t * t


def _silu(h: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
    s = th.sigmoid(h)
    return h * s, s * (1.0 + h * (1.0 - s))


ACTIVATIONS: dict[type[nn.Module], ActivationWithDerivative] = {
    nn.Mish: mish_and_slope,
    Mish: mish_and_slope,
    nn.ReLU: _relu,
    nn.Tanh: _tanh,
    nn.SiLU: _silu,
}


def _layers(q_net: nn.Module) -> tuple[list[nn.Linear], type[nn.Module]] | None:
    """The Linear layers of ``Linear, f, Linear, f, ..., Linear`` and f, or None for any other shape."""
    modules = list(q_net.children())
    linears, activations = modules[0::2], modules[1::2]
    if len(modules) % 2 == 0 or not all(isinstance(m, nn.Linear) for m in linears):  # must end on a Linear
        return None
    kinds = {type(m) for m in activations}
    if len(kinds) > 1 or (kinds and next(iter(kinds)) not in ACTIVATIONS):
        return None
    return linears, (next(iter(kinds)) if kinds else nn.Identity)  # type: ignore[return-value]


def supports_fast_path(critic: LangevinCritic) -> bool:
    """
    :param critic: a critic
    :return: whether :class:`FastCriticGradient` can evaluate it
    """
    shapes = [_layers(q_net) for q_net in critic.q_networks]
    if any(shape is None for shape in shapes):
        return False
    depths = {len(shape[0]) for shape in shapes if shape is not None}
    return len(depths) == 1 and min(depths) >= 2


class FastCriticGradient:
    """
    Value and action gradient of mean_i Q_i(s, a[, l]) for a fixed batch of observation features.

    :param critic: the critic (its current weights are read once, detached)
    :param features: observation features of the batch, shape (batch, features_dim)
    """

    def __init__(self, critic: LangevinCritic, features: th.Tensor):
        shapes = [_layers(q_net) for q_net in critic.q_networks]
        assert all(shape is not None for shape in shapes), "use supports_fast_path() first"
        linears = [shape[0] for shape in shapes if shape is not None]
        activation_type = shapes[0][1]  # type: ignore[index]
        self.activation = ACTIVATIONS.get(activation_type)
        self.n_critics = len(linears)
        depth = len(linears[0])
        # Stacked weights of all critics, layer by layer: (n_critics, out, in) and (n_critics, 1, out).
        weights = [th.stack([net[k].weight.detach() for net in linears]) for k in range(depth)]
        biases = [th.stack([net[k].bias.detach() for net in linears]).unsqueeze(1) for k in range(depth)]
        features = features.detach()
        features_dim, self.action_dim = features.shape[1], critic.action_space.shape[0]  # type: ignore[index]
        first = weights[0]
        w_obs = first[:, :, :features_dim]
        self.w_action = first[:, :, features_dim : features_dim + self.action_dim]  # (C, H, act)
        self.w_action_stacked_t = self.w_action.reshape(-1, self.action_dim).t().contiguous()  # (act, C·H)
        w_level = first[:, :, features_dim + self.action_dim :]
        # The observation's share of the first layer, once per chain: (C, batch, H).
        self.obs_hidden = th.baddbmm(biases[0], features.expand(self.n_critics, -1, -1), w_obs.transpose(1, 2))
        self.hidden_weights = weights[1:-1]
        self.hidden_biases = biases[1:-1]
        self.w_out, self.b_out = weights[-1], biases[-1]  # (C, 1, H), (C, 1, 1)
        self._critic, self._w_level = critic, w_level
        self._level_hidden: th.Tensor | None = None

    def _level_share(self, level: int | None) -> th.Tensor | float:
        """W₁ᵉ·emb(l) for every critic, shape (C, 1, H); all levels' shares are computed together, once."""
        if level is None:
            return 0.0
        if self._level_hidden is None:
            with th.no_grad():
                levels = th.arange(self._critic.n_levels, device=self._w_level.device)  # type: ignore[arg-type]
                table = th.stack([embed(levels, len(levels)) for embed in self._critic.level_embeddings])  # (C, L, E)
                self._level_hidden = th.bmm(table, self._w_level.transpose(1, 2))  # (C, L, H)
        return self._level_hidden[:, level : level + 1]

    def _activate(self, h: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        if self.activation is None:  # no activation between the layers
            return h, th.ones_like(h)
        return self.activation(h)

    def __call__(self, actions: th.Tensor, level: int | None) -> tuple[th.Tensor, th.Tensor]:
        """
        :param actions: actions, shape (batch, act_dim)
        :param level: the noise level (``None`` for a plain critic)
        :return: mean_i Q_i, shape (batch,), and its gradient with respect to the actions
        """
        pre = self.obs_hidden + self._level_share(level) + th.matmul(actions, self.w_action.transpose(1, 2))
        z, slope = self._activate(pre)
        slopes = [slope]
        for weight, bias in zip(self.hidden_weights, self.hidden_biases, strict=True):
            z, slope = self._activate(th.baddbmm(bias, z, weight.transpose(1, 2)))
            slopes.append(slope)
        q = th.baddbmm(self.b_out, z, self.w_out.transpose(1, 2)).squeeze(-1)  # (C, batch)
        # Backward pass for the input only: d mean_i Q_i / d z_K = w_out / C
        grad_h = slopes[-1] * (self.w_out / self.n_critics)
        for weight, slope in zip(reversed(self.hidden_weights), reversed(slopes[:-1]), strict=True):
            grad_h = th.bmm(grad_h, weight) * slope
        # Σ_c ∂Q_c/∂h₁ W₁ᵃ_c as one (act, C·H) x (C·H, batch) product: the per-critic (C, batch, H) x (C, H, act)
        # product with a sum over critics, or the same product as (batch, C·H) x (C·H, act), is 2x slower.
        grad_h = grad_h.transpose(0, 1).reshape(grad_h.shape[1], -1)
        grad_actions = th.mm(self.w_action_stacked_t, grad_h.t()).t()
        return q.mean(dim=0), grad_actions
