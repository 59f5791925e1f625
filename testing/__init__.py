"""What the tests and the benches share, outside the `triage` package (not in the wheel):
scenario generators (`scenarios`), real backend processes (`backends`), the hand-written local
HTTP servers on one base (`servers`, `k8s`), the Docker Engine fixture (`docker_engine`), and
the in-process CLI driver (`cli`)."""
