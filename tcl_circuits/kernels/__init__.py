"""The single-synapse theory of TCL as a self-contained island: memory kernels (``kernel``), the periodic
sawtooth update and learning windows (``synapse``), Markov adaptation kernels (``markov``) and the energy
cost of a kernel (``energy``). Imports nothing of the package but ``errors``."""
