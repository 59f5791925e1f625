"""The emitters: one per metric family, each writing what its exporter would have exposed."""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence

from testing.scenarios.generator.core import ServiceCore
from testing.scenarios.generator.dataset import _Carry, lognormal_mean
from testing.scenarios.generator.spec import DEFAULT_DB_OPS, DEFAULT_DB_P50, DEFAULT_DB_P95, DEFAULT_LOCKS, Dependency
from testing.scenarios.generator.vocabulary import DB_OPERATIONS, PG_LOCK_MODES


class ServiceGen(ServiceCore):
    # ---- main -------------------------------------------------------------------------
    # Each family's emitter, in the order the dataset has always been written in; "client" and
    # "alerts" emit only when the spec has dependencies or alerts to write.
    _EMITTERS = (("http", "emit_http"), ("inflight", "emit_inflight"), ("db", "emit_db"), ("pool", "emit_pool"),
                 ("process", "emit_process"), ("client", "emit_client"), ("cadvisor", "emit_cadvisor"),
                 ("ksm", "emit_ksm"), ("hpa", "emit_hpa"), ("postgres", "emit_postgres"),
                 ("pgbouncer", "emit_pgbouncer"), ("alerts", "emit_alerts"))

    def run(self) -> None:
        # The phases draw from self.rng in this order (pods, then requests): reordering them
        # would change every generated series and so every figure measured on them.
        self._pods()
        self._service_quantities()
        self._requests()
        self._resources()
        sp = self.spec
        for family, emitter in self._EMITTERS:
            if family not in self.fam:
                continue
            if (family == "client" and not sp.dependencies) or (family == "alerts" and not sp.alerts):
                continue
            getattr(self, emitter)()

    def emit_http(self) -> None:
        sp = self.spec
        cdfs = self.cdf_rows(self.lat50, self.lat95)
        statuses = ["200", *sp.error_statuses]
        for i in range(sp.pods):
            base = self.app_labels(i)
            for h, (handler, method, _) in enumerate(self.handlers):
                for s in statuses:
                    self.add("http_requests", "http_requests_total",
                             [("handler", handler), *base, ("method", method), ("status", s)],
                             self.counter(i, self.req_hs[i][h][s], integer=True))
                self.histogram("http_request_duration_seconds", i,
                               [("handler", handler), *base], self.req_h[i][h], cdfs, self.lat_mean)

    def emit_inflight(self) -> None:
        sp = self.spec
        over = self.sample(sp.inflight, "inflight") if sp.inflight is not None else None
        for i in range(sp.pods):
            vals: list = []
            for k in range(self.n):
                if not self.present[i][k]:
                    vals.append(None)
                elif over is not None:
                    vals.append(str(int(round(over[k] * self.podf[i]))))
                else:
                    rps_pod = self.req[i][k] / self.step
                    vals.append(str(int(round(rps_pod * self.lat_mean[k]))))
            self.add("http_requests_inprogress", "http_requests_inprogress", self.app_labels(i), vals)

    def emit_db(self) -> None:
        sp = self.spec
        ops = dict(DEFAULT_DB_OPS)
        ops.update(sp.db_ops)
        for op in DB_OPERATIONS:
            per_req = ops.get(op, 0.0)
            p50 = self.sample(sp.db_latency_p50.get(op, DEFAULT_DB_P50[op]), f"db50:{op}")
            p95 = self.sample(sp.db_latency_p95.get(op, DEFAULT_DB_P95[op]), f"db95:{op}")
            cdfs = self.cdf_rows(p50, p95)
            means = [lognormal_mean(a, b) for a, b in zip(p50, p95)]
            for i in range(sp.pods):
                carry = _Carry(self.rng.random())
                counts = [carry.take(r * per_req) for r in self.req[i]]
                self.histogram("db_query_duration_seconds", i,
                               [*self.app_labels(i), ("operation", op)], counts, cdfs, means)

    def emit_pool(self) -> None:
        sp = self.spec
        p50 = self.sample(sp.pool_wait_p50, "pool_wait_p50")
        p95 = self.sample(sp.pool_wait_p95, "pool_wait_p95")
        cdfs = self.cdf_rows(p50, p95)
        means = [lognormal_mean(a, b) for a, b in zip(p50, p95)]
        size = str(sp.pool_size)
        for i in range(sp.pods):
            lab = self.app_labels(i)
            pres = self.present[i]
            used = self.pool_used[i]
            self.add("db_connection_pool_size", "db_connection_pool_size", lab,
                     [size if p else None for p in pres])
            self.add("db_connection_pool_used", "db_connection_pool_used", lab,
                     [str(u) if p else None for u, p in zip(used, pres)])
            self.add("db_connection_pool_available", "db_connection_pool_available", lab,
                     [str(sp.pool_size - u) if p else None for u, p in zip(used, pres)])
            self.histogram("db_connection_wait_duration_seconds", i, lab, self.req[i], cdfs, means)

    def _cpu_pod(self, i: int) -> list[float]:
        lim = self.spec.cpu_limit_cores
        return [min(lim, c * self.podf[i]) for c in self.cpu]

    def emit_process(self) -> None:
        sp = self.spec
        for i in range(sp.pods):
            lab = self.app_labels(i)
            cpu = self._cpu_pod(i)
            self.add("process_cpu_seconds", "process_cpu_seconds_total", lab,
                     self.counter(i, [c * 0.97 * self.step for c in cpu], integer=False))
            self.add("process_resident_memory_bytes", "process_resident_memory_bytes", lab,
                     [str(int(min(m * self.podf[i], sp.memory_limit_bytes) * 0.92)) if p else None
                      for m, p in zip(self.mem, self.present[i])])

    def emit_client(self) -> None:
        sp = self.spec
        for d in sp.dependencies:
            q = f"dep:{d.server_address}"
            p50 = self.sample(d.latency_p50, q + ":p50")
            p95 = self.sample(d.latency_p95, q + ":p95")
            err = [min(1.0, x) for x in self.sample(d.error_ratio, q + ":err", sigma=sp.noise * 3)]
            cdfs = self.cdf_rows(p50, p95)
            means = [lognormal_mean(a, b) for a, b in zip(p50, p95)]
            for i in range(sp.pods):
                c_calls, c_err = _Carry(self.rng.random()), _Carry(self.rng.random())
                ok: list[int] = []
                bad: list[int] = []
                for k in range(self.n):
                    calls = c_calls.take(self.req[i][k] * d.calls_per_request)
                    e = min(calls, c_err.take(calls * err[k]))
                    ok.append(calls - e)
                    bad.append(e)
                for status, counts in ((d.ok_status, ok), (d.error_status, bad)):
                    self.client_histogram(i, d, status, counts, cdfs, means)

    def client_histogram(self, i: int, d: Dependency, status: str, counts: list[int],
                         cdfs: Sequence[Sequence[float]], means: Sequence[float]) -> None:
        """One pod's outbound-call histogram for one dependency and status (OTel's client names)."""
        labels = [("http_response_status_code", status), *self.app_labels(i), ("server_address", d.server_address)]
        self.histogram("http_client_request_duration_seconds", i, labels, counts, cdfs, means)

    def emit_cadvisor(self) -> None:
        sp = self.spec
        lim = sp.cpu_limit_cores
        periods_per_step = self.step / 0.1
        thr = (self.sample(sp.cpu_throttle_ratio, "throttle")
               if sp.cpu_throttle_ratio is not None else None)
        for i in range(sp.pods):
            node = f"node-{(zlib.crc32(self.pods[i].encode()) % 5) + 1}"
            lab = [("container", sp.name), ("instance", node), ("job", "kubelet"),
                   ("namespace", sp.namespace), ("pod", self.pods[i])]
            pres = self.present[i]
            cpu = self._cpu_pod(i)
            self.add("container_cpu_usage_seconds", "container_cpu_usage_seconds_total", lab,
                     self.counter(i, [c * self.step for c in cpu], integer=False))
            self.add("container_spec_cpu_quota", "container_spec_cpu_quota", lab,
                     [str(int(lim * 100000)) if p else None for p in pres])
            self.add("container_spec_cpu_period", "container_spec_cpu_period", lab,
                     ["100000" if p else None for p in pres])
            fracs = []
            for k in range(self.n):
                if thr is not None:
                    fr = thr[k]
                else:
                    r = cpu[k] / lim if lim > 0 else 0.0
                    fr = 0.0 if r < 0.6 else 0.8 * min(1.0, ((r - 0.6) / 0.4)) ** 2
                fracs.append(min(1.0, max(0.0, fr)))
            carry = _Carry(self.rng.random())
            throttled = [float(carry.take(periods_per_step * f)) for f in fracs]
            self.add("container_cpu_cfs_throttled_periods", "container_cpu_cfs_throttled_periods_total",
                     lab, self.counter(i, throttled, integer=True))
            self.add("container_cpu_cfs_periods", "container_cpu_cfs_periods_total", lab,
                     self.counter(i, [periods_per_step] * self.n, integer=True))
            self.add("container_memory_working_set_bytes", "container_memory_working_set_bytes", lab,
                     [str(int(min(m * self.podf[i], sp.memory_limit_bytes))) if p else None
                      for m, p in zip(self.mem, pres)])
            self.add("container_spec_memory_limit_bytes", "container_spec_memory_limit_bytes", lab,
                     [str(int(sp.memory_limit_bytes)) if p else None for p in pres])

    def _ksm(self) -> list[tuple[str, str]]:
        return [("instance", "kube-state-metrics.kube-system:8080"), ("job", "kube-state-metrics"),
                ("namespace", self.spec.namespace)]

    def emit_ksm(self) -> None:
        sp = self.spec
        ksm = self._ksm()
        for i in range(sp.pods):
            pres = self.present[i]
            mine = sorted((r for r in sp.restarts if r.pod == i), key=lambda r: r.at)
            counts: list = []
            for k, t in enumerate(self.ts):
                counts.append(str(sum(1 for r in mine if r.at <= t)) if pres[k] else None)
            lab = [("container", sp.name), *ksm, ("pod", self.pods[i]),
                   ("uid", f"{zlib.crc32(self.pods[i].encode()):08x}-0000-4000-8000-000000000000")]
            self.add("kube_pod_container_status_restarts", "kube_pod_container_status_restarts_total",
                     lab, counts)
            reasons = sorted({r.reason for r in mine})
            for reason in reasons:
                vals: list = []
                for k, t in enumerate(self.ts):
                    last = None
                    for r in mine:
                        if r.at <= t:
                            last = r.reason
                    vals.append("1" if pres[k] and last == reason else None)
                if any(v is not None for v in vals):
                    self.add("kube_pod_container_status_last_terminated_reason",
                             "kube_pod_container_status_last_terminated_reason",
                             [*lab, ("reason", reason)], vals)
        if sp.pod_states:
            self._emit_pod_states(ksm)
        dep = [("deployment", sp.name), *ksm]
        self.add("kube_deployment_status_replicas_available", "kube_deployment_status_replicas_available",
                 dep, [str(a) for a in self.active])
        self.add("kube_deployment_spec_replicas", "kube_deployment_spec_replicas", dep,
                 [str(a) for a in self.spec_active])
        gen, obs = [], []
        for t in self.ts:
            g = sp.generation_base + sum(1 for d in sp.deploys if d <= t)
            if sp.rollout_seconds is None:     # the controller never catches up
                o = sp.generation_base
            else:
                o = sp.generation_base + sum(1 for d in sp.deploys if d + sp.rollout_seconds <= t)
            gen.append(str(g))
            obs.append(str(o))
        self.add("kube_deployment_metadata_generation", "kube_deployment_metadata_generation", dep, gen)
        self.add("kube_deployment_status_observed_generation",
                 "kube_deployment_status_observed_generation", dep, obs)

    PHASES = ("Pending", "Running", "Succeeded", "Failed", "Unknown")

    def _emit_pod_states(self, ksm: list[tuple[str, str]]) -> None:
        """kube-state-metrics' pod phase (every phase, 0 or 1), container info and the current
        waiting reason (1 while waiting) for the pods a spec's `pod_states` name."""
        sp = self.spec
        names = list(self.pods)
        extra = max(s.pod for s in sp.pod_states) + 1 - len(names)
        names += [f"{sp.name}-{zlib.crc32(f'{sp.name}:{k}'.encode()):08x}"[:len(sp.name) + 7] + f"-new{k}"
                  for k in range(max(0, extra))]
        for i, pod in enumerate(names):
            states = [s for s in sp.pod_states if s.pod == i]
            exists = [(i < len(self.pods) and self.present[i][k]) or any(self._during(s, t) for s in states)
                      for k, t in enumerate(self.ts)]
            lab = [*ksm, ("pod", pod), ("uid", f"{zlib.crc32(pod.encode()):08x}-0000-4000-8000-000000000000")]
            phase = [next((s.phase for s in states if self._during(s, t)), "Running") for t in self.ts]
            for ph in self.PHASES:
                self.add("kube_pod_status_phase", "kube_pod_status_phase", [*lab, ("phase", ph)],
                         [("1" if p == ph else "0") if e else None for p, e in zip(phase, exists)])
            self.add("kube_pod_container_info", "kube_pod_container_info",
                     [("container", sp.name), *lab, ("image", f"registry.local/{sp.name}:1")],
                     ["1" if e else None for e in exists])
            for reason in sorted({s.waiting for s in states if s.waiting}):
                vals = ["1" if any(s.waiting == reason and self._during(s, t) for s in states) else None
                        for t in self.ts]
                self.add("kube_pod_container_status_waiting_reason", "kube_pod_container_status_waiting_reason",
                         [("container", sp.name), *lab, ("reason", reason)], vals)

    @staticmethod
    def _during(state, t: float) -> bool:
        return state.start <= t and (state.end is None or t < state.end)

    def emit_hpa(self) -> None:
        sp = self.spec
        lab = [("horizontalpodautoscaler", sp.name), *self._ksm()]
        lo = sp.hpa_min if sp.hpa_min is not None else sp.pods
        hi = sp.hpa_max if sp.hpa_max is not None else 2 * sp.pods
        self.add("kube_horizontalpodautoscaler_status_current_replicas",
                 "kube_horizontalpodautoscaler_status_current_replicas", lab, [str(a) for a in self.active])
        self.add("kube_horizontalpodautoscaler_spec_max_replicas",
                 "kube_horizontalpodautoscaler_spec_max_replicas", lab, [str(hi)] * self.n)
        self.add("kube_horizontalpodautoscaler_spec_min_replicas",
                 "kube_horizontalpodautoscaler_spec_min_replicas", lab, [str(lo)] * self.n)

    def _pg_labels(self) -> list[tuple[str, str]]:
        host = self.spec.server.split(":")[0]
        return [("datname", self.spec.db_name), ("instance", f"{host}-exporter:9187"),
                ("job", "postgres-exporter"), ("server", self.spec.server)]

    def _pg_active(self) -> list[float]:
        sp = self.spec
        if sp.pg_active is not None:
            return self.sample(sp.pg_active, "pg_active")
        return [0.7 * u + 1 for u in self.pool_total]

    def emit_postgres(self) -> None:
        sp = self.spec
        active = self._pg_active()
        if sp.pg_idle is not None:
            idle = self.sample(sp.pg_idle, "pg_idle")
        else:
            idle = [max(0, sp.pool_size * a - u) for a, u in zip(self.active, self.pool_total)]
        if sp.pg_idle_in_transaction is not None:
            iit = self.sample(sp.pg_idle_in_transaction, "pg_iit")
        else:
            iit = [0.1 * u for u in self.pool_total]
        lab = self._pg_labels()
        for state, vals in (("active", active), ("idle", idle), ("idle in transaction", iit)):
            self.add("pg_stat_activity_count", "pg_stat_activity_count", [*lab, ("state", state)],
                     [str(int(round(v))) for v in vals])
        for mode in PG_LOCK_MODES:
            curve = sp.locks.get(mode, DEFAULT_LOCKS.get(mode, 0.0))
            vals = self.sample(curve, f"lock:{mode}")
            self.add("pg_locks_count", "pg_locks_count", [*lab, ("mode", mode)],
                     [str(int(round(v))) for v in vals])

    def emit_pgbouncer(self) -> None:
        sp = self.spec
        lab = [("database", sp.db_name), ("instance", f"pgbouncer.{sp.namespace}:9127"),
               ("job", "pgbouncer-exporter"), ("user", sp.name)]
        waiting = self.sample(sp.pgbouncer_client_waiting, "pgb_wait")
        c_act = (self.sample(sp.pgbouncer_client_active, "pgb_cact")
                 if sp.pgbouncer_client_active is not None else [float(u) for u in self.pool_total])
        s_act = (self.sample(sp.pgbouncer_server_active, "pgb_sact")
                 if sp.pgbouncer_server_active is not None else self._pg_active())
        for fam, vals in (("pgbouncer_pools_client_waiting_connections", waiting),
                          ("pgbouncer_pools_client_active_connections", c_act),
                          ("pgbouncer_pools_server_active_connections", s_act)):
            self.add(fam, fam, lab, [str(int(round(v))) for v in vals])

    def emit_alerts(self) -> None:
        sp = self.spec
        by_key: dict[tuple[str, str], list] = {}
        for a in sp.alerts:
            end = math.inf if a.end is None else a.end
            vals = by_key.setdefault((a.alertname, a.severity), [None] * self.n)
            for k, t in enumerate(self.ts):
                if a.start <= t < end:
                    vals[k] = "1"
        for (alertname, severity), vals in by_key.items():
            if any(v is not None for v in vals):
                self.add("ALERTS", "ALERTS", [("alertname", alertname), ("alertstate", "firing"),
                                              ("service", sp.name), ("severity", severity)], vals)
