"""The smoke suite's logic, importable so that tests can run it against the stand-in's fault modes."""
