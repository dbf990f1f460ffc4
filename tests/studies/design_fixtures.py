"""A lenient process for design-search tests: no noise to speak of, no offset, any capacitor, a free multiplier,
so that the knobs near today's defaults pass every hard constraint and a tiny search has designs to score."""

from __future__ import annotations

from pathlib import Path

from tcl_circuits.learning.design_file import Knob

LENIENT_CMOS = """kind = "cmos"
name = "lenient"
description = "a test process that any reasonable design satisfies"
temperature_k = { value = 1e-3, source = "test" }
supply_v = { value = 5.0, source = "test" }
capacitor_density_f_per_m2 = { value = 1.0, source = "test" }
max_capacitance_per_cell_f = { value = 1e-6, source = "test" }
ota_gm_over_id_per_v = { value = 40.0, source = "test" }
multiplier_power_per_hz_w = { value = 0.0, source = "test" }
adc_energy_per_step_j = { value = 1e-15, source = "test" }
adc_bits = { value = 8, source = "test" }

[resistor.metal]
flicker_corner_hz = { value = 0.0, source = "test" }

[comparator.latch]
offset_sigma_v = { value = 0.0, source = "test" }
energy_per_decision_j = { value = 1e-14, source = "test" }

[comparator.offset_stored]
offset_sigma_v = { value = 0.0, source = "test" }
energy_per_decision_j = { value = 1e-14, source = "test" }

[comparator.auto_zeroed]
offset_sigma_v = { value = 0.0, source = "test" }
energy_per_decision_j = { value = 1e-14, source = "test" }

[mismatch]
r_k = { value = 0.0, source = "test" }
c_k = { value = 0.0, source = "test" }
gain = { value = 0.0, source = "test" }
clamp = { value = 0.0, source = "test" }
"""

NEAR_DEFAULTS = (
    Knob("drive.tau_rise_s", 1e-5, 2e-5),
    Knob("drive.tau_fall_s", 1.2e-4, 2e-4),
    Knob("drive.beta_max", 0.4, 0.6),
    Knob("cell.tau_k_s", 1e-6, 2e-6),
    Knob("cell.threshold_headroom", 0.8, 2.0),
    Knob("cell.analog.threshold_quiescent_a", 1e-5, 2e-5),
    Knob("cell.analog.integrator_quiescent_a", 5e-5, 1e-4),
    Knob("cell.analog.integrator_r_ohm", 1e6, 1e7),
)
"""A narrow search space around a design that learns on the 4x4 lattice and passes the lenient process, its
cycle short against tau_K (few noise samples a cycle: quick noisy runs)."""

TINY_RUN = ["--network", "lattice:4x4", "--train-samples", "24", "--test-samples", "6", "--epochs", "1"]


def lenient_tech(folder: Path) -> str:
    """``PROCESS+DEVICE`` of the lenient process (written to ``folder``) and the ideal device."""
    path = folder / "lenient.toml"
    path.write_text(LENIENT_CMOS)
    return f"{path}+ideal"
