"""triage: observability-driven incident triage."""

# The one place the version is written: pyproject.toml reads it (hatch's dynamic version),
# `triage --version` prints it and every incident record names it.
__version__ = "0.1.0"
