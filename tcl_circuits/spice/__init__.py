"""SPICE text: the netlist writer and readers of ngspice output."""
