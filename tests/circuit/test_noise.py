"""The thermal noise elements (circuit/noise.py): seeded white samples, and their 1/f shaping."""

import dataclasses

import numpy as np
import pytest

from tcl_circuits.circuit.noise import CellNoise


def test_flicker_shaping_gives_a_density_of_one_plus_corner_over_f_and_leaves_white_noise_as_it_was():
    white = CellNoise(
        nodes=("u0",) * 400,
        r_k_ohm=np.full(400, 1e3),
        temperature_k=300.0,
        step_s=5e-8,
        stop_s=1e-4,
        seed=(5,),
    )
    pink = dataclasses.replace(white, flicker_corner_hz=2e6)
    z = np.random.default_rng([5]).standard_normal((400, white.knots))
    np.testing.assert_array_equal(white.samples(), z * white.rms_a[:, None])  # white: the draws as before
    density = np.mean(np.abs(np.fft.rfft(pink.samples(), axis=1)) ** 2, axis=0)
    flat = np.mean(np.abs(np.fft.rfft(white.samples(), axis=1)) ** 2, axis=0)
    f = np.fft.rfftfreq(white.knots, white.step_s)
    for low, high in ((1e4, 1e5), (1e5, 1e6), (2e6, 1e7)):  # 400 records: band means within a few per cent
        band = (f >= low) & (f < high)
        expected = np.mean(1 + 2e6 / f[band])
        assert np.mean(density[band]) / np.mean(flat[band]) == pytest.approx(expected, rel=0.1)
