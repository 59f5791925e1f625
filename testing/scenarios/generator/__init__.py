"""Synthetic but realistic Prometheus data for the metric families triage understands.

A service is described by a :class:`ServiceSpec` whose quantities are *curves*,
plain functions of unix time in seconds, built from the small combinators below
(``const``, ``step``, ``ramp``, ``noisy``...).  :func:`generate` samples every
curve on a 15 s scrape grid and turns it into what the real exporters would
have exposed: cumulative counters per pod (monotonic, with optional resets),
cumulative histogram buckets filled from a lognormal fitted to the wanted
p50/p95, gauges, kube-state-metrics, cAdvisor, postgres_exporter, pgbouncer
exporter and the ``ALERTS`` series.

The result renders either as OpenMetrics (seconds timestamps, ``# EOF``) for
``promtool tsdb create-blocks-from openmetrics`` or as the Prometheus text format
with millisecond timestamps for VictoriaMetrics' ``/api/v1/import/prometheus``.

Everything is deterministic: the same specs give byte-identical output.  Noise
that depends on time is a hash of (seed, t), so it does not depend on the order
in which curves are evaluated; per-pod constants come from a ``random.Random``
seeded from the service's seed.
"""

from testing.scenarios.generator.build import generate, to_openmetrics, to_vm_import
from testing.scenarios.generator.curves import (
    add,
    as_curve,
    clamp,
    combine,
    const,
    gauss_at,
    mul,
    noisy,
    piecewise,
    pulse,
    ramp,
    step,
)
from testing.scenarios.generator.dataset import Dataset, bucket_cdf, lognormal_mean, lognormal_params, timeline
from testing.scenarios.generator.spec import (
    DEFAULT_DB_OPS,
    DEFAULT_DB_P50,
    DEFAULT_DB_P95,
    DEFAULT_LOCKS,
    Alert,
    Dependency,
    PodState,
    Restart,
    ServiceSpec,
)
from testing.scenarios.generator.vocabulary import (
    DB_OPERATIONS,
    DEFAULT_BUCKETS,
    DEFAULT_FAMILIES,
    FAMILIES,
    FAMILY_META,
    PG_LOCK_MODES,
    PG_STATES,
    STEP_SECONDS,
    Curve,
    CurveLike,
)

__all__ = [
    "DB_OPERATIONS", "DEFAULT_BUCKETS", "DEFAULT_DB_OPS", "DEFAULT_DB_P50", "DEFAULT_DB_P95", "DEFAULT_FAMILIES",
    "DEFAULT_LOCKS", "FAMILIES", "FAMILY_META", "PG_LOCK_MODES", "PG_STATES", "STEP_SECONDS", "Alert", "Curve",
    "CurveLike", "Dataset", "Dependency", "PodState", "Restart", "ServiceSpec", "add", "as_curve", "bucket_cdf", "clamp",
    "combine", "const", "gauss_at", "generate", "lognormal_mean", "lognormal_params", "mul", "noisy", "piecewise",
    "pulse", "ramp", "step", "timeline", "to_openmetrics", "to_vm_import",
]
