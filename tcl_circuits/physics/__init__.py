"""Physics shared by rules, backends and reports: exact steady states and gradients of resistor networks
(``linear``) and dissipated energy (``energy``)."""
