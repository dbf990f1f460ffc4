"""Studies beside learning: feasibility reports, parameter sweeps on Dask and their specs, noise studies."""
