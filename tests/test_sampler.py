"""The Langevin sampler on critics with known answers."""

from __future__ import annotations

import itertools
import math

import pytest
import torch as th

from sb3_lql.common.langevin import LangevinSchedule, autograd_value_and_grad, geometric_sigmas, langevin_sample


def quadratic(mu: th.Tensor, curvature: float):
    """Q(a) = -curvature/2·|a - mu|²: exp(w·Q) is a Gaussian N(mu, 1/(w·curvature))."""

    def q_fn(actions: th.Tensor, level: int | None) -> th.Tensor:
        return -0.5 * curvature * ((actions - mu) ** 2).sum(dim=1)

    return autograd_value_and_grad(q_fn)


def test_geometric_sigmas():
    sigmas = geometric_sigmas(0.1, 0.001, 10)
    assert len(sigmas) == 10
    assert sigmas[0] == pytest.approx(0.1) and sigmas[-1] == pytest.approx(0.001)
    ratios = [b / a for a, b in itertools.pairwise(sigmas)]
    assert ratios == pytest.approx([ratios[0]] * 9)
    assert ratios[0] == pytest.approx(0.01 ** (1 / 9))


def test_annealed_step_sizes_follow_the_spec():
    sigmas = geometric_sigmas(0.1, 0.001, 10)
    schedule = LangevinSchedule.annealed(1e-4, sigmas, steps_per_level=2)
    assert schedule.levels == tuple(range(10))
    assert schedule.step_sizes[0] == pytest.approx(1e-4 * (0.1 / 0.001) ** 2)  # = 1: the top level
    assert schedule.step_sizes[-1] == pytest.approx(1e-4)
    assert schedule.n_evaluations == 20
    plain = LangevinSchedule.plain(1e-3, 20)
    assert plain.levels == (None,) and plain.step_sizes == (1e-3,) and plain.n_evaluations == 20


def test_unadjusted_langevin_matches_the_gaussian_boltzmann_distribution():
    """With a small step and no gradient normalisation, samples follow exp(w·Q)."""
    th.manual_seed(0)
    mu = th.tensor([0.2, -0.1])
    w, curvature, step = 20.0, 1.0, 2e-3
    init = 2 * th.rand(20_000, 2) - 1
    samples, stats = langevin_sample(
        quadratic(mu, curvature), init, LangevinSchedule.plain(step, 600), w, normalize_grad=False
    )
    # Exact variance of this discretised chain is 1/(w c (1 - step w c / 4)): within 1% of 1/(w c).
    target_var = 1.0 / (w * curvature)
    assert samples.mean(dim=0) == pytest.approx(mu, abs=0.01)
    assert samples.var(dim=0) == pytest.approx(th.full((2,), target_var), rel=0.05)
    assert stats.nonfinite.item() == 0


def test_temperature_controls_the_spread():
    mu = th.zeros(2)
    spreads = []
    for w in (5.0, 50.0):
        th.manual_seed(0)
        init = 2 * th.rand(5_000, 2) - 1
        samples, _ = langevin_sample(quadratic(mu, 1.0), init, LangevinSchedule.plain(2e-3, 800), w, False)
        spreads.append(samples.std().item())
    assert spreads[0] > 2.5 * spreads[1]  # std scales as 1/sqrt(w): sqrt(10) ≈ 3.2


def test_noise_free_chain_climbs_to_the_maximum_and_uses_no_random_numbers():
    mu = th.tensor([0.5, -0.3])
    init = th.zeros(4, 2)
    state = th.get_rng_state()
    actions, _ = langevin_sample(quadratic(mu, 1.0), init, LangevinSchedule.plain(0.05, 200), 10.0, False, False)
    assert th.equal(state, th.get_rng_state())
    assert actions == pytest.approx(mu.expand(4, 2), abs=1e-4)


def test_normalized_gradient_step_has_length_half_alpha_w():
    value_and_grad = quadratic(th.tensor([1.0, 1.0]), curvature=123.0)  # any scale: only the direction counts
    init = th.zeros(1, 2)
    actions, _ = langevin_sample(value_and_grad, init, LangevinSchedule.plain(1e-3, 1), 100.0, True, False)
    assert actions.norm().item() == pytest.approx(0.5 * 1e-3 * 100.0)
    assert actions[0, 0].item() == pytest.approx(actions[0, 1].item())  # along the gradient (1, 1)/√2


def test_actions_stay_in_the_box():
    th.manual_seed(0)
    init = 2 * th.rand(512, 3) - 1
    actions, _ = langevin_sample(
        quadratic(th.full((3,), 5.0), 1.0), init, LangevinSchedule.plain(1.0, 5), 500.0, normalize_grad=True
    )
    assert actions.abs().max().item() <= 1.0


def test_nonfinite_gradients_do_not_reach_the_actions_and_are_counted():
    def q_fn(actions: th.Tensor, level: int | None) -> th.Tensor:
        # sqrt of a negative number: NaN value and gradient for every sample whose first coordinate is < 0
        return th.sqrt(actions[:, 0]) + actions[:, 1]

    init = th.tensor([[-0.5, 0.0], [0.5, 0.0]])
    th.manual_seed(0)
    actions, stats = langevin_sample(autograd_value_and_grad(q_fn), init, LangevinSchedule.plain(1e-3, 4), 10.0, True)
    assert th.isfinite(actions).all()
    assert stats.nonfinite.item() == 4  # one bad sample on each of the 4 steps
    assert math.isfinite(stats.grad_norm.item())


def test_mala_removes_the_discretisation_bias_of_a_large_step():
    """Unadjusted Langevin with α·w·c/4 = 0.25 inflates the variance by 1/(1 - 0.25); MALA is exact."""
    mu, w, curvature, step = th.tensor([0.1, -0.1]), 20.0, 1.0, 0.05
    variances = {}
    for metropolis in (False, True):
        th.manual_seed(0)
        init = mu + th.randn(20_000, 2) / math.sqrt(w * curvature)
        samples, stats = langevin_sample(
            quadratic(mu, curvature), init, LangevinSchedule.plain(step, 100), w, False, metropolis=metropolis
        )
        variances[metropolis] = samples.var(dim=0).mean().item()
        if metropolis:
            assert 0.5 < stats.acceptance.item() < 1.0
        else:
            assert stats.acceptance.item() == 1.0
    target = 1.0 / (w * curvature)
    assert variances[False] == pytest.approx(target / (1 - step * w * curvature / 4), rel=0.05)
    assert variances[True] == pytest.approx(target, rel=0.05)


def test_mala_leaves_the_exact_bandit_density_invariant():
    from sb3_lql.envs import BanditLandscape
    from sb3_lql.envs.reference import sample_exact, score_samples

    landscape, w = BanditLandscape(), 5.0
    exact = sample_exact(landscape, w, 10_000, seed=0)
    before = score_samples(exact, landscape, w).tv

    def reward(actions: th.Tensor, level: int | None) -> th.Tensor:
        return landscape.reward(actions)

    th.manual_seed(0)
    schedule = LangevinSchedule.plain(0.02, 50)
    init = th.as_tensor(exact, dtype=th.float32)
    value_and_grad = autograd_value_and_grad(reward)
    adjusted, _ = langevin_sample(value_and_grad, init, schedule, w, normalize_grad=False, metropolis=True)
    after = score_samples(adjusted.numpy(), landscape, w).tv
    # The TV of 10k exact samples is itself about 0.16 (sampling noise over 2,500 cells): it must not grow.
    assert after < before + 0.02
