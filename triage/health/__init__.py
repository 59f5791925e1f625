"""Phase 2 quick checks: per-resource checks (pod, deployment, HPA, node, container, endpoint)
and the error-log scan, each turning observed facts into `Finding`s. Models only: no SDK,
no typer, no rich; the sources hand in `triage.models.health` values."""
