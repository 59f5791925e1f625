"""The local Kubernetes API servers (`FakeKubeAPI` for what `health` reads, `FakeKubeApply` for
what `--apply` writes), the manifests they serve, and a generated fleet for the load benches."""

from testing.k8s.objects import (
    MANIFESTS,
    RESOURCES,
    Resource,
    kubeconfig,
    load_logs,
    load_manifests,
    rfc3339,
    status_body,
)
from testing.k8s.server import FakeKubeAPI

__all__ = ["MANIFESTS", "RESOURCES", "FakeKubeAPI", "Resource", "kubeconfig", "load_logs", "load_manifests",
           "rfc3339", "status_body"]
