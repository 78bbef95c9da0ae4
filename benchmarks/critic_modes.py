"""How many local maxima a trained critic has over the action box, level by level; does the sampler find the best?

Annealing (NC-LQL) can only help where the clean landscape Q(s, ·) has several maxima that a plain Langevin chain
(LQL) would get stuck in, and only if the smoother levels have fewer. This script measures both on a saved model.

For ``--states`` observations visited by the model's own stochastic policy (one env, every ``--every``-th step),
each level of the critic (one for LQL; L for NC-LQL, from σ₀ to the clean level) is climbed from ``--starts``
uniform points of the action box by projected, normalised gradient ascent on the Langevin energy mean_i Q_i(s, ·),
each point with its own step length, halved whenever a step would not raise Q, until it is below 1e-4 (at most
``--ascent-steps`` steps; the share of points that stopped is reported). Stopped ends within ``--tolerance`` of
each other (largest coordinate difference) are one maximum. Per level it reports how many maxima the states have
(median and largest), the share of states with more than one, the share of starts that reach a state's best one
(its basin), and the gap from the best to the second-best, in standard deviations of Q over uniform actions at that
state (so that a gap reads the same whatever the scale of the rewards). Then, on the clean level, the regret of
the model's own sampler, Q(best maximum) - Q(sampled action), in the same units, for the greedy and the stochastic
chain: whether the chains the algorithm runs at its settings reach the best maximum that the ascent found.

The maxima are those that ascent from ``--starts`` starts reaches: a lower bound on their number.

Usage::

    python benchmarks/critic_modes.py lql:Hopper-v4:path/to/model.zip nclql:Walker2d-v4:path/to/model.zip
        [--states 16] [--every 10] [--starts 128] [--ascent-steps 1000] [--tolerance 0.05] [--seed 0]

The checkpoints of the long runs (``benchmarks/long_runs.py``) are ``model.zip`` files of this kind.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch as th

from sb3_lql import LQL, NCLQL
from sb3_lql.common.base_algorithm import LangevinQLearning
from sb3_lql.common.langevin import AnnealedLangevinSampler, ValueAndGrad

ALGORITHMS: dict[str, type[LangevinQLearning]] = {"lql": LQL, "nclql": NCLQL}


@dataclass(frozen=True)
class Maxima:
    """
    The local maxima that ascent reached at one state on one level.

    :param values: their values, best first
    :param counts: how many starts reached each
    :param centres: where they are, shape (n_maxima, act_dim)
    :param spread: the standard deviation of Q at the starts (uniform actions)
    :param stopped: the share of starts whose ascent stopped (the others are in no maximum)
    """

    values: np.ndarray
    counts: np.ndarray
    centres: np.ndarray
    spread: float
    stopped: float

    @property
    def gap(self) -> float:
        """:return: best minus second-best value in units of ``spread`` (NaN with a single maximum)"""
        return float((self.values[0] - self.values[1]) / self.spread) if len(self.values) > 1 else math.nan


def climb(
    value_and_grad: ValueAndGrad, starts: th.Tensor, level: int | None, max_steps: int, smallest_step: float = 1e-4
) -> tuple[th.Tensor, th.Tensor, th.Tensor]:
    """
    Projected, normalised gradient ascent in [-1, 1]^d with a step length per point: a step along the gradient's
    direction within the box (then clipped) is taken if it raises Q, and the point's step grows by half; otherwise
    it is not taken and the step halves. Every point thus climbs monotonically and stops, its step below
    ``smallest_step``, within about that distance of a local maximum (or of a maximum on the box's boundary),
    whatever the scale or the flatness of Q.

    :param value_and_grad: the landscape, ``(actions, level) -> (values, gradients)``
    :param starts: the starting points, shape (n, d)
    :param level: the critic level (``None`` for a plain critic)
    :param max_steps: the most steps (each one evaluation of the landscape and its gradient)
    :param smallest_step: the step length at which a point has stopped
    :return: the end points, shape (n, d), their values, shape (n,), and whether each stopped, shape (n,)
    """
    actions = starts.clone()
    values, grad = value_and_grad(actions, level)
    step = th.full_like(values, 0.1)
    for _ in range(max_steps):
        if bool((step < smallest_step).all()):
            break
        # On a face of the box, the part of the gradient pointing out of it is clipped away anyway; left in the
        # normalisation it would shrink the step along the face, and points would stop short of a maximum there.
        outward = ((actions >= 1.0) & (grad > 0)) | ((actions <= -1.0) & (grad < 0))
        grad = grad.masked_fill(outward, 0.0)
        direction = grad / grad.norm(dim=1, keepdim=True).clamp_min(1e-30)
        proposal = (actions + step.unsqueeze(1) * direction).clamp(-1.0, 1.0)
        proposal_values, proposal_grad = value_and_grad(proposal, level)
        better = proposal_values > values
        actions = th.where(better.unsqueeze(1), proposal, actions)
        values = th.where(better, proposal_values, values)
        grad = th.where(better.unsqueeze(1), proposal_grad, grad)
        step = th.where(better, (1.5 * step).clamp_max(0.5), 0.5 * step)
    return actions, values, step < smallest_step


def group_maxima(ends: np.ndarray, values: np.ndarray, stopped: np.ndarray, tolerance: float, spread: float) -> Maxima:
    """
    Group the ends of the ascents that stopped, best first: an end within ``tolerance`` (largest coordinate
    difference) of a maximum already found joins it, otherwise it is a new one.

    :param ends: end points of one state's ascents, shape (n, d)
    :param values: their values, shape (n,)
    :param stopped: whether each ascent stopped, shape (n,)
    :param tolerance: largest coordinate difference within one maximum
    :param spread: the standard deviation of Q over uniform actions at this state
    :return: the maxima
    """
    centres: list[np.ndarray] = []
    best_values: list[float] = []
    counts: list[int] = []
    for index in np.argsort(-values, kind="stable"):
        if not stopped[index]:
            continue
        for number, centre in enumerate(centres):
            if np.abs(ends[index] - centre).max() <= tolerance:
                counts[number] += 1
                break
        else:
            centres.append(ends[index])
            best_values.append(float(values[index]))
            counts.append(1)
    return Maxima(np.array(best_values), np.array(counts), np.array(centres), max(spread, 1e-12), float(stopped.mean()))


def find_maxima(
    value_and_grad: ValueAndGrad,
    n_states: int,
    action_dim: int,
    level: int | None,
    starts_per_state: int,
    steps: int,
    tolerance: float,
    generator: th.Generator,
) -> list[Maxima]:
    """
    :param value_and_grad: the landscape of ``n_states`` states at once, each repeated ``starts_per_state`` times
        (state-major), as :meth:`~sb3_lql.common.critic.LangevinCritic.action_energy` gives it
    :param n_states: number of states
    :param action_dim: the action size d
    :param level: the critic level (``None`` for a plain critic)
    :param starts_per_state: uniform starts per state
    :param steps: the most ascent steps
    :param tolerance: see :func:`group_maxima`
    :param generator: the random generator of the starts
    :return: the maxima of each state
    """
    starts = 2.0 * th.rand(n_states * starts_per_state, action_dim, generator=generator) - 1.0
    start_values, _ = value_and_grad(starts, level)
    ends, values, stopped = climb(value_and_grad, starts, level, steps)
    spreads = start_values.view(n_states, starts_per_state).std(dim=1)
    ends_by_state = ends.view(n_states, starts_per_state, action_dim).numpy()
    values_by_state = values.view(n_states, starts_per_state).numpy()
    stopped_by_state = stopped.view(n_states, starts_per_state).numpy()
    return [
        group_maxima(ends_by_state[i], values_by_state[i], stopped_by_state[i], tolerance, float(spreads[i]))
        for i in range(n_states)
    ]


def visited_states(model: LangevinQLearning, env_id: str, n_states: int, every: int, seed: int) -> np.ndarray:
    """
    :param model: the trained model
    :param env_id: the task it was trained on
    :param n_states: how many states to return
    :param every: keep every ``every``-th observation of the rollouts
    :param seed: seed of the env (and, set before, of the sampler)
    :return: observations the model's stochastic policy visits, shape (n_states, obs_dim)
    """
    env = gym.make(env_id)
    obs, _ = env.reset(seed=seed)
    states: list[np.ndarray] = []
    step = 0
    while len(states) < n_states:
        if step % every == 0:
            states.append(obs)
        action, _ = model.predict(obs, deterministic=False)
        obs, _, terminated, truncated, _ = env.step(action)
        step += 1
        if terminated or truncated:
            obs, _ = env.reset()
    env.close()
    return np.array(states, dtype=np.float32)


def describe(
    model: LangevinQLearning, env_id: str, args: argparse.Namespace
) -> tuple[list[list[str]], list[list[str]]]:
    """
    :param model: the trained model
    :param env_id: its task
    :param args: the command line
    :return: the rows of the maxima table (one per level) and of the regret table (greedy, stochastic chain)
    """
    th.manual_seed(args.seed)
    observations = visited_states(model, env_id, args.states, args.every, args.seed)
    policy = model.policy
    with th.no_grad():
        obs_tensor, _ = policy.obs_to_tensor(observations)
        features = policy.critic.extract_features(obs_tensor, policy.critic.features_extractor)
    energy = policy.critic.action_energy(features.repeat_interleave(args.starts, dim=0))
    sampler = policy.sampler
    sigmas = sampler.sigmas if isinstance(sampler, AnnealedLangevinSampler) else None
    levels: list[int | None] = list(range(len(sigmas))) if sigmas is not None else [None]
    generator = th.Generator().manual_seed(args.seed)
    level_rows, clean = [], []
    for level in levels:
        clean = find_maxima(
            energy, args.states, policy.critic.action_dim, level, args.starts, args.ascent_steps, args.tolerance,
            generator,
        )  # fmt: skip
        counts = np.array([len(m.values) for m in clean])
        basins = np.array([m.counts[0] / args.starts if len(m.counts) else 0.0 for m in clean])
        gaps = np.array([m.gap for m in clean])
        several = gaps[~np.isnan(gaps)]
        name = "plain" if level is None or sigmas is None else f"{level} (σ = {sigmas[level]:.3g})"
        level_rows.append([
            name, f"{np.median(counts):g}", f"{counts.max()}", f"{(counts > 1).mean():.2f}", f"{basins.mean():.2f}",
            f"{np.median(several):.2f}" if len(several) else "-", f"{np.mean([m.stopped for m in clean]):.3f}",
        ])  # fmt: skip
    best = th.as_tensor(np.array([m.values[0] if len(m.values) else np.nan for m in clean]))
    spread = th.as_tensor(np.array([m.spread for m in clean]))
    clean_energy = policy.critic.action_energy(features)
    regret_rows = []
    for deterministic in (True, False):
        with th.no_grad():
            actions, _ = policy.sample_actions(obs_tensor, deterministic=deterministic)
        sampled, _ = clean_energy(actions, sampler.clean_level)
        regret = ((best - sampled.double()) / spread).numpy()
        regret_rows.append([
            "greedy" if deterministic else "stochastic", f"{np.median(regret):.2f}", f"{regret.max():.2f}",
            f"{(regret > 0.1).mean():.2f}",
        ])  # fmt: skip
    return level_rows, regret_rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", help="ALGO:ENV_ID:PATH, e.g. lql:Hopper-v4:model.zip")
    parser.add_argument("--states", type=int, default=16)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--starts", type=int, default=128)
    parser.add_argument("--ascent-steps", type=int, default=1000)
    parser.add_argument("--tolerance", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    if args.threads:
        th.set_num_threads(args.threads)
    parsed = []
    for entry in args.models:
        algo, env_id, path = [*entry.split(":", 2), "", ""][:3]
        if algo not in ALGORITHMS or not env_id or not path:
            parser.error(f"each model is ALGO:ENV_ID:PATH with ALGO one of {sorted(ALGORITHMS)}, got {entry!r}")
        parsed.append((algo, env_id, path))
    level_table, regret_table = [], []
    for algo, env_id, path in parsed:
        model = ALGORITHMS[algo].load(path, device="cpu")
        model.compile_sampler = False  # the same samples; compiling would cost more than this script's chains
        level_rows, regret_rows = describe(model, env_id, args)
        level_table += [[f"{algo} {env_id} {path}", *row] for row in level_rows]
        regret_table += [[f"{algo} {env_id} {path}", *row] for row in regret_rows]
    print(
        "| model | level | maxima per state (median) | largest | share of states with several | "
        "share of starts in the best one's basin | best - second best (median, s.d. of Q) | ascents stopped |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for row in level_table:
        print("| " + " | ".join(row) + " |")
    print()
    print("| model | chain | regret (median, s.d. of Q) | largest | share of states with regret > 0.1 |")
    print("|---|---|---|---|---|")
    for row in regret_table:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
