"""tinylm/scaling.py: FLOPs per token (against a hand count and torch's own FLOP counter), the power-law
and loss-surface fits (they recover known constants from synthetic noisy points), the published numbers."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from tinylm import bench, plan
from tinylm.config import ModelConfig
from tinylm.model import TinyLM
from tinylm.scaling import (
    PUBLISHED,
    SOURCES,
    LossSurfaceFit,
    PowerLawFit,
    chinchilla_parameters,
    chinchilla_surface,
    fit_loss_surface,
    fit_power_law,
    flops_breakdown,
    forward_flops_per_token,
    frontier,
    generate_flops_per_token,
    iso_flop_minimum,
    matmul_parameters,
    published_checks,
    train_flops_per_token,
    training_cost,
)

# V = 10, T = 8, D = 16, L = 2, H = 2, F = 4·D = 64
SMALL = ModelConfig(vocab_size=10, context_len=8, d_model=16, n_layers=2, n_heads=2)


def test_flops_per_token_equal_a_hand_count_for_a_small_model():
    # Matrices used per token:  W_Q, W_K, W_V, W_O: 4 · 16 · 16 = 1024 per layer
    #                           feed-forward: 16 · 64 + 64 · 16 = 2048 per layer
    #                           two layers: 2 · (1024 + 2048) = 6144; output layer 10 · 16 = 160
    assert matmul_parameters(SMALL) == 6144 + 160 == 6304
    # Forward: 2 FLOPs per weight = 12608; attention per layer q·kᵀ over 8 keys of 16 numbers (2 · 8 · 16 =
    # 256) and the weighted sum of 8 values (256): 512 per layer, 1024 for both. 12608 + 1024 = 13632.
    assert forward_flops_per_token(SMALL) == 13632
    assert sum(flops_breakdown(SMALL).values()) == 13632
    # Training: forward + backward (twice the forward) = 3 · 13632 = 40896 = 6 · 6304 + 12 · 2 · 8 · 16.
    assert train_flops_per_token(SMALL) == 40896 == 6 * 6304 + 12 * 2 * 8 * 16
    # Generating with 4 tokens in the cache: 12608 + 2 · 2 · 2 · 4 · 16 = 13120.
    assert generate_flops_per_token(SMALL, context=4) == 13120


def test_the_count_matches_torch_s_flop_counter_on_the_model_itself():
    model = TinyLM(SMALL, seed=0)
    # The matrices of the count are exactly the model's 2-D weights (tied: the embedding is the output).
    assert matmul_parameters(SMALL) == sum(p.numel() for p in model.parameters() if p.dim() == 2)
    x = torch.randint(0, 10, (3, 8))
    with FlopCounterMode(display=False) as counter:
        model(x, return_attention=True)  # the explicit path: its attention products are plain matmuls
    assert counter.get_total_flops() == 3 * 8 * forward_flops_per_token(SMALL)
    model.train()
    with FlopCounterMode(display=False) as counter:
        model(x, x, return_attention=True).loss.backward()
    assert counter.get_total_flops() == 3 * 8 * train_flops_per_token(SMALL)


def test_there_is_one_count_of_training_flops():
    assert bench.train_flops_per_token is train_flops_per_token
    assert plan.train_flops_per_token is train_flops_per_token


def test_six_n_d_reproduces_the_published_compute_of_gpt3_and_chinchilla():
    rows = {row["model"]: row for row in published_checks()}
    # GPT-3: 6 · 175e9 · 300e9 = 3.15e23 against the 3.14e23 of Brown et al. (Table D.1).
    assert rows["gpt3"]["six_nd"] == pytest.approx(3.15e23)
    assert rows["gpt3"]["ratio"] == pytest.approx(1.0, abs=0.01)
    # Chinchilla: 6 · 70e9 · 1.4e12 = 5.88e23 against the 5.76e23 reported (2 % apart).
    assert rows["chinchilla"]["ratio"] == pytest.approx(1.02, abs=0.01)
    assert all(row["source"] in SOURCES for row in rows.values())
    assert {p["source"] for p in PUBLISHED.values()} <= set(SOURCES)


def test_the_cost_calculator_divides_six_n_d_by_the_sustained_rate():
    cost = training_cost(175e9, 300e9, here_flops=50e9, gpu_peak=312e12, utilisation=0.4)
    assert cost.flops == pytest.approx(3.15e23)
    assert cost.gpu_flops == pytest.approx(124.8e12)
    assert cost.seconds_gpu == pytest.approx(3.15e23 / 124.8e12)
    assert cost.seconds_here == pytest.approx(3.15e23 / 50e9)
    assert math.isinf(training_cost(1, 1, here_flops=0).seconds_here)


def test_the_power_law_fit_recovers_known_constants_exactly_and_from_noisy_points():
    n = np.geomspace(1e4, 1e7, 10)
    truth = 1.2 + 40.0 * n**-0.35
    exact = fit_power_law(n, truth)
    assert (exact.E, exact.A, exact.alpha) == pytest.approx((1.2, 40.0, 0.35), rel=1e-4)
    rng = np.random.default_rng(1)
    covered, alphas = [], []
    for _ in range(20):
        noisy = truth * (1 + 0.005 * rng.standard_normal(len(n)))
        fit = fit_power_law(n, noisy)
        alphas.append(fit.alpha)
        assert abs(fit.E - 1.2) < 0.1 and abs(fit.alpha - 0.35) < 0.06
        low, high = fit.band(n)
        assert np.all(low < fit.predict(n)) and np.all(fit.predict(n) < high)
        covered.append(np.mean((low <= truth) & (truth <= high)))
        # The exponent's standard error is about the spread the fits really have.
        assert 0 < fit.alpha_se < 0.1
    assert np.mean(covered) > 0.75  # a 90 % band holds the true curve most of the time
    assert abs(np.mean(alphas) - 0.35) < 0.02


def test_the_band_widens_with_the_noise_and_beyond_the_points():
    n = np.geomspace(1e4, 1e6, 6)
    truth = 1.0 + 20.0 * n**-0.3
    wiggle = np.array([1, -1, 1, -1, 1, -1], dtype=float)
    quiet = fit_power_law(n, truth * (1 + 0.002 * wiggle))
    loud = fit_power_law(n, truth * (1 + 0.02 * wiggle))
    width = lambda fit, x: np.subtract(*fit.band(x)[::-1])  # noqa: E731
    assert width(loud, [1e5])[0] > 3 * width(quiet, [1e5])[0]
    assert width(loud, [1e8])[0] > width(loud, [1e5])[0]  # extrapolating is less certain


def test_kaplan_s_pure_power_law_and_a_floor_held_at_zero():
    n = np.geomspace(1e3, 1e6, 8)
    pure = fit_power_law(n, 8.0 * n**-0.076, floor=False)
    assert (pure.E, pure.A, pure.alpha) == pytest.approx((0.0, 8.0, 0.076), rel=1e-4)
    # Points whose best floor would be negative: E stays at its bound 0 and gets no variance.
    held = fit_power_law(n, 8.0 * n**-0.076 - 0.5)
    assert held.E == 0.0 and held.E_se == 0.0 and held.dof == len(n) - 2
    assert np.all(np.isfinite(held.band(n)[0]))
    # Three points and three parameters: a curve, but no band.
    three = fit_power_law([1e4, 4e4, 1.6e5], [3.0, 2.5, 2.2])
    assert three.dof == 0 and np.isnan(three.band([1e5])[0]).all()
    with pytest.raises(ValueError):
        fit_power_law([1e4, 1e5], [3.0, 2.0])


def test_a_fit_round_trips_through_json():
    fit = fit_power_law([1e4, 4e4, 1.6e5, 6e5, 2e6], [3.1, 2.6, 2.25, 2.05, 1.98])
    again = PowerLawFit.from_dict(json.loads(json.dumps(fit.to_dict())))
    assert again.to_dict() == fit.to_dict()
    assert again.band([1e5])[0] == pytest.approx(fit.band([1e5])[0])


def test_the_loss_surface_fit_recovers_chinchilla_like_constants():
    grid_n, grid_d = np.meshgrid(np.geomspace(1e4, 2e6, 5), np.geomspace(1e5, 3e7, 5))
    n, d = grid_n.ravel(), grid_d.ravel()
    truth = LossSurfaceFit(E=0.9, A=30.0, B=60.0, alpha=0.4, beta=0.3, rel_rmse=0.0, n=0)
    exact = fit_loss_surface(n, d, truth.predict(n, d))
    assert (exact.E, exact.alpha, exact.beta) == pytest.approx((0.9, 0.4, 0.3), rel=2e-3)
    assert abs(exact.A / 30.0 - 1) < 0.02 and abs(exact.B / 60.0 - 1) < 0.02
    noisy_loss = truth.predict(n, d) * (1 + 0.003 * np.random.default_rng(2).standard_normal(len(n)))
    noisy = fit_loss_surface(n, d, noisy_loss)
    assert noisy.alpha == pytest.approx(0.4, abs=0.1) and noisy.beta == pytest.approx(0.3, abs=0.1)
    assert noisy.rel_rmse < 0.02


def test_the_compute_optimal_size_is_the_least_loss_along_six_n_d():
    surface = chinchilla_surface()
    compute = 5.76e23
    n_opt, d_opt = surface.optimal(compute)
    sizes = np.geomspace(n_opt / 30, n_opt * 30, 4001)
    numeric = sizes[np.argmin(surface.predict(sizes, compute / 6 / sizes))]
    assert numeric == pytest.approx(n_opt, rel=0.01)
    assert 6 * n_opt * d_opt == pytest.approx(compute)
    # The rule of thumb: 20 tokens a parameter.
    n = chinchilla_parameters(compute)
    assert 6 * n * (20 * n) == pytest.approx(compute)


def test_the_iso_flop_minimum_and_the_frontier():
    n = np.array([1e4, 4e4, 1.6e5, 6.4e5, 2.56e6])
    loss = 2.0 + 0.1 * (np.log(n) - np.log(1.6e5)) ** 2
    loss[-1] = 3.5  # a size far from the best does not move the parabola through the best three
    tokens = 1e12 / (6 * n)
    found = iso_flop_minimum(n[::-1], tokens[::-1], loss[::-1])  # in any order
    assert found["parameters"] == pytest.approx(1.6e5, rel=1e-6)
    assert found["tokens"] == pytest.approx(1e12 / (6 * 1.6e5), rel=1e-6)
    assert found["val_loss"] == pytest.approx(2.0)
    between = iso_flop_minimum(n, tokens, 2.0 + 0.1 * (np.log(n) - np.log(8e4)) ** 2)
    assert between["parameters"] == pytest.approx(8e4, rel=1e-6)
    assert iso_flop_minimum(n, tokens, np.log(n)) is None  # the smallest size wins: the best may be smaller
    assert iso_flop_minimum(n[:2], tokens[:2], loss[:2]) is None
    c, best = frontier([4, 1, 2, 3, 5], [2.5, 3.0, 2.8, 2.9, 2.0])
    assert list(c) == [1, 2, 4, 5] and list(best) == [3.0, 2.8, 2.5, 2.0]
