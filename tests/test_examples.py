"""Every example runs in its fast mode and reaches its claim, so none can rot."""

import importlib.util
import sys
from pathlib import Path

import jax
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
sys.path.insert(0, str(EXAMPLES))  # the examples share examples/_common.py


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _restore_x64():
    # Some examples switch float64 on for themselves; keep the rest of the suite as it was.
    before = jax.config.jax_enable_x64
    yield
    jax.config.update("jax_enable_x64", before)


def test_quickstart(capsys):
    _load("quickstart").main()
    out = capsys.readouterr().out
    assert "jaxgrad.gradient(f)         [1.  1.5 2.5 3.5 4.5 5. ]" in out


def test_denoise_tv(tmp_path):
    r = _load("denoise_tv").main(fast=True, out=str(tmp_path))
    assert r["psnr_denoised"] > r["psnr_noisy"] + 3.0
    assert (tmp_path / "denoise_tv.png").stat().st_size > 10_000


def test_noisy_derivative(tmp_path):
    r = _load("noisy_derivative").main(fast=True, out=str(tmp_path))
    assert r["rms_tv"] < 0.5 * r["rms_naive"]
    assert (tmp_path / "noisy_derivative.png").exists()


def test_physics_informed(tmp_path):
    r = _load("physics_informed").main(fast=True, out=str(tmp_path))
    assert r["kappa_error"] < 0.05
    assert (tmp_path / "physics_informed.png").exists()


def test_batched_signals(tmp_path):
    r = _load("batched_signals").main(fast=True, out=str(tmp_path))
    assert r["max_diff_vs_numpy"] < 1e-3
    assert (tmp_path / "batched_signals.png").exists()


def test_image_edges(tmp_path):
    r = _load("image_edges").main(fast=True, out=str(tmp_path))
    assert 5.0 < r["mean_slope_deg"] < 30.0 and r["max_slope_deg"] < 90.0
    assert (tmp_path / "image_edges.png").exists()


def test_xarray_dates(tmp_path):
    pytest.importorskip("xarray")
    r = _load("xarray_dates").main(fast=True, out=str(tmp_path))
    assert r["max_diff_topo"] < 1e-6 and r["max_diff_goog"] < 1e-9  # xarray's own differentiate, to rounding
    assert r["gaps"] > 0 and (tmp_path / "xarray_dates.png").exists()


def test_edges_and_gaps(tmp_path):
    r = _load("edges_and_gaps").main(fast=True, out=str(tmp_path))
    assert r["modes_agree_inside"] < 1e-4 and r["mirror_slope_at_start"] == 0.0
    assert abs(r["periodic_minus_one_sided_at_start"]) > 1.0  # the recording's ends do not match
    assert r["valid_lost_masked"] == r["isolated_valid_samples"] < r["valid_lost_naive"]
    assert r["runs_checked"] >= 8 and r["worst_run_vs_numpy"] < 1e-3
    assert r["grad_finite"] and r["grad_zero_in_gaps"]
    assert (tmp_path / "edges_and_gaps.png").stat().st_size > 10_000


def test_sphere_slopes(tmp_path):
    r = _load("sphere_slopes").main(fast=True, out=str(tmp_path))
    assert 50.0 < r["mean_slope_land"] < 300.0 and r["mean_slope_sea"] < r["mean_slope_land"]  # m/km
    # The flat-Earth shortcut is off by the change of cos(latitude) across the map, and no more.
    assert 0.01 < r["flat_earth_max_rel_error"] <= 1.02 * r["expected_flat_earth_error"]
    # where=sea keeps the land out of the sea floor's slopes at the coast
    assert r["mean_slope_coast_sea_floor"] < r["mean_slope_coast_unmasked"] and r["sea_floor_defined"] > 0.8
    assert (tmp_path / "sphere_slopes.png").stat().st_size > 10_000


def test_curvilinear(tmp_path):
    r = _load("curvilinear").main(fast=True, out=str(tmp_path))
    orders = r["orders"]
    assert orders["gradient, edge_order=2"] > 1.7 and orders["laplacian, accuracy=2"] > 1.7
    assert orders["laplacian, accuracy=4"] > 3.4 and orders["gradient, edge_order=1"] > 0.9
    assert (tmp_path / "curvilinear.png").exists()
