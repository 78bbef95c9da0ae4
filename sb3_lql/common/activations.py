"""Mish, f(h) = h·tanh(softplus(h)), from a single ``exp``: the critics' default activation.

torch's CPU kernels for ``mish`` and ``mish_backward`` evaluate softplus, tanh and sigmoid separately and
are slower than the few vectorised products below (``benchmarks/README.md`` has the measurements). With e = exp(h) and
n = e·(e + 2):

    tanh(softplus(h)) = n / (n + 2),    f'(h) = tanh(softplus(h)) + 4·h·e·(1 + e) / (n + 2)².

exp is clamped at h = 20, where tanh(softplus(h)) is already 1 in float32 (and (n + 2)² still fits).
The critics' hand-written action gradient (:meth:`sb3_lql.common.critic.LangevinCritic.action_energy`) and
their own :class:`Mish` layers share these two functions; :data:`SLOPES` gives the same pair for the other
activations that gradient supports.
"""

from __future__ import annotations

from collections.abc import Callable

import torch as th
from torch import nn
from torch.autograd.function import FunctionCtx, once_differentiable


def _exp_terms(h: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
    """e = exp(h), clamped at h = 20, and n = e·(e + 2)."""
    e = th.exp(h.clamp(max=20.0))
    return e, e * (e + 2.0)


def mish(h: th.Tensor) -> th.Tensor:
    """
    :param h: pre-activations
    :return: mish(h)
    """
    _, n = _exp_terms(h)
    return h * (n / (n + 2.0))


def mish_and_slope(h: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
    """
    :param h: pre-activations
    :return: mish(h) and its derivative mish'(h), elementwise
    """
    e, n = _exp_terms(h)
    denominator = n + 2.0
    t = n / denominator
    slope = th.addcmul(t, 4.0 * h, e * (1.0 + e) / (denominator * denominator))
    return h * t, slope


class _MishFunction(th.autograd.Function):
    """Mish whose forward pass also computes the slope, so the backward pass is one product."""

    @staticmethod
    def forward(ctx: FunctionCtx, h: th.Tensor) -> th.Tensor:
        value, slope = mish_and_slope(h)
        ctx.save_for_backward(slope)
        return value

    @staticmethod
    @once_differentiable  # the saved slope is not a function of h for autograd: no second derivatives
    def backward(ctx: FunctionCtx, grad_output: th.Tensor) -> th.Tensor:
        (slope,) = ctx.saved_tensors  # type: ignore[attr-defined]
        return grad_output * slope


class Mish(nn.Mish):
    """
    :class:`torch.nn.Mish`, computed from one ``exp`` (see the module docstring); the same function, within
    float32 rounding. Without autograd (target networks, evaluation) only the value is computed.
    """

    def forward(self, input: th.Tensor) -> th.Tensor:
        if input.requires_grad and th.is_grad_enabled():
            return _MishFunction.apply(input)  # type: ignore[no-any-return]
        return mish(input)


def _relu(h: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
    return th.relu(h), (h > 0).to(h.dtype)


def _tanh(h: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
    t = th.tanh(h)
    return t, 1.0 - t * t


def _silu(h: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
    s = th.sigmoid(h)
    return h * s, s * (1.0 + h * (1.0 - s))


#: pre-activation h -> (f(h), f'(h)) for the activation classes whose derivative is written out here.
SLOPES: dict[type[nn.Module], Callable[[th.Tensor], tuple[th.Tensor, th.Tensor]]] = {
    nn.Mish: mish_and_slope,
    Mish: mish_and_slope,
    nn.ReLU: _relu,
    nn.Tanh: _tanh,
    nn.SiLU: _silu,
}


def fast_activation(activation_fn: type[nn.Module]) -> type[nn.Module]:
    """
    :param activation_fn: an activation class, as in SB3's ``activation_fn``
    :return: the faster equivalent this package has for it (:class:`Mish` for ``nn.Mish``), else the class itself
    """
    return Mish if activation_fn is nn.Mish else activation_fn
