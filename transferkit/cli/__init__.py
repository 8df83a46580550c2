"""The ``transferkit`` command line: thin commands, each one library call."""
