"""Published memristor parameter sets, each citing its source, and lookup by name."""

from __future__ import annotations

import dataclasses

from tcl_circuits.devices.models import Device, LinearDriftDevice, VteamDevice, WindowKind, YakopcicDevice
from tcl_circuits.errors import ConfigError

# --- presets ---------------------------------------------------------------------------------------------

VTEAM_KVATINSKY_2015 = VteamDevice(
    r_on_ohm=50.0,
    r_off_ohm=1000.0,
    v_on_v=-0.2,
    v_off_v=0.02,
    k_on_per_s=-10.0 / 3e-9,
    k_off_per_s=5e-4 / 3e-9,
    alpha_on=3.0,
    alpha_off=1.0,
    window=WindowKind.BIOLEK,
    window_p=10,
)
"""VTEAM, Kvatinsky et al. IEEE TCAS-II 62(8) 2015: R_on 50 ohm, R_off 1 kohm, v_on -0.2 V, v_off 0.02 V,
k_on -10 m/s, k_off 5e-4 m/s over a 3 nm state range, alpha_on 3, alpha_off 1 (the reference parameter set
as distributed with MemTorch's VTEAM model, Lammie et al. 2022). The window (Biolek, p = 10: flat over the working states, so it
bounds x without making potentiation and depression unequal there) is our choice: VTEAM leaves it open."""

LINEAR_DRIFT_STRUKOV_2008 = LinearDriftDevice(
    r_on_ohm=100.0,
    r_off_ohm=16e3,
    k_up_per_c=1e-14 * 100.0 / (10e-9) ** 2,
    k_down_per_c=1e-14 * 100.0 / (10e-9) ** 2,
    window=WindowKind.RECTANGULAR,
    window_p=1,
)
"""HP linear ion drift, Strukov et al. Nature 453 (2008): R_on 100 ohm, R_off 16 kohm, D 10 nm,
mu_v 1e-14 m^2/(V s), so k = mu_v R_on / D^2 = 1e4 per coulomb; no window (state clipped to [0, 1])."""

BIOLEK_2009 = dataclasses.replace(LINEAR_DRIFT_STRUKOV_2008, window=WindowKind.BIOLEK, window_p=10)
"""HP linear drift (Strukov et al. 2008 parameters) with the Biolek window, Biolek et al. Radioengineering
18(2) 2009; p = 10 (the paper leaves p free; 10 is taken here)."""

JOGLEKAR_2009 = dataclasses.replace(LINEAR_DRIFT_STRUKOV_2008, window=WindowKind.JOGLEKAR, window_p=10)
"""HP linear drift (Strukov et al. 2008 parameters) with the Joglekar window, Joglekar & Wolf Eur. J. Phys.
30 (2009); p = 10 (the paper leaves p free)."""

YAKOPCIC_2011 = YakopcicDevice(
    a1_a=0.17,
    a2_a=0.17,
    b_per_v=0.05,
    vp_v=0.16,
    vn_v=0.15,
    ap_per_s=4000.0,
    an_per_s=4000.0,
    xp=0.3,
    xn=0.5,
    alpha_p=1.0,
    alpha_n=5.0,
    eta=1,
)
"""Yakopcic et al. IEEE EDL 32(10) 2011, fit to the Oblea et al. device: a1 = a2 = 0.17, b 0.05, Vp 0.16 V,
Vn 0.15 V, Ap = An = 4000, xp 0.3, xn 0.5, alpha_p 1, alpha_n 5, eta 1."""

VTEAM_SYMMETRIC = dataclasses.replace(
    VTEAM_KVATINSKY_2015,
    v_on_v=-VTEAM_KVATINSKY_2015.v_off_v,
    k_on_per_s=-VTEAM_KVATINSKY_2015.k_off_per_s,
    alpha_on=VTEAM_KVATINSKY_2015.alpha_off,
)
"""Hypothetical, not a published fit: VTEAM with both branches equal to the OFF branch of the Kvatinsky et
al. 2015 set above (v_on = -v_off = -0.02 V, k_on = -k_off, alpha_on = alpha_off = 1). It isolates what the
published set's branch asymmetry (alpha_on 3 vs alpha_off 1, thresholds 10x apart) does to learning."""

PRESETS: dict[str, Device] = {
    "vteam": VTEAM_KVATINSKY_2015,
    "vteam_symmetric": VTEAM_SYMMETRIC,
    "hp": LINEAR_DRIFT_STRUKOV_2008,
    "biolek": BIOLEK_2009,
    "joglekar": JOGLEKAR_2009,
    "yakopcic": YAKOPCIC_2011,
}


def preset(name: str) -> Device:
    """A device preset by name (vteam, hp, biolek, joglekar, yakopcic)."""
    try:
        return PRESETS[name.strip().lower()]
    except KeyError:
        raise ConfigError(f"unknown memristor model {name!r}; available: {', '.join(PRESETS)}") from None
