"""NC-LQL's gradient step equals a plain, line-by-line update written here from the paper's equations.

arXiv 2602.07873, Section 4: a noise-conditioned twin critic Q_i(s, ã, l) (the level embedded by sinusoidal
features and a 16 → 32 → 16 MLP, concatenated with s and ã), actions drawn by annealed Langevin from the
smoothest level to the clean one with α_l = ε·(σ_l/σ_{L-1})² and the gradient of Q1 + Q2 rescaled to unit
norm, a TD step at the clean level, a denoising step at a random lower level towards the pre-update clean
value, and a Polyak update. Nothing of the package is used below except the model whose update is checked:
the networks are rebuilt from its weights as separate ``nn.Linear`` layers, one per critic.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch as th
import torch.nn.functional as F
from stable_baselines3.common.logger import configure
from stable_baselines3.common.utils import set_random_seed
from torch import nn

from sb3_lql import NCLQL

L, T, SIGMA_MAX, SIGMA_MIN, EPS, W = 4, 2, 0.2, 0.01, 1e-3, 20.0
REWARD_SCALE, GAMMA, TAU, LR, BATCH, EMB = 0.5, 0.9, 0.05, 1e-3, 16, 8


class ReferenceCritic(nn.Module):
    """One Q network and its level embedding, as plain layers: Q(s, ã, l) = MLP([s, ã, MLP(sin/cos(l))])."""

    def __init__(self, sizes: list[int], embedding_sizes: list[int]):
        super().__init__()
        self.q = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(sizes))
        self.emb = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(embedding_sizes))

    def embedding(self, levels: th.Tensor) -> th.Tensor:
        half = EMB // 2
        freqs = th.exp(-math.log(10_000.0) * th.arange(half, dtype=th.float32) / half)
        angles = levels.float()[:, None] * freqs[None, :]
        x = th.cat([th.sin(angles), th.cos(angles)], dim=1)
        return self.emb[1](F.mish(self.emb[0](x)))

    def forward(self, obs: th.Tensor, actions: th.Tensor, levels: th.Tensor) -> th.Tensor:
        x = th.cat([obs, actions, self.embedding(levels)], dim=1)
        for layer in self.q[:-1]:
            x = F.mish(layer(x))
        return self.q[-1](x).squeeze(-1)


def copy_critics(ensemble) -> list[ReferenceCritic]:
    """The model's ensemble as separate networks, member c taking slice c of every stacked weight."""
    q_layers, emb_layers = ensemble.q_net.linears, ensemble.level_embedding.mlp.linears
    sizes = [q_layers[0].in_features] + [layer.out_features for layer in q_layers]
    emb_sizes = [emb_layers[0].in_features] + [layer.out_features for layer in emb_layers]
    critics = []
    for c in range(ensemble.n_critics):
        critic = ReferenceCritic(sizes, emb_sizes)
        with th.no_grad():
            for mine, theirs in [*zip(critic.q, q_layers, strict=True), *zip(critic.emb, emb_layers, strict=True)]:
                mine.weight.copy_(theirs.weight[c])
                mine.bias.copy_(theirs.bias[c, 0])
        critics.append(critic)
    return critics


def reference_update(model: NCLQL, critics, targets, optimizer) -> tuple[th.Tensor, th.Tensor]:
    """One gradient step of NC-LQL, from the equations; returns the TD target and the sampled a'."""
    sigmas = [
        math.exp(math.log(SIGMA_MAX) + (math.log(SIGMA_MIN) - math.log(SIGMA_MAX)) * i / (L - 1)) for i in range(L)
    ]
    clean = th.full((BATCH,), L - 1)
    batch = model.replay_buffer.sample(BATCH)
    s, s2 = batch.observations.float(), batch.next_observations.float()  # as SB3's preprocessing casts them
    a, r, d = batch.actions, batch.rewards[:, 0], batch.dones[:, 0]

    # 1. snapshot of the clean value at the replayed actions
    with th.no_grad():
        q_clean = th.stack([q(s, a, clean) for q in critics]).mean(0)

    # 2. a' by annealed Langevin on the online critics at s': a ← clip(a + ½α_l·w·g/|g| + √α_l·z, -1, 1)
    a2 = 2 * th.rand(BATCH, a.shape[1]) - 1
    for level in range(L):
        alpha = EPS * (sigmas[level] / sigmas[-1]) ** 2
        for _ in range(T):
            x = a2.detach().requires_grad_(True)
            (g,) = th.autograd.grad(sum(q(s2, x, th.full((BATCH,), level)) for q in critics).sum(), x)
            g = g / g.norm(dim=1, keepdim=True)
            a2 = (a2 + 0.5 * alpha * W * g + math.sqrt(alpha) * th.randn_like(a2)).clamp(-1, 1)

    # 3. TD step at the clean level: y = reward_scale·r + γ(1 - d)·min_i Q_targ_i(s', a', L-1)
    with th.no_grad():
        y = REWARD_SCALE * r + GAMMA * (1 - d) * th.stack([q(s2, a2, clean) for q in targets]).min(0).values
    td_loss = sum(((q(s, a, clean) - y) ** 2).mean() for q in critics)
    optimizer.zero_grad()
    td_loss.backward()
    optimizer.step()

    # 4. denoising step: l ~ U{0..L-2}, ã = a + σ_l·z, Q_i(s, ã, l) → q_clean
    levels = th.randint(0, L - 1, (BATCH,))
    noisy = a + th.tensor(sigmas)[levels].unsqueeze(1) * th.randn_like(a)
    denoise_loss = sum(((q(s, noisy, levels) - q_clean) ** 2).mean() for q in critics)
    optimizer.zero_grad()
    denoise_loss.backward()
    optimizer.step()

    # 5. Polyak update of the targets
    with th.no_grad():
        for critic, target in zip(critics, targets, strict=True):
            for p, p_targ in zip(critic.parameters(), target.parameters(), strict=True):
                p_targ.mul_(1 - TAU).add_(TAU * p)
    return y, a2


def test_two_nclql_gradient_steps_equal_the_reference_update():
    model = NCLQL(
        "MlpPolicy",
        "HalfCheetah-v5",  # 6-D actions: the unit-norm gradient keeps its direction, not only a sign
        seed=0,
        n_noise_levels=L,
        langevin_steps_per_level=T,
        sigma_max=SIGMA_MAX,
        sigma_min=SIGMA_MIN,
        step_size=EPS,
        inverse_temperature=W,
        reward_scale=REWARD_SCALE,
        gamma=GAMMA,
        tau=TAU,
        learning_rate=LR,
        batch_size=BATCH,
        learning_starts=100,
        policy_kwargs=dict(net_arch=[32, 32], level_embedding_dim=EMB),
    )
    model.learn(100)  # fills the replay buffer with the random warm-up; no update yet
    model.set_logger(configure(None, [""]))
    critics, targets = copy_critics(model.critic), copy_critics(model.critic_target)
    initial = copy_critics(model.critic)
    optimizer = th.optim.Adam([p for q in critics for p in q.parameters()], lr=LR)

    ours = []
    td_target = model._td_target
    model._td_target = lambda batch: ours.append(td_target(batch)) or ours[-1]  # type: ignore[method-assign]
    set_random_seed(3)
    model.train(gradient_steps=2, batch_size=BATCH)
    set_random_seed(3)
    for (target, next_actions, _), _step in zip(ours, range(2), strict=True):
        y, a2 = reference_update(model, critics, targets, optimizer)
        np.testing.assert_allclose(next_actions.numpy(), a2.numpy(), atol=1e-5)  # a' by annealed Langevin
        np.testing.assert_allclose(target.numpy(), y.numpy(), rtol=1e-5, atol=1e-6)

    for ours, reference in ((model.critic, critics), (model.critic_target, targets)):
        for c, copy in enumerate(copy_critics(ours)):
            for p, q in zip(copy.parameters(), reference[c].parameters(), strict=True):
                np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6)
    for before, after in zip(initial[0].parameters(), critics[0].parameters(), strict=True):
        assert not th.allclose(before, after)  # every layer moved: the comparison above is not of untouched weights
