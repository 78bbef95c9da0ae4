"""Langevin dynamics on a critic: the sampler shared by LQL and NC-LQL, and every setting it reads.

The soft policy pi(a|s) ∝ exp(w·Q(s, a)) has score w·∇ₐQ(s, a), so it can be sampled with the critic
alone (arXiv 2602.07873, Sections 3-4). One update of the unadjusted Langevin algorithm:

    a ← clip(a + ½·α·w·g + √α·z, -1, 1),   z ~ N(0, I),

with g = ∇ₐQ (optionally rescaled to unit L2 norm per sample). Plain Langevin (LQL) runs K steps of size
ε on one landscape. Annealed Langevin (NC-LQL) runs T steps on each level of a noise ladder, from the
smoothest (σ₀) to the clean one (σ_{L-1}), with α_l = ε·(σ_l/σ_{L-1})². Both are the same loop over a
:class:`LangevinSchedule`; :func:`langevin_step` and :func:`mala_step` are its two kinds of step.

:class:`LangevinSampler` (:class:`PlainLangevinSampler`, :class:`AnnealedLangevinSampler`) holds the
settings (each checked whenever it is set), the chains' starting points, best-of-N, the count of
non-finite gradients and the ``torch.compile`` wrapper. The policy owns one; the algorithm's
``model.inverse_temperature`` and friends are views of it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import torch as th

from sb3_lql.common.utils import FLOAT32_MAX as _FLOAT32_MAX
from sb3_lql.common.utils import flag, positive_float, positive_int

if TYPE_CHECKING:
    from sb3_lql.common.critic import ActionEnergy, LangevinCritic

#: ``value_and_grad(actions, level) -> (values (batch,), grad wrt actions (batch, act_dim))``.
#: ``level`` is the noise-level index for a noise-conditioned critic, ``None`` for a plain one.
ValueAndGrad = Callable[[th.Tensor, int | None], tuple[th.Tensor, th.Tensor]]

#: ``inverse_temperature``: a number, or a function of the progress remaining (1 → 0) like SB3's schedules.
Temperature = float | Callable[[float], float]


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


class _Drift:
    """½·α·w·g for one stage, with g made finite (and unit-norm if asked); accumulates the chain's diagnostics."""

    def __init__(self, actions: th.Tensor, normalize_grad: bool):
        self.normalize_grad = normalize_grad
        self.grad_norm_sum = actions.new_zeros(())
        self.nonfinite = actions.new_zeros((), dtype=th.long)
        self.n_evaluations = 0

    def __call__(self, grad: th.Tensor, drift_scale: float | th.Tensor) -> th.Tensor:
        # A diverged critic must not leak NaN/inf into actions: drop that sample's drift, count it.
        finite = th.isfinite(grad).all(dim=-1, keepdim=True)
        self.nonfinite += (~finite).sum()
        grad = th.where(finite, grad, th.zeros_like(grad))
        norm = grad.norm(dim=-1, keepdim=True)
        self.grad_norm_sum += norm.mean()
        self.n_evaluations += 1
        if self.normalize_grad:
            grad = grad / norm.clamp_min(1e-12)
        return drift_scale * grad


def langevin_step(
    value_and_grad: ValueAndGrad,
    actions: th.Tensor,
    level: int | None,
    alpha: float,
    drift_scale: float | th.Tensor,
    drift: _Drift,
    add_noise: bool,
) -> th.Tensor:
    """
    One unadjusted Langevin step, a ← clip(a + ½·α·w·g + √α·z, -1, 1).

    :param value_and_grad: the energy and its action gradient
    :param actions: current actions (batch, act_dim)
    :param level: the critic level of this stage
    :param alpha: the step size α of this stage
    :param drift_scale: ½·α·w
    :param drift: turns the gradient into the drift (and counts)
    :param add_noise: add √α·z (``False``: a gradient-ascent step, no random numbers)
    :return: the new actions
    """
    _, grad = value_and_grad(actions, level)
    actions = actions + drift(grad, drift_scale)
    if add_noise:
        actions = actions + math.sqrt(alpha) * th.randn_like(actions)
    return actions.clamp(-1.0, 1.0)


def mala_step(
    value_and_grad: ValueAndGrad,
    actions: th.Tensor,
    value: th.Tensor,
    current_drift: th.Tensor,
    level: int | None,
    alpha: float,
    inverse_temperature: float | th.Tensor,
    drift: _Drift,
) -> tuple[th.Tensor, th.Tensor, th.Tensor, th.Tensor]:
    """
    One Metropolis-adjusted Langevin step: the proposal a' = a + drift(a) + √α·z is accepted with
    probability min(1, exp(w·(Q(a') - Q(a))) · q(a|a') / q(a'|a)) and rejected outside the box, so the
    step leaves exp(w·Q) on the box exactly invariant. log pi is known up to a constant: no density estimate.

    :param value_and_grad: the energy and its action gradient
    :param actions: current actions (batch, act_dim)
    :param value: Q at the current actions (batch,)
    :param current_drift: the drift at the current actions (batch, act_dim)
    :param level: the critic level of this stage
    :param alpha: the step size α of this stage
    :param inverse_temperature: w
    :param drift: turns a gradient into a drift (and counts)
    :return: actions, their values, their drifts, and whether each proposal was accepted
    """
    proposal = actions + current_drift + math.sqrt(alpha) * th.randn_like(actions)
    inside = (proposal.abs() <= 1.0).all(dim=-1)
    proposal_value, proposal_grad = value_and_grad(proposal.clamp(-1.0, 1.0), level)
    proposal_drift = drift(proposal_grad, 0.5 * alpha * inverse_temperature)
    log_forward = -((proposal - actions - current_drift) ** 2).sum(dim=-1) / (2 * alpha)
    log_backward = -((actions - proposal - proposal_drift) ** 2).sum(dim=-1) / (2 * alpha)
    log_ratio = inverse_temperature * (proposal_value - value) + log_backward - log_forward
    # NaN compares False: a proposal with a non-finite value is rejected.
    accept = inside & (th.log(th.rand_like(log_ratio)) < log_ratio)
    actions = th.where(accept.unsqueeze(-1), proposal, actions)
    value = th.where(accept, proposal_value, value)
    current_drift = th.where(accept.unsqueeze(-1), proposal_drift, current_drift)
    return actions, value, current_drift, accept


def langevin_sample(
    value_and_grad: ValueAndGrad,
    init_actions: th.Tensor,
    schedule: LangevinSchedule,
    inverse_temperature: float | th.Tensor,
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
    :param metropolis: Metropolis-adjust every step (:func:`mala_step`). Costs one extra evaluation per
        stage. Ignored when ``add_noise`` is ``False``.
    :return: the final actions and the chain's diagnostics
    """
    actions = init_actions.detach().clone()
    drift = _Drift(actions, normalize_grad)
    accepted = actions.new_zeros(())
    n_proposals = 0
    metropolis = metropolis and add_noise
    for level, alpha in zip(schedule.levels, schedule.step_sizes, strict=True):
        drift_scale = 0.5 * alpha * inverse_temperature
        if not metropolis:
            for _ in range(schedule.steps_per_stage):
                actions = langevin_step(value_and_grad, actions, level, alpha, drift_scale, drift, add_noise)
            continue
        value, grad = value_and_grad(actions, level)
        current_drift = drift(grad, drift_scale)
        for _ in range(schedule.steps_per_stage):
            actions, value, current_drift, accept = mala_step(
                value_and_grad, actions, value, current_drift, level, alpha, inverse_temperature, drift
            )
            accepted += accept.float().mean()
            n_proposals += 1
    acceptance = accepted / n_proposals if n_proposals else actions.new_ones(())
    return actions, SamplerStats(
        grad_norm=drift.grad_norm_sum / max(drift.n_evaluations, 1), nonfinite=drift.nonfinite, acceptance=acceptance
    )


# --- the settings and their checks ---------------------------------------------------------------


def _temperature(name: str, value: Any) -> Temperature:
    if callable(value):  # a schedule of the progress remaining: its ends are checked now, every value when used
        for progress in (1.0, 0.0):
            positive_float(f"{name} (a schedule) at progress remaining {progress}", value(progress))
        return value  # type: ignore[no-any-return]
    return positive_float(name, value)


def _compile_choice(name: str, value: Any) -> bool | Literal["auto"]:
    if isinstance(value, str) and value == "auto":
        return "auto"
    try:
        return flag(name, value)
    except ValueError:
        raise ValueError(f"`{name}` must be True, False or 'auto', got {value!r}") from None


class _Setting:
    """A sampler setting: stored once, on the sampler, and checked every time it is set."""

    def __init__(self, check: Callable[[str, Any], Any], doc: str):
        self.check = check
        self.__doc__ = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, sampler: Any, owner: type | None = None) -> Any:
        if sampler is None:
            return self
        return sampler.__dict__[self.name]

    def __set__(self, sampler: LangevinSampler, value: Any) -> None:
        sampler.update(**{self.name: value})


#: ``learn()`` calls with at least this many environment steps ahead compile the chain when
#: ``compile_sampler="auto"``: compiling is a one-off cost per batch size that only long runs recover
#: (benchmarks/README.md has both figures).
AUTO_COMPILE_MIN_STEPS = 50_000


class LangevinSampler:
    """
    Draws actions from pi(a|s) ∝ exp(w·mean_i Q_i(s, a)) by Langevin dynamics on a :class:`LangevinCritic`.

    Stochastic chains (``deterministic=False``) start Uniform(-1, 1). Deterministic chains are the greedy
    (w → ∞) end of the same sampler: they start from fixed points (the centre of the box, then unscrambled
    Sobol points) and run without injected noise, drawing no random number, so the same observation and
    critic always give the same action whatever else is in the batch. With ``n_particles > 1`` both keep
    the particle with the highest min_i Q_i at the clean level (best-of-N).

    Every setting is given by keyword, checked whenever it is set (a ``ValueError`` naming it), and takes
    effect at the next action. Subclasses add the settings of the chain's :attr:`schedule`.

    :param inverse_temperature: w of the soft policy, or a function of the progress remaining (1 → 0)
    :param step_size: the Langevin step size ε (at the clean level for an annealed chain)
    :param normalize_grad: rescale each action gradient to unit L2 norm
    :param n_particles: chains per observation; best-of-N by min-Q when > 1
    :param metropolis: Metropolis-adjusted Langevin (MALA) for the stochastic chains
    :param compile_sampler: run the chain through ``torch.compile`` (True), not (False), or only inside
        ``learn()`` calls of at least :data:`AUTO_COMPILE_MIN_STEPS` environment steps (``"auto"``). Compiled
        chains draw the same samples (inductor uses torch's own random numbers); if compilation fails, a
        warning is given and the eager chain is used.
    """

    inverse_temperature = _Setting(_temperature, "w of the soft policy (a number or a schedule)")
    step_size = _Setting(positive_float, "the Langevin step size ε")
    normalize_grad = _Setting(flag, "rescale each action gradient to unit L2 norm")
    n_particles = _Setting(positive_int, "chains per observation, best-of-N when > 1")
    metropolis = _Setting(flag, "Metropolis-adjusted steps (MALA)")
    compile_sampler = _Setting(_compile_choice, "torch.compile the chain: True, False or 'auto'")

    #: Settings that shape the critic: fixed once the critic exists.
    structural: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **settings: Any):
        self.progress_remaining = 1.0
        #: Set by the policy once the critic is built: the :attr:`structural` settings are fixed from then on.
        self.structure_fixed = False
        #: Whether the chain is compiled right now (``compile_sampler``, or "auto" inside a long ``learn()``).
        self.compiling = False
        self.nonfinite_count: th.Tensor | None = None
        self._compiled_chain: Callable[..., tuple[th.Tensor, SamplerStats]] | None = None
        self._starts: dict[tuple[int, int, th.device], th.Tensor] = {}
        missing = [name for name in self.setting_names() if name not in settings]
        if missing:
            raise TypeError(f"{type(self).__name__} needs every setting; missing: {missing}")
        self.update(**settings)

    @classmethod
    def setting_names(cls) -> tuple[str, ...]:
        """:return: the names of every setting, in declaration order"""
        return tuple(
            name for klass in reversed(cls.__mro__) for name, attr in vars(klass).items() if isinstance(attr, _Setting)
        )

    def settings(self) -> dict[str, Any]:
        """:return: every setting's current value"""
        return {name: getattr(self, name) for name in self.setting_names()}

    def update(self, **values: Any) -> None:
        """
        Set several settings at once, each checked, then the constraints between them.

        :param values: setting names and their new values
        :raises ValueError: naming the setting and what is allowed; nothing is changed then
        """
        unknown = set(values) - set(self.setting_names())
        if unknown:
            raise ValueError(f"Unknown sampler setting(s) {sorted(unknown)}; known: {list(self.setting_names())}")
        if self.structure_fixed:
            changed = [name for name in self.structural if name in values and values[name] != getattr(self, name)]
            if changed:
                raise ValueError(f"{changed} shape the critic: they cannot change once the critic is built")
        checked = {name: _find_setting(type(self), name).check(name, value) for name, value in values.items()}
        self._check_together({**self.__dict__, **checked})
        self.__dict__.update(checked)
        if "n_particles" in checked:
            self._starts.clear()

    def _check_together(self, settings: dict[str, Any]) -> None:
        """
        Constraints between settings: every step size of the chain, and every drift ½·α·w, must be a finite
        float32 number (an overflow would turn a zeroed gradient into inf·0 = NaN inside the chain).
        """
        try:
            step_sizes = self.schedule_of(settings).step_sizes
        except OverflowError:
            raise ValueError(self._overflow_message(settings)) from None
        w = settings["inverse_temperature"]
        largest_w = max(w(1.0), w(0.0)) if callable(w) else w
        for alpha in step_sizes:
            if not 0 < alpha <= _FLOAT32_MAX or not 0.5 * alpha * largest_w <= _FLOAT32_MAX:
                raise ValueError(
                    f"{self._overflow_message(settings)}: a step size α = {alpha:g} with w = {largest_w:g} "
                    "gives a drift ½·α·w outside float32's range"
                )

    def _overflow_message(self, settings: dict[str, Any]) -> str:
        return f"`step_size` ({settings['step_size']:g}) and `inverse_temperature` are too large together"

    # --- what a chain needs -------------------------------------------------------------------

    def schedule_of(self, settings: dict[str, Any]) -> LangevinSchedule:
        """
        :param settings: values of the settings
        :return: the stages of the chain those settings give
        """
        raise NotImplementedError

    @property
    def schedule(self) -> LangevinSchedule:
        """The stages of the chain, from the current settings."""
        return self.schedule_of(self.__dict__)

    @property
    def n_levels(self) -> int | None:
        """Number of critic noise levels (``None``: a plain critic)."""
        return None

    @property
    def clean_level(self) -> int | None:
        """The critic level of TD, evaluation and best-of-N (``None`` for a plain critic)."""
        return None if self.n_levels is None else self.n_levels - 1

    def current_inverse_temperature(self) -> float:
        """
        :return: w now: the setting, or its schedule at :attr:`progress_remaining`
        :raises ValueError: if a schedule gives a value that is not a finite number > 0
        """
        w = self.inverse_temperature
        if callable(w):
            where = f"inverse_temperature (a schedule) at progress remaining {self.progress_remaining:.4g}"
            return positive_float(where, w(self.progress_remaining))
        return w  # type: ignore[no-any-return]

    def deterministic_starts(self, action_dim: int, device: th.device) -> th.Tensor:
        """
        :param action_dim: the action size
        :param device: where the starts live
        :return: the fixed starts of the deterministic chains: the centre of the box, then Sobol points
        """
        key = (action_dim, self.n_particles, device)
        if key not in self._starts:
            sobol = th.quasirandom.SobolEngine(action_dim, scramble=False).draw(self.n_particles + 1)[1:]
            self._starts[key] = (2.0 * sobol - 1.0).to(device)
        return self._starts[key]

    def sample(
        self, critic: LangevinCritic, features: th.Tensor, deterministic: bool = False
    ) -> tuple[th.Tensor, SamplerStats]:
        """
        Draw one action per row of ``features`` from the soft policy of ``critic``.

        :param critic: the critic whose mean is the Langevin energy
        :param features: observation features, (batch, features_dim)
        :param deterministic: the greedy, noise-free, RNG-free chain (see the class docstring)
        :return: actions in [-1, 1] of shape (batch, act_dim), and the chain's diagnostics
        """
        n = self.n_particles
        features = features.repeat_interleave(n, dim=0)  # particle-major within each observation
        batch_size = features.shape[0] // n
        if deterministic:
            init = self.deterministic_starts(critic.action_dim, features.device).repeat(batch_size, 1)
        else:
            init = 2.0 * th.rand(features.shape[0], critic.action_dim, device=features.device) - 1.0
        actions, stats = self._chain()(critic, features, init, self.current_inverse_temperature(), deterministic)
        if self.nonfinite_count is None or self.nonfinite_count.device != stats.nonfinite.device:
            self.nonfinite_count = th.zeros((), dtype=th.long, device=stats.nonfinite.device)
        self.nonfinite_count += stats.nonfinite
        if n > 1:
            with th.no_grad():
                q_min = critic.q_values(features, actions, self.clean_level).min(dim=0).values
            q_min = th.nan_to_num(q_min, nan=-th.inf).view(batch_size, n)
            best = q_min.argmax(dim=1)
            actions = actions.view(batch_size, n, -1)[th.arange(batch_size, device=actions.device), best]
        return actions, stats

    def _run_chain(
        self,
        critic: LangevinCritic,
        features: th.Tensor,
        init: th.Tensor,
        inverse_temperature: float | th.Tensor,
        deterministic: bool,
    ) -> tuple[th.Tensor, SamplerStats]:
        energy: ActionEnergy = critic.action_energy(features)
        return langevin_sample(
            energy,
            init,
            self.schedule,
            inverse_temperature=inverse_temperature,
            normalize_grad=self.normalize_grad,
            add_noise=not deterministic,
            metropolis=self.metropolis,
        )

    def _chain(self) -> Callable[..., tuple[th.Tensor, SamplerStats]]:
        """The eager chain, or the compiled one (w is passed as a tensor so that changing it recompiles nothing)."""
        if not (self.compile_sampler is True or self.compiling):
            return self._run_chain
        if self._compiled_chain is None:
            compiled = th.compile(self._run_chain, dynamic=True, options={"fallback_random": True})

            def chain_or_fallback(
                critic: LangevinCritic, features: th.Tensor, init: th.Tensor, w: float, deterministic: bool
            ) -> tuple[th.Tensor, SamplerStats]:
                try:
                    return compiled(critic, features, init, th.tensor(w, device=init.device), deterministic)  # type: ignore[no-any-return]
                except Exception as error:  # no C++ compiler, unsupported platform, ...
                    warnings.warn(f"compile_sampler: torch.compile failed ({error!r}); using the eager sampler")
                    self._compiled_chain = self._run_chain
                    return self._run_chain(critic, features, init, w, deterministic)

            self._compiled_chain = chain_or_fallback
        return self._compiled_chain

    def __getstate__(self) -> dict[str, Any]:
        # A compiled function does not pickle (policy.save, deepcopy); it is rebuilt on first use.
        return {**self.__dict__, "_compiled_chain": None, "_starts": {}}

    def __repr__(self) -> str:
        settings = ", ".join(f"{name}={value!r}" for name, value in self.settings().items())
        return f"{type(self).__name__}({settings})"


def _find_setting(cls: type, name: str) -> _Setting:
    for klass in cls.__mro__:
        attr = vars(klass).get(name)
        if isinstance(attr, _Setting):
            return attr
    raise KeyError(name)


class PlainLangevinSampler(LangevinSampler):
    """
    LQL's sampler: ``langevin_steps`` steps of size ``step_size`` on the plain critic.

    :param langevin_steps: Langevin steps K per action
    :param settings: the settings of :class:`LangevinSampler`, by keyword
    """

    langevin_steps = _Setting(positive_int, "Langevin steps K per action")

    def schedule_of(self, settings: dict[str, Any]) -> LangevinSchedule:
        return LangevinSchedule.plain(settings["step_size"], settings["langevin_steps"])


class AnnealedLangevinSampler(LangevinSampler):
    """
    NC-LQL's sampler: ``langevin_steps_per_level`` steps on each of ``n_noise_levels`` geometric noise
    levels from ``sigma_max`` to ``sigma_min``, with α_l = ε·(σ_l/σ_{L-1})².

    :param n_noise_levels: number of noise levels L (>= 2; the last one is the clean critic)
    :param sigma_max: largest noise level σ₀
    :param sigma_min: smallest noise level σ_{L-1}
    :param langevin_steps_per_level: Langevin steps T on each level
    :param settings: the settings of :class:`LangevinSampler`, by keyword
    """

    n_noise_levels = _Setting(lambda name, value: positive_int(name, value, minimum=2), "noise levels L (>= 2)")
    sigma_max = _Setting(positive_float, "largest noise level σ₀")
    sigma_min = _Setting(positive_float, "smallest noise level σ_{L-1}")
    langevin_steps_per_level = _Setting(positive_int, "Langevin steps T per level")
    structural = ("n_noise_levels",)

    def _check_together(self, settings: dict[str, Any]) -> None:
        sigma_min, sigma_max = settings["sigma_min"], settings["sigma_max"]
        if sigma_min >= sigma_max:
            raise ValueError(
                f"`sigma_min` must be smaller than `sigma_max`, got sigma_min={sigma_min}, sigma_max={sigma_max}"
            )
        super()._check_together(settings)

    def _overflow_message(self, settings: dict[str, Any]) -> str:
        ratio = settings["sigma_max"] / settings["sigma_min"]
        return (
            f"`sigma_max` / `sigma_min` = {ratio:g}, `step_size` ({settings['step_size']:g}) and "
            "`inverse_temperature` are too large together (the top level's step is ε·(σ_max/σ_min)²)"
        )

    @property
    def n_levels(self) -> int:
        return self.n_noise_levels  # type: ignore[no-any-return]

    @property
    def sigmas(self) -> list[float]:
        """The noise ladder σ_0 > ... > σ_{L-1}."""
        return geometric_sigmas(self.sigma_max, self.sigma_min, self.n_noise_levels)

    def schedule_of(self, settings: dict[str, Any]) -> LangevinSchedule:
        sigmas = geometric_sigmas(settings["sigma_max"], settings["sigma_min"], settings["n_noise_levels"])
        return LangevinSchedule.annealed(settings["step_size"], sigmas, settings["langevin_steps_per_level"])
