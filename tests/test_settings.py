"""Every sampler setting lives in one place: set on a live model, it acts at the next action and survives save/load."""

from __future__ import annotations

import numpy as np
import pytest
import torch as th
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import configure
from stable_baselines3.common.utils import get_linear_fn

from sb3_lql import NCLQL
from sb3_lql.common.langevin import AUTO_COMPILE_MIN_STEPS
from tests.conftest import tiny_kwargs


def make(algo, **overrides):
    # normalize_grad=False and a moderate w: the greedy action then depends smoothly on w and the step size.
    return algo("MlpPolicy", "Pendulum-v1", seed=0, **tiny_kwargs(algo, normalize_grad=False, **overrides))


def greedy(model, n=6):
    obs = np.random.default_rng(0).uniform(-1, 1, size=(n, 3)).astype(np.float32)
    return model.predict(obs, deterministic=True)[0]


@pytest.mark.parametrize("name, value", [("inverse_temperature", 7.0), ("step_size", 3e-2)])
def test_setting_a_live_model_changes_the_next_action(algo, name, value):
    model = make(algo, inverse_temperature=2.0, step_size=1e-2)
    before = greedy(model)
    setattr(model, name, value)
    assert getattr(model.policy.sampler, name) == value
    assert name not in vars(model) and name not in vars(model.policy)  # stored once, in the sampler
    after = greedy(model)
    assert not np.allclose(before, after)
    built_with_it = make(algo, **{"inverse_temperature": 2.0, "step_size": 1e-2, name: value})
    np.testing.assert_array_equal(after, greedy(built_with_it))  # as if the model had been built with it


def test_live_settings_survive_save_and_load(algo, tmp_path):
    model = make(algo)
    model.inverse_temperature = 7.0
    model.n_particles = 3
    action = greedy(model)
    model.save(tmp_path / "model")
    loaded = algo.load(tmp_path / "model")
    assert (loaded.inverse_temperature, loaded.n_particles) == (7.0, 3)
    np.testing.assert_array_equal(action, greedy(loaded))
    assert "inverse_temperature" not in vars(model)  # saving did not leave a second copy behind


def test_load_and_custom_objects_replace_settings_through_their_checks(algo, tmp_path):
    make(algo).save(tmp_path / "model")
    assert algo.load(tmp_path / "model", inverse_temperature=3.0).inverse_temperature == 3.0
    assert algo.load(tmp_path / "model", custom_objects={"step_size": 0.5}).step_size == 0.5
    with pytest.raises(ValueError, match="inverse_temperature"):
        algo.load(tmp_path / "model", inverse_temperature=-5)
    with pytest.raises(ValueError, match="n_particles"):
        algo.load(tmp_path / "model", custom_objects={"n_particles": 0})


@pytest.mark.parametrize(
    "name, value",
    [("inverse_temperature", -1.0), ("inverse_temperature", float("nan")), ("step_size", 0), ("metropolis", "no")],
)
def test_a_bad_live_value_is_refused_and_leaves_the_setting_alone(algo, name, value):
    model = make(algo)
    old = getattr(model, name)
    with pytest.raises(ValueError, match=name):
        setattr(model, name, value)
    assert getattr(model, name) == old


def test_noise_ladder_settings_are_checked_together_and_the_level_count_is_fixed():
    model = make(NCLQL)
    with pytest.raises(ValueError, match="sigma_min"):
        model.sigma_min = model.sigma_max
    model.sigma_max, model.sigma_min = 0.5, 0.05
    assert model.sampler.sigmas[0] == pytest.approx(0.5) and model.sampler.sigmas[-1] == pytest.approx(0.05)
    with pytest.raises(ValueError, match="n_noise_levels"):
        model.n_noise_levels = 7  # the critic has one embedding per level
    assert model.n_noise_levels == 3


def test_inverse_temperature_schedule(algo, tmp_path):
    schedule = get_linear_fn(50.0, 5.0, 1.0)
    model = make(algo, inverse_temperature=schedule)
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(60)
    w = model.sampler.current_inverse_temperature()
    assert w == pytest.approx(schedule(model._current_progress_remaining))
    logged = model.logger.name_to_value["train/inverse_temperature"]  # at the last train() call
    assert 5.0 <= w <= logged < 50.0 * 0.5
    model.save(tmp_path / "model")
    assert algo.load(tmp_path / "model").sampler.current_inverse_temperature() == pytest.approx(w)
    with pytest.raises(ValueError, match=r"inverse_temperature.*at progress remaining 0"):
        make(algo, inverse_temperature=get_linear_fn(1.0, -1.0, 1.0))  # ends below zero: refused up front


class _RecordCompiling(BaseCallback):
    def _on_step(self) -> bool:
        self.compiling = self.model.sampler.compiling
        return False  # stop at once: nothing is sampled during the warm-up, so nothing is compiled


@pytest.mark.parametrize(
    "choice, steps, expected",
    [("auto", AUTO_COMPILE_MIN_STEPS + 1000, True), ("auto", 20_000, False), (False, 10**6, False)],
)
def test_auto_compile_only_inside_long_learn_calls(algo, choice, steps, expected):
    model = make(algo, learning_starts=1000, compile_sampler=choice)
    callback = _RecordCompiling()
    model.learn(steps, callback=callback)
    assert callback.compiling is expected
    assert model.sampler.compiling is False  # back to eager once learn() returns


def test_train_does_not_sync_with_the_device(algo, monkeypatch, tmp_path):
    """Statistics stay on the device during train(): read once when the logger dumps, not per gradient step."""
    model = make(algo, metropolis=True)
    model.learn(30)
    model.set_logger(configure(str(tmp_path), ["csv"]))
    syncs = []
    for method in ("item", "tolist", "__bool__", "numpy", "cpu"):
        original = getattr(th.Tensor, method)

        def counting(self, *args, _original=original, _name=method, **kwargs):
            syncs.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(th.Tensor, method, counting)
    model.train(gradient_steps=5, batch_size=16)
    assert syncs == []
    monkeypatch.undo()
    model.dump_logs()  # one read of everything gathered on the device
    header, row = (tmp_path / "progress.csv").read_text().splitlines()[:2]
    logged = dict(zip(header.split(","), row.split(","), strict=True))
    assert np.isfinite(float(logged["train/td_loss"])) and 0 <= float(logged["train/acceptance_rate"]) <= 1


def test_the_policy_saves_and_loads_alone_with_its_sampler(algo, tmp_path):
    model = make(algo, inverse_temperature=3.0)
    model.policy.save(tmp_path / "policy.pth")
    policy = type(model.policy).load(tmp_path / "policy.pth")
    assert policy.sampler.settings() == model.sampler.settings() and policy.sampler is not model.sampler
    obs = np.random.default_rng(0).uniform(-1, 1, size=(4, 3)).astype(np.float32)
    np.testing.assert_array_equal(policy.predict(obs, deterministic=True)[0], greedy(model, 4))


def test_compile_sampler_in_policy_kwargs_still_works_with_a_warning(algo):
    """0.1.0 took compile_sampler in policy_kwargs: such code and such saved models keep working."""
    with pytest.warns(FutureWarning, match="compile_sampler"):
        model = algo("MlpPolicy", "Pendulum-v1", **tiny_kwargs(algo, policy_kwargs=dict(compile_sampler=False)))
    assert model.compile_sampler is False
