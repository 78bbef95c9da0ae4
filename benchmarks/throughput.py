"""Throughput of LQL and NC-LQL against SB3's SAC, all rows measured in the same run.

Prints one markdown table:
- gradient steps per second at batch 256 with the reference defaults (3 x 256 mish critics; SAC
  gets the same 3 x 256 networks), and each one's time relative to SAC;
- action-selection latency for one observation and for a batch of 5;
- the floating-point operations of one gradient step (counted from the layer sizes), the GFLOP/s
  achieved, and the machine's measured float32 matrix-multiply rate for comparison;
- optionally (``--learn-steps N``), environment steps per second of a full ``learn()`` on
  HalfCheetah-v5;
- optionally (``--cnn``), a second table for NC-LQL's ``CnnPolicy`` on 84 x 84 x 3 images (NatureCNN): what the
  features cost per chain, against the whole chain and what they would cost if recomputed at every Langevin step.

Usage: python benchmarks/throughput.py [--threads 2] [--steps 10] [--learn-steps 0] [--device cpu] [--cnn]
"""

from __future__ import annotations

import argparse
import itertools
import platform
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3 import SAC
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm

import sb3_lql
from sb3_lql import LQL, NCLQL

NET = [256, 256, 256]
BATCH = 256


def mlp_matmul_flops(sizes: list[int], batch: int) -> int:
    """Multiply-adds x 2 of one forward pass of an MLP with layer widths ``sizes``."""
    return 2 * batch * sum(a * b for a, b in itertools.pairwise(sizes))


def nclql_step_flops(obs_dim: int, act_dim: int, algo: str, batch: int = BATCH) -> dict[str, float]:
    """
    Matmul FLOPs of one gradient step (elementwise work ignored), from the layer sizes.

    Sampler: per Langevin step and critic, a forward pass and the input-gradient pass, which costs a
    forward pass less the observation columns of layer 1 (computed once per chain).
    Training: TD (forward + backward for weights and inputs = 3 forwards), denoising (NC-LQL, 3 more),
    the pre-update snapshot (NC-LQL, 1 forward) and the target critic at s' (1 forward), per critic.
    """
    emb = 16 if algo == "NCLQL" else 0
    sizes = [obs_dim + act_dim + emb, *NET, 1]
    forward = mlp_matmul_flops(sizes, batch)
    hidden_only = mlp_matmul_flops(sizes[1:], batch)
    first_action_part = 2 * batch * act_dim * NET[0]
    per_eval = (hidden_only + first_action_part) * 2  # forward through the hidden layers + input gradient
    n_evals = 20
    sampler = 2 * (n_evals * per_eval + 2 * batch * (obs_dim + emb) * NET[0])
    training = 2 * forward * ((3 + 3 + 1 + 1) if algo == "NCLQL" else (3 + 1))
    return {"sampler": sampler, "training": training, "total": sampler + training}


def matmul_products(n: int = BATCH, count: int = 50) -> tuple[Callable[[], Any], float]:
    """``count`` float32 (n x n) @ (n x n) products, the shape of the hidden layers, and their FLOPs: timed
    alongside the gradient steps, they give the machine's matmul rate in the same rounds."""
    a, b = th.randn(n, n), th.randn(n, n)

    def products() -> None:
        for _ in range(count):
            a @ b

    return products, 2.0 * n**3 * count


def timed(fns: dict[str, Callable[[], Any]], repeats: int, rounds: int = 7) -> dict[str, float]:
    """Seconds per call of each function: the fastest of ``rounds`` rounds of ``repeats`` calls, after two
    warm-up calls. The functions take turns round by round, so that a slow spell of the machine (other
    tenants, frequency changes) hits all of them alike, and the fastest round is the least disturbed.
    """
    for fn in fns.values():
        fn()
        fn()
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(repeats):
                fn()
            best[name] = min(best[name], (time.perf_counter() - start) / repeats)
    return best


def make_model(
    algo: type[OffPolicyAlgorithm], env_id: str, device: str, compile_sampler: bool = False
) -> OffPolicyAlgorithm:
    policy_kwargs: dict[str, Any] = dict(net_arch=NET)
    kwargs: dict[str, Any] = {}
    if algo is not SAC:
        policy_kwargs.update(activation_fn=th.nn.Mish)
        # compile_sampler is the algorithm's argument since 0.2.0 (True / False / "auto": off in these short
        # runs); 0.1.0 took it in policy_kwargs (False by default). Both are accepted, to time either version.
        if hasattr(algo, "compile_sampler"):
            kwargs.update(compile_sampler=compile_sampler)
        elif compile_sampler:
            policy_kwargs.update(compile_sampler=True)
    return algo(
        "MlpPolicy",
        env_id,
        batch_size=BATCH,
        learning_starts=0,
        device=device,
        seed=0,
        policy_kwargs=policy_kwargs,
        **kwargs,
    )


class RandomImageEnv(gym.Env):
    """84 x 84 x 3 uint8 observations (Atari's size after the usual wrappers), HalfCheetah's 6-D action box."""

    observation_space = gym.spaces.Box(0, 255, (84, 84, 3), np.uint8)
    action_space = gym.spaces.Box(-1.0, 1.0, (6,), np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        return self.observation_space.sample(), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        return self.observation_space.sample(), 0.0, False, False, {}


def cnn_table(device: str) -> None:
    """NC-LQL's CnnPolicy: the NatureCNN features are computed once per chain, not once per Langevin step."""
    model = NCLQL(
        "CnnPolicy", RandomImageEnv(), batch_size=BATCH, learning_starts=0, buffer_size=2_000, seed=0, device=device,
        policy_kwargs=dict(net_arch=NET, activation_fn=th.nn.Mish), compile_sampler=False,
    )  # fmt: skip
    model.learn(BATCH + 10)
    observations = model.replay_buffer.sample(BATCH).next_observations  # type: ignore[union-attr]
    critic = model.critic

    def features() -> th.Tensor:
        with th.no_grad():
            return critic.extract_features(observations, critic.features_extractor)

    times = timed(
        {
            "features": features,
            "chain": lambda: model.policy.sample_actions(observations),
            "step": lambda: model.train(1, BATCH),
        },
        repeats=2,
        rounds=3,
    )
    evaluations = model.sampler.schedule.n_evaluations
    per_step = times["chain"] + (evaluations - 1) * times["features"]
    print(f"\nNC-LQL CnnPolicy, 84 x 84 x 3 images (NatureCNN, 512 features), batch {BATCH}, critics 3 x 256 mish:")
    print(
        "| policy | features, once per chain (ms) | whole chain (ms) | share of the chain | chain if the features "
        f"were recomputed at each of the {evaluations} Langevin steps (ms) | gradient step (ms) |"
    )
    print("|---|---|---|---|---|---|")
    print(
        f"| NCLQL CnnPolicy | {1000 * times['features']:.1f} | {1000 * times['chain']:.1f} | "
        f"{100 * times['features'] / times['chain']:.0f} % | {1000 * per_step:.1f} | {1000 * times['step']:.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=th.get_num_threads())
    parser.add_argument("--steps", type=int, default=10, help="gradient steps per timed round (7 rounds)")
    parser.add_argument("--learn-steps", type=int, default=0, help="env steps of learn() on HalfCheetah-v5 (0: skip)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--compile", action="store_true", help="LQL/NCLQL with compile_sampler=True")
    parser.add_argument("--env", default="HalfCheetah-v5", help="env whose observation/action sizes are used")
    parser.add_argument("--cnn", action="store_true", help="also time NC-LQL's CnnPolicy on 84 x 84 x 3 images")
    args = parser.parse_args()
    th.set_num_threads(args.threads)
    env = gym.make(args.env)
    obs_dim, act_dim = (int(np.prod(space.shape or ())) for space in (env.observation_space, env.action_space))

    algorithms = (SAC, LQL, NCLQL)
    models = {}
    for algo in algorithms:
        model = make_model(algo, args.env, args.device, args.compile)
        model.learn(BATCH + 10)  # fill the buffer past one batch
        models[algo.__name__] = model
    obs1 = np.stack([env.observation_space.sample()])
    obs5 = np.stack([env.observation_space.sample() for _ in range(5)])
    products, product_flops = matmul_products()
    steps = timed(
        {name: partial(model.train, 1, BATCH) for name, model in models.items()} | {"matmul": products}, args.steps
    )
    rate = product_flops / steps["matmul"] / 1e9
    lat1 = timed({name: partial(model.predict, obs1) for name, model in models.items()}, 50)
    lat5 = timed({name: partial(model.predict, obs5) for name, model in models.items()}, 50)
    sac_step = steps["SAC"]

    rows = []
    for algo in algorithms:
        name = algo.__name__
        flops = nclql_step_flops(obs_dim, act_dim, name)["total"] if algo is not SAC else float("nan")
        env_rate = float("nan")
        if args.learn_steps:
            learner = make_model(algo, args.env, args.device, args.compile)
            learner.learning_starts = min(1000, args.learn_steps // 2)
            start = time.perf_counter()
            learner.learn(args.learn_steps)
            env_rate = args.learn_steps / (time.perf_counter() - start)
        rows.append((name, steps[name], lat1[name], lat5[name], flops, env_rate))

    print(
        f"\nsb3-lql {sb3_lql.__version__} ({sb3_lql.__file__}),\n"
        f"{platform.processor() or platform.machine()}, torch {th.__version__}, {args.threads} threads, "
        f"device {args.device}, compile_sampler {args.compile},\n"
        f"{args.env} sizes (obs {obs_dim}, act {act_dim}), batch {BATCH}, critics 3 x 256 mish"
    )
    print(f"measured matmul rate (256 x 256 x 256, float32): {rate:.1f} GFLOP/s\n")
    print(
        "| algorithm | grad steps/s | s / 1000 steps | x SAC | latency 1 obs (ms) | latency 5 obs (ms) "
        "| GFLOP / step | GFLOP/s | % of matmul rate | env steps/s in learn() |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, step, latency1, latency5, step_flops, env_rate in rows:
        gflops, achieved = step_flops / 1e9, step_flops / 1e9 / step
        counted = f"{gflops:.2f} | {achieved:.1f} | {100 * achieved / rate:.0f}" if name != "SAC" else "- | - | -"
        learned = f"{env_rate:.1f}" if args.learn_steps else "-"
        print(
            f"| {name} | {1 / step:.1f} | {1000 * step:.1f} | {step / sac_step:.2f} | {1000 * latency1:.2f} "
            f"| {1000 * latency5:.2f} | {counted} | {learned} |"
        )
    if args.cnn:
        cnn_table(args.device)


if __name__ == "__main__":
    main()
