"""How close each Langevin sampler variant gets to the exact soft policy of the bandit.

Every variant runs on the true reward of the 2-D multimodal bandit (annealed variants on its exact
Gaussian-smoothed versions, the landscapes a noise-conditioned critic learns), from Uniform([-1, 1]²)
starts, and is scored against exp(w·r)/Z on a 50 x 50 grid: total-variation distance (the "exact" row
is the sampling-noise floor of 10,000 exact samples), mode coverage, mean reward, and the time per
1,000 samples.

Usage: python benchmarks/sampler_quality.py [--samples 10000] [--w 2 5 20]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import torch as th

from sb3_lql.common.langevin import LangevinSchedule, autograd_value_and_grad, geometric_sigmas, langevin_sample
from sb3_lql.envs import BanditLandscape
from sb3_lql.envs.reference import sample_exact, score_samples


@dataclass
class Variant:
    name: str
    annealed: bool
    steps: int  # LQL: total steps; annealed: steps per level
    step_size: float
    normalize_grad: bool = False
    metropolis: bool = False
    n_levels: int = 10
    sigma_max: float = 0.5
    sigma_min: float = 0.01


VARIANTS = [
    Variant("LQL, K=20", False, 20, 1e-2),
    Variant("LQL, K=100", False, 100, 1e-2),
    Variant("LQL, K=100, eps=1e-3", False, 100, 1e-3),
    Variant("LQL, K=20, MALA", False, 20, 1e-2, metropolis=True),
    Variant("LQL, K=20, normalised grad", False, 20, 1e-2, normalize_grad=True),
    Variant("annealed, L=10, T=1", True, 1, 1e-4),
    Variant("annealed, L=10, T=2", True, 2, 1e-4),
    Variant("annealed, L=10, T=5", True, 5, 1e-4),
    Variant("annealed, L=10, T=2, MALA", True, 2, 1e-4, metropolis=True),
    Variant("annealed, L=10, T=2, normalised grad", True, 2, 1e-4, normalize_grad=True),
    Variant("annealed, paper ladder (0.1 to 0.001), T=2", True, 2, 1e-4, sigma_max=0.1, sigma_min=0.001),
]


def run(variant: Variant, landscape: BanditLandscape, w: float, n: int) -> tuple[th.Tensor, float, float]:
    """Samples of one variant, its milliseconds per 1,000 samples and its acceptance rate."""
    if variant.annealed:
        sigmas = geometric_sigmas(variant.sigma_max, variant.sigma_min, variant.n_levels)
        schedule = LangevinSchedule.annealed(variant.step_size, sigmas, variant.steps)

        def energy(actions: th.Tensor, level: int | None) -> th.Tensor:
            return landscape.smoothed_reward(actions, sigmas[level] if level is not None else 0.0)

    else:
        schedule = LangevinSchedule.plain(variant.step_size, variant.steps)

        def energy(actions: th.Tensor, level: int | None) -> th.Tensor:
            return landscape.reward(actions)

    th.manual_seed(0)
    init = 2 * th.rand(n, 2) - 1
    start = time.perf_counter()
    samples, stats = langevin_sample(
        autograd_value_and_grad(energy), init, schedule, w, variant.normalize_grad, metropolis=variant.metropolis
    )
    seconds = time.perf_counter() - start
    return samples, 1e6 * seconds / n, stats.acceptance.item()  # ms per 1,000 samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--w", type=float, nargs="+", default=[2.0, 5.0, 20.0])
    args = parser.parse_args()
    landscape = BanditLandscape()
    print("| sampler | w | TV | coverage | reward mean ± std | acceptance | ms / 1000 samples |")
    print("|---|---|---|---|---|---|---|")
    for w in args.w:
        exact = score_samples(sample_exact(landscape, w, args.samples), landscape, w)
        print(
            f"| exact (noise floor) | {w:g} | {exact.tv:.3f} | {exact.coverage:.2f} | "
            f"{exact.reward_mean:.3f} ± {exact.reward_std:.3f} | - | - |"
        )
        for variant in VARIANTS:
            samples, ms, acceptance = run(variant, landscape, w, args.samples)
            score = score_samples(samples.numpy(), landscape, w)
            accepted = f"{acceptance:.2f}" if variant.metropolis else "-"
            print(
                f"| {variant.name} | {w:g} | {score.tv:.3f} | {score.coverage:.2f} | "
                f"{score.reward_mean:.3f} ± {score.reward_std:.3f} | {accepted} | {ms:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
