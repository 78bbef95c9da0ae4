"""The one-exp Mish is torch's Mish: same values and derivatives, and the critics use it."""

from __future__ import annotations

import pytest
import torch as th
from torch import nn

from sb3_lql import LQL, NCLQL
from sb3_lql.common.activations import Mish, mish, mish_and_slope
from tests.conftest import tiny_kwargs

# Far tails, the clamp at 20, and the region around 0 where the slope changes fastest.
INPUTS = th.cat([th.linspace(-100.0, 100.0, 20_001), th.tensor([-30.0, -1.2, 0.0, 19.99, 20.0, 20.01, 25.0])])


@pytest.mark.parametrize("dtype", [th.float32, th.float64])
def test_value_and_slope_match_torch(dtype):
    h = INPUTS.to(dtype).requires_grad_(True)
    reference = nn.functional.mish(h)
    (reference_slope,) = th.autograd.grad(reference.sum(), h)
    value, slope = mish_and_slope(h.detach())
    tolerance = dict(atol=1e-6, rtol=1e-5) if dtype == th.float32 else dict(atol=1e-12, rtol=1e-10)
    assert th.allclose(value, reference.detach(), **tolerance)
    assert th.allclose(slope, reference_slope, **tolerance)
    assert th.equal(mish(h.detach()), value)


def test_module_forward_and_backward_match_torch():
    h = (3 * th.randn(64, 32, dtype=th.float64)).requires_grad_(True)
    assert th.autograd.gradcheck(Mish(), (h,))
    upstream = th.randn(64, 32, dtype=th.float64)
    (grad,) = th.autograd.grad(Mish()(h), h, upstream)
    (reference_grad,) = th.autograd.grad(nn.functional.mish(h), h, upstream)
    assert th.allclose(grad, reference_grad, atol=1e-12)
    with th.no_grad():  # the value-only path
        assert th.allclose(Mish()(h), nn.functional.mish(h), atol=1e-12)


def test_no_silent_second_derivative():
    h = th.randn(8, dtype=th.float64, requires_grad=True)
    (grad,) = th.autograd.grad(Mish()(h).sum(), h, create_graph=True)
    with pytest.raises(RuntimeError):
        grad.sum().backward()


@pytest.mark.parametrize("algo", [LQL, NCLQL])
def test_critics_use_it_for_nn_mish_only(algo):
    model = algo("MlpPolicy", "Pendulum-v1", **tiny_kwargs(algo))
    activations = [m for m in model.critic.modules() if isinstance(m, nn.Mish)]
    assert activations and all(type(m) is Mish for m in activations)
    assert model.critic.slope_fn is not None  # the sampler's hand-written gradient knows it
    assert model.policy.activation_fn is nn.Mish  # saved and restored as the user's class
    kwargs = tiny_kwargs(algo, policy_kwargs=dict(net_arch=[16, 16], activation_fn=nn.ReLU))
    relu = algo("MlpPolicy", "Pendulum-v1", **kwargs)
    assert not any(isinstance(m, nn.Mish) for m in relu.critic.modules())
    assert relu.policy.activation_fn is nn.ReLU  # what the user asked for is what gets saved
