"""The ``tcl-circuits`` command line."""
