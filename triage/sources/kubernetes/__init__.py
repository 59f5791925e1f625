"""A cluster, reached like kubectl reaches it: `connect` (kubeconfig or in-cluster, contexts,
exec plugins under a deadline), `read` (what `health` lists and the pod logs, parsed by
`parse`), `apply` (the two Deployment PATCHes of `--apply`). The SDK is imported only when a
cluster is actually asked, so importing this package stays cheap."""

from triage.sources.kubernetes.apply import KubeActions
from triage.sources.kubernetes.connect import (
    ExecPluginError,
    KubeconfigError,
    connect,
    run_exec_plugin,
)
from triage.sources.kubernetes.read import KubernetesSource

__all__ = ["ExecPluginError", "KubeActions", "KubeconfigError", "KubernetesSource", "connect", "run_exec_plugin"]
