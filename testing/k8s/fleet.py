"""A large namespace for the benchmark and the bound tests: N pods behind N/10 deployments with
HPAs, two events per pod, nodes, and every `crash_every`-th pod crash-looping with a log."""

from __future__ import annotations

import time

from testing.k8s.objects import rfc3339


# Kept whole: the objects of one namespace written out kind by kind (nodes, deployments, HPAs, pods,
# events): long by content, not by logic.
def fleet(pods: int, *, namespace: str = "bench", crash_every: int = 20, nodes: int = 20,
          now: float | None = None) -> tuple[list[dict], dict[tuple[str, str, str, bool], str]]:
    now = time.time() if now is None else now
    t = lambda ago: rfc3339(now - ago)  # noqa: E731
    objects: list[dict] = []
    logs: dict[tuple[str, str, str, bool], str] = {}
    for n in range(nodes):
        objects.append({"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"node-{n:03d}"},
                        "status": {"conditions": [
                            {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory"},
                            {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure"},
                            {"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID"},
                            {"type": "Ready", "status": "True", "reason": "KubeletReady"}]}})
    apps = max(1, pods // 10)
    for a in range(apps):
        app = f"svc-{a:04d}"
        replicas = 10
        objects.append({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": app, "namespace": namespace, "generation": 1,
                         "labels": {"app.kubernetes.io/name": app}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app.kubernetes.io/name": app}},
                     "template": {"metadata": {"labels": {"app.kubernetes.io/name": app}},
                                  "spec": {"containers": [{"name": "app", "image": f"registry.local/{app}:1.0"}]}}},
            "status": {"observedGeneration": 1, "replicas": replicas, "updatedReplicas": replicas,
                       "readyReplicas": replicas, "availableReplicas": replicas,
                       "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                                      {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]}})
        objects.append({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": app, "namespace": namespace},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app},
                     "minReplicas": 2, "maxReplicas": 20,
                     "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                         "type": "Utilization", "averageUtilization": 70}}}]},
            "status": {"currentReplicas": replicas, "desiredReplicas": replicas,
                       "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {
                           "averageUtilization": 40}}}],
                       "conditions": [{"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale"},
                                      {"type": "ScalingActive", "status": "True", "reason": "ValidMetricFound"}]}})
    for i in range(pods):
        app = f"svc-{min(i // 10, apps - 1):04d}"
        name = f"{app}-6d5f7c9b8-{i:05d}"
        crash = crash_every > 0 and i % crash_every == crash_every - 1
        container: dict = {"name": "app", "ready": not crash, "started": not crash, "restartCount": 9 if crash else 0,
                           "image": f"registry.local/{app}:1.0", "imageID": "sha256:0",
                           "containerID": f"containerd://{i:064x}"}
        if crash:
            container["state"] = {"waiting": {"reason": "CrashLoopBackOff",
                                              "message": f"back-off 5m0s restarting failed container=app pod={name}"}}
            container["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": t(200),
                                                     "finishedAt": t(120)}}
            logs[(namespace, name, "app", True)] = (
                "INFO starting\nTraceback (most recent call last):\n  File \"/app/main.py\", line 3, in <module>\n"
                "ConnectionError: upstream refused\n")
        else:
            container["state"] = {"running": {"startedAt": t(86400)}}
        objects.append({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "creationTimestamp": t(86400),
                         "labels": {"app.kubernetes.io/name": app, "pod-template-hash": "6d5f7c9b8"},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                              "name": f"{app}-6d5f7c9b8", "uid": "0", "controller": True}]},
            "spec": {"nodeName": f"node-{i % nodes:03d}",
                     "containers": [{"name": "app", "image": f"registry.local/{app}:1.0"}]},
            "status": {"phase": "Running", "podIP": f"10.0.{i // 250}.{i % 250}", "startTime": t(86400),
                       "conditions": [{"type": "Ready", "status": "False" if crash else "True"},
                                      {"type": "PodScheduled", "status": "True"}],
                       "containerStatuses": [container]}})
        for k, (reason, message, kind) in enumerate((
                ("Pulled", f"Container image \"registry.local/{app}:1.0\" already present on machine", "Normal"),
                (("BackOff", "Back-off restarting failed container app", "Warning") if crash else
                 ("Started", "Started container app", "Normal")))):
            objects.append({
                "apiVersion": "v1", "kind": "Event",
                "metadata": {"name": f"{name}.{k:04x}", "namespace": namespace},
                "involvedObject": {"kind": "Pod", "namespace": namespace, "name": name, "apiVersion": "v1"},
                "reason": reason, "message": message, "type": kind, "count": 1 + 30 * crash,
                "firstTimestamp": t(3000), "lastTimestamp": t(60 if crash else 3000),
                "source": {"component": "kubelet"}})
    return objects, logs
