"""triage: observability-driven incident triage."""

__version__ = "0.1.0"
