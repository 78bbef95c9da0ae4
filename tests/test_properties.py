"""Property-based checks of the constructors: any bad value of any argument is a ValueError that names it.

Never a crash inside numpy or torch, never silence: hypothesis draws the bad values (wrong types, NaN, inf,
out-of-range numbers) for every argument of both algorithms that takes a number or a flag.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sb3_lql import LQL, NCLQL

NOT_A_NUMBER = st.one_of(st.text(max_size=5), st.none(), st.lists(st.integers(), max_size=2), st.booleans())
NOT_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])


def positive_float_bad() -> st.SearchStrategy:
    return st.one_of(NOT_A_NUMBER, NOT_FINITE, st.floats(max_value=0.0, allow_nan=False), st.just(1e39))


def positive_int_bad(minimum: int = 1) -> st.SearchStrategy:
    non_integral = st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: x != int(x))
    return st.one_of(NOT_A_NUMBER, NOT_FINITE, st.integers(max_value=minimum - 1), non_integral)


def unit_interval_bad() -> st.SearchStrategy:
    outside = st.one_of(st.floats(max_value=-1e-9, allow_nan=False), st.floats(min_value=1.0 + 1e-9, allow_nan=False))
    return st.one_of(NOT_A_NUMBER, st.just(math.nan), outside)


def flag_bad() -> st.SearchStrategy:
    return st.one_of(st.text(max_size=5), st.none(), st.integers(), st.floats(allow_nan=False))


COMMON = {
    "learning_rate": st.one_of(NOT_A_NUMBER, NOT_FINITE, st.floats(max_value=-1e-12, allow_nan=False)),
    "buffer_size": positive_int_bad(),
    "learning_starts": positive_int_bad(minimum=0),
    "batch_size": positive_int_bad(),
    "tau": unit_interval_bad(),
    "gamma": unit_interval_bad(),
    "gradient_steps": positive_int_bad().filter(lambda x: x != -1),
    "n_steps": positive_int_bad(),
    "train_freq": positive_int_bad(),
    "target_update_interval": positive_int_bad(),
    "reward_scale": positive_float_bad(),
    "inverse_temperature": positive_float_bad(),
    "step_size": positive_float_bad(),
    "n_particles": positive_int_bad(),
    "normalize_grad": flag_bad(),
    "metropolis": flag_bad(),
    "compile_sampler": flag_bad().filter(lambda x: x != "auto"),
}
OWN = {
    LQL: {"langevin_steps": positive_int_bad()},
    NCLQL: {
        "n_noise_levels": positive_int_bad(minimum=2),
        "sigma_max": positive_float_bad(),
        "sigma_min": positive_float_bad(),
        "langevin_steps_per_level": positive_int_bad(),
    },
}
CASES = [(algo, name, strategy) for algo in (LQL, NCLQL) for name, strategy in {**COMMON, **OWN[algo]}.items()]


@pytest.mark.parametrize("algo, name, strategy", CASES, ids=[f"{a.__name__}-{n}" for a, n, _ in CASES])
def test_any_bad_value_is_a_value_error_naming_the_argument(algo, name, strategy):
    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(value=strategy)
    def check(value):
        with pytest.raises(ValueError, match=f"`{name}"):
            algo("MlpPolicy", "Pendulum-v1", policy_kwargs=dict(net_arch=[8]), **{name: value})

    check()
