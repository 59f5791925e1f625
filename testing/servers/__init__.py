"""The hand-written local HTTP servers, all on one base (`LocalServer`: 127.0.0.1, a free port,
quiet handlers, start/stop): FakePrometheus (scripted answers), FaultProxy (one fault per test in
front of a real backend), CountingProxy (what triage sends, for the load benches). The Kubernetes
fakes build on the same base in `testing.k8s`."""

from testing.servers.base import LocalServer

__all__ = ["LocalServer"]
