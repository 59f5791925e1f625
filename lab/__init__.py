"""The triage incident lab: a real service, a real pool, real faults, recorded incidents."""
