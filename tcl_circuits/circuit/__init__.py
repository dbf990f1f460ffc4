"""The circuit IR and the one compiler: NetworkSpec + one sample -> Circuit (``ir``), the sawtooth drive
(``drive``) and ``compile`` (resistor cycles, free/clamped phases, memristor stream chunks)."""
