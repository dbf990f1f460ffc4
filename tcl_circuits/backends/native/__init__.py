"""The native engine: the circuit IR simulated without SPICE (``engine``), built on the quasi-static network
solve (``quasistatic``), the capacitive network integrator (``node_dynamics``), the compiled cell loops
(``cell_dynamics``) and the allocator setting (``allocator``)."""
