"""Scenarios whose cause is a call out (a slow or failing dependency, the chain) or the
application's own errors."""

from __future__ import annotations

from testing.scenarios.generator import (
    Dependency,
    Restart,
    ramp,
    step,
)
from testing.scenarios.library import at
from testing.scenarios.rca_library.labelled import EARLY, LATE, NO_DB, PG_PLATFORM, SLOW, W0, LabelledScenario, svc

# The *_scenarios() functions are lists of scenario literals, one case after another: long by
# content, not by logic (issue 14's 60-line bound is for logic); each stays whole so a class's
# cases read together.


# --------------------------------------------------------------------------------------
# external_dependency (and the chain)
# --------------------------------------------------------------------------------------

def _chain() -> list[LabelledScenario]:
    dep_p95 = ramp(0.25, 2.8, W0, at(19, 49))
    bank = svc("bank-api", "shop", tier=2, rps=40.0,
               families=frozenset({"http", "inflight", "process", "cadvisor", "ksm", "hpa"}),
               database=None, error_statuses={"504": 1.0},
               latency_p50=ramp(0.08, 1.4, W0, at(19, 49)), latency_p95=dep_p95,
               error_ratio=ramp(0.001, 0.006, W0, at(19, 49)), cpu_usage_cores=0.22, noise=0.03)
    payment = svc("payment", "shop", pods=2, tier=1, rps=40.0, depends_on=("bank-api",),
                  error_statuses={"504": 0.8, "502": 0.2},
                  latency_p50=ramp(0.10, 1.6, W0, at(19, 49)), latency_p95=ramp(0.30, 3.2, W0, at(19, 49)),
                  error_ratio=ramp(0.002, 0.08, W0, at(19, 49)),
                  cpu_usage_cores=ramp(0.18, 0.10, W0, at(19, 49)),
                  dependencies=(Dependency("bank-api.shop", 1.0, latency_p50=ramp(0.08, 1.4, W0, at(19, 49)),
                                           latency_p95=dep_p95, error_ratio=ramp(0.001, 0.08, W0, at(19, 49)),
                                           error_status="504"),),
                  noise=0.03)
    checkout = svc("checkout", "shop", tier=1, rps=90.0, depends_on=("payment",),
                   handlers=(("/checkout", "POST", 1.0),), error_statuses={"504": 1.0},
                   latency_p50=ramp(0.12, 1.7, W0, at(19, 49, 30)), latency_p95=ramp(0.35, 3.4, W0, at(19, 49, 30)),
                   error_ratio=ramp(0.002, 0.06, W0, at(19, 49, 30)),
                   cpu_usage_cores=ramp(0.35, 0.3, W0, at(19, 49)),
                   dependencies=(Dependency("payment.shop", 0.45,
                                            latency_p50=ramp(0.10, 1.6, W0, at(19, 49, 30)),
                                            latency_p95=ramp(0.30, 3.3, W0, at(19, 49, 30)),
                                            error_ratio=ramp(0.002, 0.08, W0, at(19, 49, 30)),
                                            error_status="504"),
                                 Dependency("catalog-api.catalog", 1.0, latency_p50=0.03, latency_p95=0.12)),
                   noise=0.03)
    return [
        LabelledScenario(
            bank, "unknown", None,
            "Root of the chain, seen from inside: a thin gateway to the bank with no outbound "
            "client instrumentation and no database.  Its p95 goes 0.25 -> 2.8 s at 19:46 while "
            "CPU (22 %), memory, restarts and errors (< 1 %) stay flat.  Something behind it is "
            "slow but nothing it exports says what: the honest verdict is 'unknown', naming the "
            "dependency and DB signals it lacks.  (It is still the root cause of the chain; a "
            "fleet ranking may put it first.)",
            missing=("dependency_latency_p95",)),
        LabelledScenario(
            payment, "external_dependency", "dependency_failure",
            "Outbound to bank-api.shop: p95 0.25 -> 2.8 s and 504s 8 % from 19:46; own p95 3.2 s, "
            "5xx 8 %; CPU falls (it is waiting, not working), DB and pool normal.  depends_on: "
            "bank-api."),
        LabelledScenario(
            checkout, "external_dependency", "dependency_failure",
            "A symptom: outbound to payment.shop p95 0.3 -> 3.3 s with 504s, own p95 3.4 s, 5xx 6 %; "
            "its other dependency (catalog-api) and its own CPU, DB and pool are normal.  "
            "depends_on: payment, so a fleet ranking puts payment above it."),
    ]


def external_scenarios() -> list[LabelledScenario]:
    out = _chain()
    # geo: a third-party maps API starts timing out at 19:50 (client timeout 5 s).
    out.append(LabelledScenario(
        svc("geo", "platform", pg=PG_PLATFORM, tier=2, rps=45.0, error_statuses={"504": 1.0},
            cpu_usage_cores=ramp(0.2, 0.12, LATE, at(19, 51)),
            dependencies=(Dependency("maps.googleapis.com", 1.0,
                                     latency_p50=ramp(0.06, 2.5, LATE, at(19, 51)),
                                     latency_p95=ramp(0.15, 4.8, LATE, at(19, 51)),
                                     error_ratio=ramp(0.001, 0.35, LATE, at(19, 51)), error_status="504"),
                          Dependency("geo-cache.platform", 2.0, latency_p50=0.002, latency_p95=0.006)),
            latency_p50=ramp(0.07, 2.6, LATE, at(19, 51)), latency_p95=ramp(0.2, 5.0, LATE, at(19, 51)),
            error_ratio=ramp(0.002, 0.3, LATE, at(19, 51)), noise=0.04),
        "external_dependency", "dependency_failure",
        "A third-party maps API times out from 19:50: outbound p95 0.15 -> 4.8 s, 35 % 504s; own "
        "p95 5 s, 5xx 30 %; CPU drops, DB normal; the internal geo-cache dependency stays at 6 ms."))

    # shipping: a carrier API degrades slowly from 19:30; no errors.
    out.append(LabelledScenario(
        svc("shipping", "shop", tier=3, rps=20.0,
            dependencies=(Dependency("api.carrier.example", 1.0,
                                     latency_p50=ramp(0.12, 0.6, SLOW, at(19, 55)),
                                     latency_p95=ramp(0.3, 1.6, SLOW, at(19, 55))),),
            latency_p50=ramp(0.16, 0.7, SLOW, at(19, 55)), latency_p95=ramp(0.4, 1.8, SLOW, at(19, 55)),
            noise=0.05),
        "external_dependency", "dependency_failure",
        "Slow ramp from 19:30: the carrier API's p95 0.3 -> 1.6 s, no errors; own p95 0.4 -> 1.8 s "
        "tracking it; CPU 30 %, DB fast; noise 5 %."))

    # fraud-check: the scoring API answers 503 for a quarter of calls; latency barely moves.
    out.append(LabelledScenario(
        svc("fraud-check", "shop", tier=1, rps=55.0, error_statuses={"502": 1.0},
            dependencies=(Dependency("scoring.risk-vendor.example", 1.0,
                                     latency_p50=0.05, latency_p95=ramp(0.12, 0.2, EARLY, at(19, 46)),
                                     error_ratio=ramp(0.001, 0.25, EARLY, at(19, 46)), error_status="503"),),
            error_ratio=ramp(0.002, 0.22, EARLY, at(19, 46)), noise=0.03),
        "external_dependency", "dependency_failure",
        "A decoy for application_errors: from 19:45 the risk vendor's scoring API returns 503 "
        "for 25 % of calls and fraud-check's own 5xx follow (22 %), latency flat; nothing "
        "saturated.  The outbound error ratio explains the errors."))

    # refunds: holds a DB transaction while calling the payment gateway, so the pool fills as
    # a consequence two minutes after the gateway slows down.
    out.append(LabelledScenario(
        svc("refunds", "shop", tier=2, rps=35.0, error_statuses={"504": 1.0},
            dependencies=(Dependency("payments-gateway.example", 1.0,
                                     latency_p50=ramp(0.1, 1.8, EARLY, at(19, 47)),
                                     latency_p95=ramp(0.3, 4.0, EARLY, at(19, 47)),
                                     error_ratio=ramp(0.001, 0.1, EARLY, at(19, 47)), error_status="504"),),
            pool_used=ramp(3.0, 15.0, at(19, 46), at(19, 48)),
            pool_wait_p50=ramp(0.0002, 0.5, at(19, 47), at(19, 49)),
            pool_wait_p95=ramp(0.002, 1.5, at(19, 47), at(19, 49)),
            pg_idle_in_transaction=ramp(0.5, 16.0, at(19, 46), at(19, 48)),
            cpu_usage_cores=ramp(0.3, 0.2, EARLY, at(19, 47)),
            latency_p50=ramp(0.12, 2.2, EARLY, at(19, 48)), latency_p95=ramp(0.35, 5.0, EARLY, at(19, 48)),
            error_ratio=ramp(0.002, 0.1, EARLY, at(19, 48)), noise=0.03),
        "external_dependency", "dependency_failure",
        "The gateway slows first (outbound p95 0.3 -> 4 s, 504s 10 % from 19:45); refunds holds a "
        "transaction across the call, so its pool fills 10/10 from ~19:47 (wait p95 1.5 s, 'idle "
        "in transaction' 16) with queries still fast.  The pool is a consequence: the dependency "
        "moved first."))
    return out


# --------------------------------------------------------------------------------------
# application_errors
# --------------------------------------------------------------------------------------

def app_errors_scenarios() -> list[LabelledScenario]:
    out = []
    out.append(LabelledScenario(
        svc("notifications", "platform", pg=PG_PLATFORM, tier=3, rps=45.0,
            error_ratio=step(0.002, 0.12, at(19, 45, 30)), latency_p50=0.04, latency_p95=0.13,
            deploys=(EARLY,), restarts=(Restart(at(19, 47), pod=0, reason="Error"),), noise=0.03),
        "application_errors", "deploy",
        "A bad deploy at 19:45: 5xx 0.2 % -> 12 % within 30 s, one container restart (Error), "
        "latency, CPU, memory, DB flat."))

    # accounts: no deploy: a bad feature-flag / data shape at 19:50 makes some requests 500.
    out.append(LabelledScenario(
        svc("accounts", "shop", tier=2, rps=75.0,
            error_ratio=ramp(0.003, 0.045, LATE, at(19, 51)),
            latency_p95=ramp(0.16, 0.15, LATE, at(19, 51)), noise=0.05),
        "application_errors", None,
        "No deploy: from 19:50 a feature flag makes ~4.5 % of requests fail with 500 (warning "
        "level); latency unchanged, nothing saturated, noise 5 %."))

    # auth: a deploy at 19:52 crash-loops (exit 1, not OOM): five restarts, 503s.
    out.append(LabelledScenario(
        svc("auth", "platform", pg=PG_PLATFORM, pods=2, tier=1, rps=150.0, error_statuses={"503": 1.0},
            deploys=(at(19, 52),),
            restarts=(Restart(at(19, 53), 0), Restart(at(19, 54), 1), Restart(at(19, 55, 30), 0),
                      Restart(at(19, 57), 1), Restart(at(19, 58, 30), 0)),
            error_ratio=ramp(0.001, 0.25, at(19, 52, 30), at(19, 54)),
            latency_p95=ramp(0.12, 0.3, at(19, 52, 30), at(19, 54)), latency_p50=0.03,
            cpu_usage_cores=0.25, noise=0.03),
        "application_errors", "deploy",
        "A deploy at 19:52 crash-loops (reason Error, not OOMKilled): 5 restarts over 2 pods, "
        "503s 25 %, p95 0.12 -> 0.3 s; CPU 25 %, memory 50 %, DB normal."))

    # suggest: a deploy at 19:47 fails 30 % of requests fast; clients retry, so RPS rises x1.4
    # and p95 *drops*.  A decoy for traffic_surge and for 'latency is fine, so none'.  No DB.
    out.append(LabelledScenario(
        svc("suggest", "catalog", tier=3, families=NO_DB, database=None,
            rps=ramp(100.0, 140.0, at(19, 47), at(19, 48)), error_ratio=ramp(0.002, 0.3, at(19, 47), at(19, 48)),
            latency_p50=ramp(0.04, 0.015, at(19, 47), at(19, 48)), latency_p95=ramp(0.2, 0.09, at(19, 47), at(19, 48)),
            cpu_usage_cores=ramp(0.3, 0.36, at(19, 47), at(19, 48)), deploys=(at(19, 46, 45),),
            dependencies=(Dependency("search.catalog", 1.0, latency_p50=0.03, latency_p95=0.1),),
            noise=0.03),
        "application_errors", "deploy",
        "A deploy at 19:46:45 fails 30 % of requests fast (500); clients retry, so RPS x1.4 and "
        "p95 falls 0.2 -> 0.09 s; its dependency (search) is healthy, CPU 36 %.  The retries are "
        "not the trigger, the deploy is."))
    return out


