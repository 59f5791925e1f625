"""The lab's node agent: what cAdvisor and kube-state-metrics would say about the workers.

There is no kubelet here, so this small exporter reads the worker's cgroup v1 files
(``lab.cgroups``) and the supervisor's state file, and exposes them under cAdvisor's and
kube-state-metrics' own metric names and labels (``namespace``, ``pod``, ``container``):

- ``/metrics/cadvisor``: ``container_cpu_usage_seconds_total``, ``container_spec_cpu_quota``,
  ``container_spec_cpu_period``, ``container_cpu_cfs_periods_total``,
  ``container_cpu_cfs_throttled_periods_total``, ``container_cpu_cfs_throttled_seconds_total``,
  ``container_memory_working_set_bytes``, ``container_memory_usage_bytes``,
  ``container_memory_rss``, ``container_spec_memory_limit_bytes``, ``container_oom_events_total``;
- ``/metrics/kube-state-metrics``: ``kube_pod_container_status_restarts_total``,
  ``kube_pod_container_status_last_terminated_reason{reason}``, ``kube_pod_container_status_ready``,
  ``kube_pod_container_resource_limits{resource}``, ``kube_deployment_metadata_generation``,
  ``kube_deployment_status_observed_generation``, ``kube_deployment_spec_replicas``,
  ``kube_deployment_status_replicas_available``.

The state file is JSON written by the supervisor: ``{"containers": [{"namespace", "pod",
"container", "deployment", "image", "cgroup": {"cpu": path, "cpuacct": path, "memory":
path}, "restarts", "last_terminated_reason", "ready", "generation"}]}``.

Run: ``python -m lab.agent --port 9100 --state FILE``.
"""

from __future__ import annotations

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from lab.cgroups import Cgroup

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _labels(**labels: str) -> str:
    parts = []
    for k, v in labels.items():
        v = str(v).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
        parts.append(f'{k}="{v}"')
    return "{" + ",".join(parts) + "}"


def _num(v: float) -> str:
    return repr(float(v)) if isinstance(v, float) else str(v)


class Exposition:
    def __init__(self) -> None:
        self.families: dict[str, tuple[str, str, list[str]]] = {}

    def add(self, name: str, kind: str, help_: str, labels: dict, value: float) -> None:
        fam = self.families.setdefault(name, (kind, help_, []))
        fam[2].append(f"{name}{_labels(**labels)} {_num(value)}")

    def text(self) -> str:
        out = []
        for name, (kind, help_, lines) in self.families.items():
            out.append(f"# HELP {name} {help_}\n# TYPE {name} {kind}\n")
            out.extend(line + "\n" for line in lines)
        return "".join(out)


def read_state(path: Path) -> list[dict]:
    try:
        return json.loads(path.read_text()).get("containers", [])
    except (OSError, ValueError):
        return []


def cadvisor(containers: list[dict]) -> str:
    e = Exposition()
    for c in containers:
        paths = c.get("cgroup") or {}
        if not paths:
            continue
        group = Cgroup(c["container"], {k: Path(v) for k, v in paths.items()})
        try:
            u = group.usage()
        except (OSError, ValueError, KeyError):
            continue    # the group is being torn down
        base = {"namespace": c["namespace"], "pod": c["pod"], "container": c["container"],
                "image": c.get("image", ""), "id": c.get("id", "")}
        e.add("container_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed in seconds.",
              {**base, "cpu": "total"}, u.cpu_seconds)
        if u.quota_us > 0:
            e.add("container_spec_cpu_quota", "gauge", "CPU quota of the container.", base, u.quota_us)
        e.add("container_spec_cpu_period", "gauge", "CPU period of the container.", base, u.period_us)
        e.add("container_cpu_cfs_periods_total", "counter", "Number of elapsed enforcement period intervals.",
              base, u.nr_periods)
        e.add("container_cpu_cfs_throttled_periods_total", "counter", "Number of throttled period intervals.",
              base, u.nr_throttled)
        e.add("container_cpu_cfs_throttled_seconds_total", "counter",
              "Total time duration the container has been throttled.", base, u.throttled_seconds)
        e.add("container_memory_working_set_bytes", "gauge", "Current working set in bytes.", base, u.working_set)
        e.add("container_memory_usage_bytes", "gauge", "Current memory usage in bytes, including all memory "
              "regardless of when it was accessed.", base, u.memory_usage)
        e.add("container_memory_rss", "gauge", "Size of RSS in bytes.", base, u.rss)
        if u.memory_limit < (1 << 60):
            e.add("container_spec_memory_limit_bytes", "gauge", "Memory limit for the container.", base,
                  u.memory_limit)
        e.add("container_oom_events_total", "counter", "Count of out of memory events observed for the container.",
              base, u.oom_kills)
    return e.text()


def kube_state(containers: list[dict]) -> str:
    e = Exposition()
    seen_deployments: set[tuple[str, str]] = set()
    for c in containers:
        pod = {"namespace": c["namespace"], "pod": c["pod"], "container": c["container"]}
        e.add("kube_pod_container_status_restarts_total", "counter",
              "The number of container restarts per container.", pod, int(c.get("restarts", 0)))
        reason = c.get("last_terminated_reason")
        if reason:
            e.add("kube_pod_container_status_last_terminated_reason", "gauge",
                  "Describes the last reason the container was in terminated state.", {**pod, "reason": reason}, 1)
        e.add("kube_pod_container_status_ready", "gauge", "Describes whether the containers readiness check "
              "succeeded.", pod, 1 if c.get("ready", True) else 0)
        for resource, unit, value in (("cpu", "core", c.get("cpu_limit")), ("memory", "byte", c.get("memory_limit"))):
            if value:
                e.add("kube_pod_container_resource_limits", "gauge", "The number of requested limit resource by a "
                      "container.", {**pod, "resource": resource, "unit": unit}, float(value))
        dep = c.get("deployment")
        if dep and (c["namespace"], dep) not in seen_deployments:
            seen_deployments.add((c["namespace"], dep))
            d = {"namespace": c["namespace"], "deployment": dep}
            gen = int(c.get("generation", 1))
            e.add("kube_deployment_metadata_generation", "gauge",
                  "Sequence number representing a specific generation of the desired state.", d, gen)
            e.add("kube_deployment_status_observed_generation", "gauge",
                  "The generation observed by the deployment controller.", d, gen)
            e.add("kube_deployment_spec_replicas", "gauge", "Number of desired pods for a deployment.", d, 1)
            e.add("kube_deployment_status_replicas_available", "gauge",
                  "The number of available replicas per deployment.", d, 1 if c.get("ready", True) else 0)
    return e.text()


def make_handler(state: Path):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.path.startswith("/metrics/cadvisor"):
                body = cadvisor(read_state(state))
            elif self.path.startswith("/metrics/kube-state-metrics"):
                body = kube_state(read_state(state))
            elif self.path in ("/", "/health"):
                body = "ok\n"
            else:
                self.send_error(404)
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lab.agent", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", type=Path, required=True)
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(args.state))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
