"""One service being generated: its pods, request counts, resources, and the counter and histogram
helpers the emitters build on."""

from __future__ import annotations

import random
import zlib
from collections.abc import Sequence

from testing.scenarios.generator.curves import as_curve, const, gauss_at
from testing.scenarios.generator.dataset import (
    Dataset,
    _Carry,
    _fmt_float,
    _fmt_int,
    _labels,
    _le,
    _Series,
    bucket_cdf,
    lognormal_mean,
)
from testing.scenarios.generator.spec import ServiceSpec
from testing.scenarios.generator.vocabulary import DEFAULT_BUCKETS, CurveLike


class ServiceCore:
    def __init__(self, spec: ServiceSpec, ds: Dataset, step: float) -> None:
        self.spec = spec
        self.ds = ds
        self.ts = ds.timestamps
        self.n = len(self.ts)
        self.step = step
        self.seed = spec._seed()
        self.rng = random.Random(self.seed)
        self.fam = spec.families
        self.pods = spec.pod_names()

    # ---- curve sampling -------------------------------------------------------------
    def sample(self, curve: CurveLike, quantity: str, sigma: float | None = None,
               lo: float = 0.0) -> list[float]:
        c = as_curve(curve)
        sig = self.spec.noise if sigma is None else sigma
        if sig <= 0:
            return [max(lo, c(t)) for t in self.ts]
        s = zlib.crc32(f"{self.seed}:{quantity}".encode())
        return [max(lo, c(t) * (1.0 + sig * gauss_at(s, t))) for t in self.ts]

    def add(self, family: str, name: str, labels: list[tuple[str, str]], values: list) -> None:
        self.ds.add(family, [_Series(name, _labels(labels), values)])

    def _pods(self) -> None:
        sp, n, ts = self.spec, self.n, self.ts
        npods = sp.pods
        rep_curve = as_curve(sp.replicas) if sp.replicas is not None else const(npods)
        self.active = [max(0, min(npods, int(round(rep_curve(t))))) for t in ts]
        spec_rep = (as_curve(sp.spec_replicas) if sp.spec_replicas is not None else rep_curve)
        self.spec_active = [max(0, int(round(spec_rep(t)))) for t in ts]

        # fixed per-pod offsets (load share, cpu, memory)
        self.share = [max(0.5, 1.0 + 0.03 * self.rng.gauss(0, 1)) for _ in range(npods)]
        self.podf = [max(0.8, 1.0 + 0.02 * self.rng.gauss(0, 1)) for _ in range(npods)]
        self.uptime = [self.rng.randint(400, 6000) for _ in range(npods)]  # steps before data start

        # presence and reset steps per pod
        self.present = [[i < self.active[k] for k in range(n)] for i in range(npods)]
        self.resets: list[set[int]] = [set() for _ in range(npods)]
        events = [(t, p) for t, p in sp.counter_resets] + [(r.at, r.pod) for r in sp.restarts]
        for t, p in events:
            if 0 <= p < npods:
                k = self._step_at(t)
                if k is not None:
                    self.resets[p].add(k)
        for i in range(npods):
            for k in range(1, n):
                if self.present[i][k] and not self.present[i][k - 1]:
                    self.resets[i].add(k)     # a pod that comes (back) starts from zero

    def _service_quantities(self) -> None:
        sp = self.spec
        self.rps = self.sample(sp.rps, "rps")
        self.err = [min(1.0, x) for x in self.sample(sp.error_ratio, "error_ratio", sigma=sp.noise * 3)]
        self.lat50 = self.sample(sp.latency_p50, "latency_p50")
        self.lat95 = self.sample(sp.latency_p95, "latency_p95")
        self.lat_mean = [lognormal_mean(a, b) for a, b in zip(self.lat50, self.lat95)]

    def _requests(self) -> None:
        """Per pod request counts per handler and status."""
        sp = self.spec
        self.handlers = sp.handlers or ((f"/api/{sp.name}", "GET", 1.0),)
        self.req: list[list[int]] = []          # per pod, per step: all requests
        self.req_h: list[list[list[int]]] = []  # per pod, per handler, per step
        self.req_hs: list[list[dict[str, list[int]]]] = []
        for i in range(sp.pods):
            tot, per_h, per_hs = self._pod_requests(i)
            self.req.append(tot)
            self.req_h.append(per_h)
            self.req_hs.append(per_hs)

    def _pod_requests(self, i: int) -> tuple[list[int], list[list[int]], list[dict[str, list[int]]]]:
        n, step, handlers = self.n, self.step, self.handlers
        hw = sum(h[2] for h in handlers)
        st_w = dict(self.spec.error_statuses)
        sw = sum(st_w.values()) or 1.0
        carry_h = [_Carry(self.rng.random()) for _ in handlers]
        carry_s = [{s: _Carry(self.rng.random()) for s in st_w} for _ in handlers]
        tot = [0] * n
        per_h = [[0] * n for _ in handlers]
        per_hs = [{s: [0] * n for s in ["200", *st_w]} for _ in handlers]
        for k in range(n):
            if not self.present[i][k]:
                continue
            wsum = sum(self.share[j] for j in range(self.active[k]))
            exp = self.rps[k] * self.share[i] / wsum * step
            for h, (_, _, w) in enumerate(handlers):
                nh = carry_h[h].take(exp * w / hw)
                per_h[h][k] = nh
                tot[k] += nh
                errs = 0
                for s, ws in st_w.items():
                    e = carry_s[h][s].take(nh * self.err[k] * ws / sw)
                    e = min(e, nh - errs)
                    per_hs[h][s][k] = e
                    errs += e
                per_hs[h]["200"][k] = nh - errs
        return tot, per_h, per_hs

    def _resources(self) -> None:
        sp, n, npods = self.spec, self.n, self.spec.pods
        self.cpu = self.sample(sp.cpu_usage_cores, "cpu")
        mem_curve = (sp.memory_working_set_bytes if sp.memory_working_set_bytes is not None
                     else 0.4 * sp.memory_limit_bytes)
        self.mem = self.sample(mem_curve, "memory", sigma=sp.noise / 6)
        self.pool_demand = self.sample(sp.pool_used, "pool_used")
        # pool use per pod, clamped to the pool size
        self.pool_used = [[min(sp.pool_size, int(round(self.pool_demand[k] * self.podf[i])))
                           if self.present[i][k] else 0 for k in range(n)] for i in range(npods)]
        self.pool_total = [sum(self.pool_used[i][k] for i in range(npods)) for k in range(n)]

    def _step_at(self, t: float) -> int | None:
        """First step at or after ``t``."""
        for k, tk in enumerate(self.ts):
            if tk >= t:
                return k
        return None

    def app_labels(self, i: int) -> list[tuple[str, str]]:
        sp = self.spec
        return [("instance", f"{self.pods[i]}:8000"), ("job", sp.name),
                ("namespace", sp.namespace), ("pod", self.pods[i]), ("service", sp.name)]

    # ---- cumulative helpers -----------------------------------------------------------
    def counter(self, i: int, incs: Sequence[float], integer: bool) -> list:
        """Cumulative values of one pod's counter (None while the pod is absent)."""
        pres, resets = self.present[i], self.resets[i]
        first = next((x for x, p in zip(incs, pres) if p), 0.0)
        acc = first * self.uptime[i]
        if integer:
            acc = float(int(acc))
        out: list = []
        fmt = _fmt_int if integer else _fmt_float
        for k in range(self.n):
            if not pres[k]:
                out.append(None)
                continue
            if k in resets:
                acc = 0.0
            acc += incs[k]
            out.append(fmt(acc))
        return out

    def histogram(self, family: str, i: int, labels: list[tuple[str, str]], counts: Sequence[int],
                  cdfs: Sequence[Sequence[float]], means: Sequence[float]) -> None:
        """Emit one pod's histogram (buckets, _count, _sum) from per-step counts and CDFs."""
        pres, resets = self.present[i], self.resets[i]
        nb = len(DEFAULT_BUCKETS) + 1
        k0 = next((k for k in range(self.n) if pres[k]), None)
        base = float(self.uptime[i])
        if k0 is not None:
            c0 = counts[k0]
            accb = [int(c0 * base) * f for f in cdfs[k0]]
            accc = float(int(c0 * base))
            accs = accc * means[k0]
        else:
            accb, accc, accs = [0.0] * nb, 0.0, 0.0
        cols: list[list] = [[] for _ in range(nb)]
        colc: list = []
        cols_sum: list = []
        for k in range(self.n):
            if not pres[k]:
                for col in cols:
                    col.append(None)
                colc.append(None)
                cols_sum.append(None)
                continue
            if k in resets:
                accb = [0.0] * nb
                accc = accs = 0.0
            c = counts[k]
            if c:
                row = cdfs[k]
                for j in range(nb):
                    accb[j] += c * row[j]
                accc += c
                accs += c * means[k]
            ic = int(accc)
            for j in range(nb - 1):
                cols[j].append(str(min(ic, int(accb[j] + 1e-7))))
            cols[nb - 1].append(str(ic))
            colc.append(str(ic))
            cols_sum.append(_fmt_float(accs))
        name = family
        les = [_le(b) for b in DEFAULT_BUCKETS] + ["+Inf"]
        group = [_Series(f"{name}_bucket", _labels(labels + [("le", le)]), col)
                 for le, col in zip(les, cols)]
        group.append(_Series(f"{name}_count", _labels(labels), colc))
        group.append(_Series(f"{name}_sum", _labels(labels), cols_sum))
        self.ds.add(family, group)

    def cdf_rows(self, p50: Sequence[float], p95: Sequence[float]) -> list[list[float]]:
        return [bucket_cdf(a, b) for a, b in zip(p50, p95)]

    # ---- families ---------------------------------------------------------------------
