"""tcl_circuits: Temporal Contrastive Learning in resistor and memristor circuits.

Networks (networkx graphs) compile into SPICE netlists with an integral-feedback cell on every learning
edge and sawtooth clamps on the outputs; ngspice (through PySpice, in worker processes) runs them under a
Python controller that presents training samples one after another.
"""

__version__ = "0.1.0"
