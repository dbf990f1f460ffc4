"""Technology descriptions: what a CMOS process and a programmable device offer a TCL cell, every number with
its source (``technology.model``; presets in ``technology/presets/*.toml``)."""
