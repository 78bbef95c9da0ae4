"""Langevin dynamics on a critic: the sampler shared by LQL and NC-LQL.

The soft policy pi(a|s) ∝ exp(w·Q(s, a)) has score w·∇ₐQ(s, a), so it can be sampled with
the critic alone. One update of the unadjusted Langevin algorithm (SPEC.md, sections 1-2):

    a ← clip(a + ½·α·w·g + √α·z, -1, 1),   z ~ N(0, I),

with g = ∇ₐQ (optionally rescaled to unit L2 norm per sample). Plain Langevin (LQL) runs
K steps of size ε on one landscape. Annealed Langevin (NC-LQL) runs T steps on each level of
a noise ladder, from the smoothest (σ₀) to the clean one (σ_{L-1}), with α_l = ε·(σ_l/σ_{L-1})².
Both are the same loop over a :class:`LangevinSchedule`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch as th

#: ``value_and_grad(actions, level) -> (values (batch,), grad wrt actions (batch, act_dim))``.
#: ``level`` is the noise-level index for a noise-conditioned critic, ``None`` for a plain one.
ValueAndGrad = Callable[[th.Tensor, int | None], tuple[th.Tensor, th.Tensor]]


def geometric_sigmas(sigma_max: float, sigma_min: float, n_levels: int) -> list[float]:
    """
    The noise ladder ``sigma_l = exp(linspace(log sigma_max, log sigma_min, L))``, index 0 the largest.

    :param sigma_max: noise level of the smoothest landscape (level 0)
    :param sigma_min: noise level of the clean landscape (level L-1)
    :param n_levels: number of levels L
    :return: the L noise levels, decreasing
    """
    if n_levels == 1:
        return [float(sigma_min)]
    log_max, log_min = math.log(sigma_max), math.log(sigma_min)
    return [math.exp(log_max + (log_min - log_max) * i / (n_levels - 1)) for i in range(n_levels)]


@dataclass(frozen=True)
class LangevinSchedule:
    """
    Which landscape each Langevin stage runs on, with which step size and for how many steps.

    :param levels: the critic level of each stage (``None`` for a plain, unconditioned critic)
    :param step_sizes: the Langevin step size α of each stage
    :param steps_per_stage: number of Langevin steps per stage
    """

    levels: tuple[int | None, ...]
    step_sizes: tuple[float, ...]
    steps_per_stage: int

    @classmethod
    def plain(cls, step_size: float, n_steps: int) -> LangevinSchedule:
        """
        Plain Langevin (LQL): ``n_steps`` steps of size ``step_size`` on the unconditioned critic.

        :param step_size: the step size ε
        :param n_steps: the number of steps K
        :return: the schedule
        """
        return cls(levels=(None,), step_sizes=(step_size,), steps_per_stage=n_steps)

    @classmethod
    def annealed(cls, step_size: float, sigmas: Sequence[float], steps_per_level: int) -> LangevinSchedule:
        """
        Annealed Langevin (NC-LQL): α_l = ε·(σ_l/σ_{L-1})², from level 0 to level L-1.

        :param step_size: the step size ε at the clean level
        :param sigmas: the noise ladder, decreasing
        :param steps_per_level: the number of steps T on each level
        :return: the schedule
        """
        sigma_clean = sigmas[-1]
        return cls(
            levels=tuple(range(len(sigmas))),
            step_sizes=tuple(step_size * (s / sigma_clean) ** 2 for s in sigmas),
            steps_per_stage=steps_per_level,
        )

    @property
    def n_evaluations(self) -> int:
        """Critic gradient evaluations per sampled action."""
        return len(self.levels) * self.steps_per_stage


@dataclass
class SamplerStats:
    """
    Diagnostics of one sampler call, kept as tensors so that the loop never syncs with the device.

    :param grad_norm: mean L2 norm of the raw action gradient over all evaluations and samples
    :param nonfinite: number of per-sample gradients that were NaN or inf and were replaced by zero
    :param acceptance: share of accepted Metropolis proposals (1 when ``metropolis`` is off)
    """

    grad_norm: th.Tensor
    nonfinite: th.Tensor
    acceptance: th.Tensor


def autograd_value_and_grad(q_fn: Callable[[th.Tensor, int | None], th.Tensor]) -> ValueAndGrad:
    """
    Wrap a critic-like callable ``q_fn(actions, level) -> values (batch,)`` so that it also returns
    the gradient of the values with respect to the actions, by autograd.

    Gradients are taken with respect to the actions only: no parameter gradient is accumulated.

    :param q_fn: the critic-like callable
    :return: a :data:`ValueAndGrad` callable
    """

    def value_and_grad(actions: th.Tensor, level: int | None) -> tuple[th.Tensor, th.Tensor]:
        with th.enable_grad():
            actions = actions.detach().requires_grad_(True)
            values = q_fn(actions, level)
            (grad,) = th.autograd.grad(values.sum(), actions)
        return values.detach(), grad

    return value_and_grad


def langevin_sample(
    value_and_grad: ValueAndGrad,
    init_actions: th.Tensor,
    schedule: LangevinSchedule,
    inverse_temperature: float,
    normalize_grad: bool,
    add_noise: bool = True,
    metropolis: bool = False,
) -> tuple[th.Tensor, SamplerStats]:
    """
    Run (annealed) Langevin dynamics towards pi(a) ∝ exp(w·Q(a)) on the box [-1, 1]^act_dim.

    :param value_and_grad: the critic's value and action gradient (see :data:`ValueAndGrad`)
    :param init_actions: starting actions, shape (batch, act_dim), in [-1, 1]
    :param schedule: the stages of the chain
    :param inverse_temperature: w; large is greedy, small is exploratory
    :param normalize_grad: rescale each sample's gradient to unit L2 norm before the step
    :param add_noise: inject the Gaussian noise √α·z. ``False`` turns the chain into (graduated)
        gradient ascent, the w → ∞ end of the policy, and uses no random numbers.
    :param metropolis: Metropolis-adjust every step (MALA): the proposal a' = a + drift(a) + √α·z
        is accepted with probability min(1, exp(w·(Q(a') - Q(a))) · q(a|a') / q(a'|a)), and rejected
        outside the box, so each stage leaves exp(w·Q) on the box exactly invariant. log pi is known up
        to a constant, so no density estimate is needed. Costs one extra evaluation per stage.
        Ignored when ``add_noise`` is ``False``.
    :return: the final actions and the chain's diagnostics
    """
    actions = init_actions.detach().clone()
    grad_norm_sum = actions.new_zeros(())
    nonfinite = actions.new_zeros((), dtype=th.long)
    accepted = actions.new_zeros(())
    n_evaluations, n_proposals = 0, 0
    metropolis = metropolis and add_noise

    def drift_of(grad: th.Tensor, drift_scale: float) -> th.Tensor:
        nonlocal grad_norm_sum, nonfinite, n_evaluations
        # A diverged critic must not leak NaN/inf into actions: drop that sample's drift, count it.
        finite = th.isfinite(grad).all(dim=-1, keepdim=True)
        nonfinite += (~finite).sum()
        grad = th.where(finite, grad, th.zeros_like(grad))
        norm = grad.norm(dim=-1, keepdim=True)
        grad_norm_sum += norm.mean()
        n_evaluations += 1
        if normalize_grad:
            grad = grad / norm.clamp_min(1e-12)
        return drift_scale * grad

    for level, alpha in zip(schedule.levels, schedule.step_sizes, strict=True):
        drift_scale = 0.5 * alpha * inverse_temperature
        noise_scale = math.sqrt(alpha)
        if metropolis:
            value, grad = value_and_grad(actions, level)
            drift = drift_of(grad, drift_scale)
        for _ in range(schedule.steps_per_stage):
            if not metropolis:
                _, grad = value_and_grad(actions, level)
                actions = actions + drift_of(grad, drift_scale)
                if add_noise:
                    actions = actions + noise_scale * th.randn_like(actions)
                actions = actions.clamp(-1.0, 1.0)
                continue
            proposal = actions + drift + noise_scale * th.randn_like(actions)
            inside = (proposal.abs() <= 1.0).all(dim=-1)
            proposal_value, proposal_grad = value_and_grad(proposal.clamp(-1.0, 1.0), level)
            proposal_drift = drift_of(proposal_grad, drift_scale)
            log_forward = -((proposal - actions - drift) ** 2).sum(dim=-1) / (2 * alpha)
            log_backward = -((actions - proposal - proposal_drift) ** 2).sum(dim=-1) / (2 * alpha)
            log_ratio = inverse_temperature * (proposal_value - value) + log_backward - log_forward
            # NaN compares False: a proposal with a non-finite value is rejected.
            accept = inside & (th.log(th.rand_like(log_ratio)) < log_ratio)
            actions = th.where(accept.unsqueeze(-1), proposal, actions)
            value = th.where(accept, proposal_value, value)
            drift = th.where(accept.unsqueeze(-1), proposal_drift, drift)
            accepted += accept.float().mean()
            n_proposals += 1
    acceptance = accepted / n_proposals if n_proposals else actions.new_ones(())
    return actions, SamplerStats(
        grad_norm=grad_norm_sum / max(n_evaluations, 1), nonfinite=nonfinite, acceptance=acceptance
    )
