"""A cluster, reached like kubectl reaches it: `connect` (kubeconfig or in-cluster, contexts,
exec plugins under a deadline), `read` (what `health` lists and the pod logs, parsed by
`parse`), `apply` (the two Deployment PATCHes of `--apply`). The reads connect without the SDK
where the kubeconfig allows (`direct`: PyYAML, `ssl`, `http.client`); the SDK is imported only
for what that does not handle, and only when a cluster is actually asked."""

from typing import TYPE_CHECKING, Any

from triage.sources.kubernetes.connect import (
    ExecPluginError,
    KubeconfigError,
    connect,
    run_exec_plugin,
)
from triage.sources.kubernetes.read import KubernetesSource

# `apply` (the PATCHes of `mitigate --apply`) is imported on first use (PEP 562): `health` never
# needs it (issue 17).
if TYPE_CHECKING:
    from triage.sources.kubernetes.apply import KubeActions


def __getattr__(name: str) -> Any:
    if name == "KubeActions":
        from triage.sources.kubernetes.apply import KubeActions

        return KubeActions
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ExecPluginError", "KubeActions", "KubeconfigError", "KubernetesSource", "connect", "run_exec_plugin"]
