"""Rank the fleet: the likely root-cause service first.

Every service is scored from how far its own signals left their own baselines (the robust
scores of `levels`, as BARO ranks services by their largest robust score) and from its
verdict; then symptoms give way to causes:

- a service whose outbound calls slowed is a symptom: it is discounted, and when one of its
  dependencies (`depends_on`) is itself anomalous, it is that one's symptom;
- where the client metrics name the callee (`server_address`), the call that slowed points at
  it, and at the network when the callee's own latency stayed flat;
- otherwise, when none of its dependencies shows anything of its own (a network delay shows
  only in the callers' outbound latency), the blame goes to the dependencies it may be
  waiting on, weighed by how many slowed callers share them (one that another caller reaches
  without slowing down counts half; so does one that takes more than a twentieth of the calls
  of a caller whose p95 stayed under half the delay the slowed caller's calls show: a delay on
  that many of its calls would have put its p95 above it -- the shares estimated from the
  baseline request rates);
- with no call graph at all (no `depends_on`, no per-edge latency), a caller whose calls slowed
  is a symptom when another service's own resource left its normal range (the likelier cause
  than something outside the fleet);
- traffic flows the other way: a caller that changed what it does (a code path that now fails
  or returns before its next call) takes the calls it no longer makes out of its dependencies'
  request rates while its own traffic holds. A dependency whose traffic fell far, whose callers'
  traffic all held and that shows nothing of its own is their symptom, and the callers are
  suspected, above it (unless it was slow toward its callers -- its own latency rose with its
  calls', or its callers' calls slowed -- and a breaker may have cut it off); latency read over
  a window in which a service served no requests is no evidence;
- `unknown` and `none` services are scored from their strongest candidate and signals, so a
  silent service never outranks one whose CPU is at 100 %;
- ties are broken by onset: who moved first; among dependencies blamed alike by their slowed
  callers and showing nothing of their own, the one serving more requests goes first: a delay
  on a small share of a caller's calls barely moves its p95 (a 95th percentile rises only when
  more than a twentieth of the calls are slow), so the busier callee is the likelier cause.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from triage.analysis.classify.calls import CallShares
from triage.analysis.classify.levels import Z_HALF, squash
from triage.analysis.classify.traffic import HELD_SHARE, PER_REQUEST, stopped, traffic_lost, traffic_share
from triage.models import NO_INCIDENT, OWN_RESOURCE_CLASSES, UNDECIDED

# Signals that are the service's own: a rise here is about the service itself.
OWN_SIGNALS = ("cpu_usage_ratio", "cpu_throttle_ratio", "memory_usage_ratio", "latency_p95", "error_ratio",
               "db_latency_p95", "db_read_latency_p95", "db_write_latency_p95", "db_pool_usage_ratio",
               "db_pool_wait_p95", "db_pool_waiting", "db_lock_waits", "db_connect_share")
# What a caller sees of its dependencies.
OUTBOUND_SIGNALS = ("dependency_latency_p95", "dependency_error_ratio")
# A signal counts only when it also moved by a share of its own level.
MIN_RISE = 1.2
SYMPTOM = 0.5                 # a caller whose slowness is its dependency's
INHERIT = 0.9                 # what a callee takes of its callers' outbound anomaly
ANOMALOUS = 5.0 / (5.0 + Z_HALF)        # 5 spreads out: a dependency this far out is "itself anomalous"
OUTBOUND_MOVED = 3.0 / (3.0 + Z_HALF)   # outbound calls 3 spreads out: the caller waits on something
OUTBOUND_FLAT_Z = 2.0
SLOWED_LEAF = 1.1             # ... and one without dependencies in the fleet
SLOWED_SUSPECT = 0.9          # a suspect that is itself slowed by its own calls
EDGE_MOVED_Z, EDGE_RISE = 3.0, 1.5   # a call to one callee slowed: 3 spreads out and ×1.5
EXONERATED = 0.5              # the vote of a suspect another caller reaches without slowing down
UNKNOWN_CANDIDATE = 0.5       # an unknown or none verdict's strongest candidate counts this much
TIE = 0.02
EXPLAINED_SHARE = 0.5


class _Verdict(Protocol):
    @property
    def bottleneck(self) -> str: ...
    @property
    def confidence(self) -> float: ...
    @property
    def candidates(self) -> Sequence[Any]: ...
    @property
    def levels(self) -> Mapping[str, Any]: ...


class _Result(Protocol):
    @property
    def verdict(self) -> _Verdict: ...
    @property
    def severity(self) -> str | None: ...
    @property
    def service(self) -> Any: ...


@dataclass
class _Row:
    name: str
    bottleneck: str
    severity: str | None
    own: float
    outbound: float
    onset: float | None
    deps: tuple[str, ...]
    score: float = 0.0
    inherited: float = 0.0
    symptom_of: list[str] = field(default_factory=list)
    blames: list[str] = field(default_factory=list)
    slowed_calls: list[str] = field(default_factory=list)      # callees whose calls slowed (per edge)
    outside: list[str] = field(default_factory=list)           # slowed calls to something not in the fleet
    stopped_calling: list[str] = field(default_factory=list)   # dependencies whose traffic it took away
    lost_to: list[str] = field(default_factory=list)           # callers that stopped calling it
    traffic: float | None = None                               # its baseline request rate


def _strength(levels: Mapping[str, Any], names: Sequence[str]) -> tuple[float, float | None]:
    """The largest robust score among `names` that also moved by a share; and its onset."""
    best, onset = 0.0, None
    for name in names:
        lv = levels.get(name)
        if lv is None or lv.z is None or lv.ratio is None or lv.ratio < MIN_RISE:
            continue
        # How far out (spreads) and how much (a doubling counts fully, ×1.4 half).
        s = squash(lv.z) * min(1.0, math.log2(lv.ratio)) if math.isfinite(lv.ratio) else squash(lv.z)
        if s > best:
            best, onset = s, lv.onset
    return best, onset


def _latency_explained_by_calls(levels: Mapping[str, Any]) -> bool:
    """Its outbound calls grew by at least half of what its own p95 grew, or by at least the
    same factor: its latency is what its dependencies did to it."""
    lat, dep = levels.get("latency_p95"), levels.get("dependency_latency_p95")
    if lat is None or dep is None or lat.delta is None or dep.delta is None or dep.z is None:
        return False
    if dep.z < OUTBOUND_FLAT_Z * 1.5 or lat.delta <= 0:
        return False
    # A request that makes several calls adds up their slowdown: calls that slowed by at
    # least the factor its own latency did explain it as well as an equal rise in seconds.
    by_factor = dep.ratio is not None and lat.ratio is not None and dep.ratio >= lat.ratio
    return by_factor or dep.delta >= EXPLAINED_SHARE * lat.delta


def _outbound_z(levels: Mapping[str, Any]) -> float | None:
    zs = [levels[n].z for n in OUTBOUND_SIGNALS if n in levels and levels[n].z is not None]
    return max(zs) if zs else None


def _own(result: _Result) -> tuple[float, float | None]:
    v = result.verdict
    names: Sequence[str] = OWN_SIGNALS
    if stopped(v.levels):
        names = [n for n in OWN_SIGNALS if n not in PER_REQUEST]
    signal_score, onset = _strength(v.levels, names)
    if v.bottleneck == "external_dependency" or _latency_explained_by_calls(v.levels):
        # Its own latency and errors are what the dependency did to it.
        signal_score, onset = _strength(v.levels, [n for n in names if n not in ("latency_p95", "error_ratio")])
    verdict_score = 0.0
    if v.bottleneck in OWN_RESOURCE_CLASSES or v.bottleneck == "application_errors":
        verdict_score = v.confidence
    elif v.bottleneck in (UNDECIDED, NO_INCIDENT):
        own = [c.score for c in v.candidates if c.bottleneck != "external_dependency"]
        verdict_score = UNKNOWN_CANDIDATE * max(own, default=0.0)
        if v.bottleneck == NO_INCIDENT:
            verdict_score *= 0.5
            signal_score *= 0.5
    return max(verdict_score, signal_score), onset


def _outbound(result: _Result) -> tuple[float, float | None]:
    v = result.verdict
    if stopped(v.levels):
        return 0.0, None      # calls it made while serving nothing: no evidence either way
    score, onset = _strength(v.levels, OUTBOUND_SIGNALS)
    if v.bottleneck == "external_dependency":
        score = max(score, v.confidence)
    else:
        score = max(score, max((c.score for c in v.candidates if c.bottleneck == "external_dependency"), default=0.0))
    return score, onset


def _callee(edge: str, names: Sequence[str]) -> str | None:
    """The fleet service a `server_address` names: itself, or its host's first DNS label."""
    host = edge.split("://")[-1].split("/")[0].split(":")[0]
    for candidate in (edge, host, host.split(".")[0]):
        if candidate in names:
            return candidate
    return None


def _slowed_edges(result: _Result) -> list[str]:
    edges = getattr(result.verdict, "edges", None) or {}
    return sorted(e for e, lv in edges.items()
                  if lv.z is not None and lv.z >= EDGE_MOVED_Z and lv.ratio is not None and lv.ratio >= EDGE_RISE)


def rank_fleet(results: Sequence[_Result], services: Mapping[str, Any]) -> list[dict[str, Any]]:
    fleet = _Fleet(results, services)
    fleet.blame()
    return fleet.ranking()


class _Fleet:
    """The rows of one ranking and the call graph between them (depends_on and per-edge)."""

    def __init__(self, results: Sequence[_Result], services: Mapping[str, Any]) -> None:
        self.rows: dict[str, _Row] = {}
        for r in results:
            own, onset = _own(r)
            out, out_onset = _outbound(r)
            cfg = services.get(r.service.name)
            deps = tuple(d for d in (cfg.depends_on if cfg else ()) if d != r.service.name)
            rps = r.verdict.levels.get("rps")
            self.rows[r.service.name] = _Row(r.service.name, r.verdict.bottleneck, r.severity, own, out,
                                             onset if onset is not None else out_onset, deps,
                                             traffic=rps.baseline if rps is not None else None)
        self.levels = {r.service.name: r.verdict.levels for r in results}
        self.own_latency_flat = {r.service.name: _flat(r.verdict.levels.get("latency_p95")) for r in results}
        for r in results:
            self._read_edges(r)
        self.callers: dict[str, list[str]] = {}
        for row in self.rows.values():
            for d in row.deps:
                self.callers.setdefault(d, []).append(row.name)
        self.shares = CallShares(self.levels, self.callers, {name: row.deps for name, row in self.rows.items()})
        self.votes: dict[str, float] = {}
        self.named: dict[str, list[str]] = {}
        self.strength: dict[str, float] = {}

    def _read_edges(self, r: _Result) -> None:
        row = self.rows[r.service.name]
        for edge in _slowed_edges(r):
            callee = _callee(edge, list(self.rows))
            if callee is None:
                row.outside.append(edge)
            elif callee != row.name:
                row.slowed_calls.append(callee)
        if row.slowed_calls or row.outside:
            # The metrics name the call that slowed: no need to guess among depends_on.
            row.deps = tuple(dict.fromkeys([*row.slowed_calls, *row.deps]))

    def flat_elsewhere(self, dep: str, caller: str) -> bool:
        """Another caller reaches `dep` without its outbound calls slowing down -- or their p95
        stayed under half the delay `caller`'s calls show while `dep` takes more than a twentieth
        of them (a delay on that many of its calls would have put its p95 above it)."""
        for other in self.callers.get(dep, []):
            if other == caller or other not in self.levels:
                continue
            z = _outbound_z(self.levels[other])
            if z is not None and z < OUTBOUND_FLAT_Z and self.rows[other].outbound < OUTBOUND_MOVED:
                return True
            if self.shares.spared(other, caller, dep):
                return True
        return False

    def anomalous(self, name: str, seen: frozenset[str] = frozenset()) -> list[str]:
        """The deepest anomalous services below `name` along its calls."""
        row = self.rows.get(name)
        if row is None:
            return []
        found = []
        for d in row.deps:
            if d in seen or d not in self.rows:
                continue
            dep = self.rows[d]
            slowed = dep.outbound >= OUTBOUND_MOVED
            below = self.anomalous(d, seen | {name}) if slowed else []
            if below:
                found.extend(below)
            elif dep.own >= ANOMALOUS and not (slowed and dep.outbound > dep.own):
                # A dependency that is itself mostly waiting on its own calls is a symptom too.
                found.append(d)
        return found

    def blame(self) -> None:
        for row in self.rows.values():
            self._score(row)
        self._inherit()
        self._traffic()
        # A dependency that is itself the incident ranks above everyone it hurts.
        for row in self.rows.values():
            for d in row.symptom_of:
                self.rows[d].score = max(self.rows[d].score, min(1.0, row.score + TIE + 0.001))

    def _score(self, row: _Row) -> None:
        row.score = max(row.own, row.outbound * SYMPTOM)
        if row.outbound <= row.own or row.outbound < OUTBOUND_MOVED:
            return
        causes = self.anomalous(row.name)
        if causes:
            row.symptom_of = sorted({d for d in row.deps if d in causes
                                     or (d in self.rows and self.rows[d].own >= ANOMALOUS)})
            return
        if row.slowed_calls:
            suspects = list(dict.fromkeys(row.slowed_calls))
        else:
            suspects = [] if row.outside else [d for d in row.deps if d in self.rows]
        if not suspects:
            # Nothing in the fleet explains it: the dependency is outside (a bank API) -- unless
            # the call graph is unknown (no depends_on, no per-edge latency) and another service
            # has an own-resource anomaly that started no later: then that one is the likelier
            # cause and this caller's slowness its symptom.
            if row.outside or row.deps or not self._own_cause_elsewhere(row):
                row.score = max(row.own, row.outbound)
            return
        row.blames = suspects
        for d in suspects:
            # A caller's p95 spans all its calls: one that reaches `d` without slowing down
            # is weak evidence against it, not an alibi. A call seen slowing is a full vote.
            seen = d in row.slowed_calls
            self.votes[d] = self.votes.get(d, 0.0) + (
                1.0 if seen or not self.flat_elsewhere(d, row.name) else EXONERATED)
            if seen:
                self.named.setdefault(d, []).append(row.name)
            self.strength[d] = max(self.strength.get(d, 0.0), row.outbound)

    def _traffic(self) -> None:
        """A dependency whose traffic fell far while every caller kept its own, and that shows
        nothing of its own and was waiting on nothing (callers cut off from a slow dependency
        stop calling it too), lost the calls its callers stopped making: they are suspected, a
        caller more the more of such losses it alone can explain (one shared by k callers
        counts 1/k for each)."""
        credit: dict[str, float] = {}
        for name, row in self.rows.items():
            lost = traffic_lost(self.levels[name])
            callers = [c for c in self.callers.get(name, []) if c in self.rows]
            # Cut off by a breaker rather than by its callers' change: its callers' calls slowed (a
            # delay on its network), or its own slow calls made it slow to them (its own latency
            # rose) or are its incident. Slow calls of its own with none of that gave no breaker a
            # reason to open (a p95 read over the few calls left is noisy).
            cut_off = any(self.rows[c].outbound >= OUTBOUND_MOVED for c in callers) or (
                row.outbound >= OUTBOUND_MOVED and (
                    row.bottleneck == "external_dependency" or not self.own_latency_flat.get(name, False)))
            if lost <= 0 or row.own >= ANOMALOUS or cut_off or not callers:
                continue
            shares = [traffic_share(self.levels[c]) for c in callers]
            if any(s is None or s < HELD_SHARE for s in shares):
                continue      # a caller's own traffic fell (or is unknown): the drop may come from above
            row.lost_to = sorted(callers)
            for c in callers:
                self.rows[c].stopped_calling.append(name)
                credit[c] = credit.get(c, 0.0) + lost / len(callers)
        for c, share in credit.items():
            caller = self.rows[c]
            if not caller.symptom_of:
                caller.score = max(caller.score, INHERIT * min(1.0, share) + caller.own * TIE)
                # ... and ranks above the dependencies that lost its calls: what they showed
                # (nothing of their own) was read over the requests that still came.
                for d in caller.stopped_calling:
                    caller.score = max(caller.score, min(1.0, self.rows[d].score + TIE + 0.001))

    def _own_cause_elsewhere(self, row: _Row) -> bool:
        """Another service's own resource left its normal range, from no later than `row` slowed."""
        return any(o is not row and o.bottleneck in OWN_RESOURCE_CLASSES and o.own >= ANOMALOUS
                   for o in self.rows.values())

    def _inherit(self) -> None:
        """A dependency suspected by every slowed caller is more likely than one only some reach."""
        most = max(self.votes.values(), default=0.0)
        for d, n in self.votes.items():
            dep = self.rows[d]
            dep.inherited = self.strength[d] * n / most
            # A suspect whose own outbound calls slowed too: with dependencies of its own in the
            # fleet it is as likely their victim; with none, its calls slowing as well is what a
            # delay on its own network looks like.
            victim = 1.0
            if dep.outbound >= OUTBOUND_MOVED:
                victim = SLOWED_SUSPECT if any(x in self.rows for x in dep.deps) else SLOWED_LEAF
            dep.score = max(dep.score, dep.inherited * INHERIT * victim + dep.own * TIE)

    def ranking(self) -> list[dict[str, Any]]:
        ordered = sorted(self.rows.values(),
                         key=lambda row: (-row.score, row.onset if row.onset is not None else math.inf, row.name))
        out = []
        for row in _tie_by_onset(ordered):
            named = self.named.get(row.name, [])
            flat = self.own_latency_flat.get(row.name, False)
            entry: dict[str, Any] = {"service": row.name, "bottleneck": row.bottleneck, "score": round(row.score, 3),
                                     "severity": row.severity, "symptom_of": row.symptom_of,
                                     "why": _why(row, named, flat)}
            if row.blames:
                entry["suspects"] = row.blames
            if row.inherited:
                entry["blamed_by_callers"] = round(min(1.0, row.inherited), 3)
            if named and flat:
                entry["network_suspected"] = True
            out.append(entry)
        return out


def _flat(lat: Any) -> bool:
    return bool(lat is not None and lat.z is not None and (lat.z < OUTBOUND_FLAT_Z or (lat.ratio or 1.0) < MIN_RISE))


def _why(row: _Row, named_by: Sequence[str], own_flat: bool) -> str:
    """One line a person checks: why this service sits where it does in the ranking."""
    if row.symptom_of:
        return "slowed by its dependency " + ", ".join(row.symptom_of) + " (a symptom)"
    if named_by and row.score > row.own:
        text = "calls to it slowed from " + ", ".join(sorted(set(named_by)))
        return text + (" while its own latency stayed flat: the network or the path to it" if own_flat else "")
    if row.inherited and row.score > row.own:
        return "the dependency its slowed callers share"
    if row.outside:
        return "its calls to " + ", ".join(row.outside) + " (outside the fleet) slowed"
    if row.stopped_calling and row.score > row.own:
        return ("its own traffic held while its dependencies lost theirs: it stopped calling "
                + ", ".join(sorted(row.stopped_calling)))
    if row.blames:
        return "waits on a dependency that shows nothing of its own (suspects: " + ", ".join(row.blames) + ")"
    if row.lost_to:
        return "its traffic fell: its callers stopped calling it (" + ", ".join(row.lost_to) + ")"
    if row.own > 0:
        return "its own signals left their normal range" if row.own >= ANOMALOUS else "its own signals moved a little"
    return "nothing out of its normal range"


def _tie_by_onset(rows: list[_Row]) -> list[_Row]:
    out: list[_Row] = []
    i = 0
    while i < len(rows):
        j = i + 1
        while j < len(rows) and rows[i].score - rows[j].score <= TIE:
            j += 1
        group = rows[i:j]
        # Suspects only by their callers' word (blamed, nothing of their own): the busier first.
        by_traffic = len(group) > 1 and all(r.inherited and r.score > r.own and r.own < ANOMALOUS
                                            and r.traffic is not None for r in group)
        if by_traffic:      # their own onsets are of signals too weak to place them: not compared
            group = sorted(group, key=lambda r: (-(r.traffic or 0.0), -r.score, r.name))
        else:
            group = sorted(group, key=lambda r: (r.onset if r.onset is not None else math.inf, -r.score, r.name))
        out.extend(group)
        i = j
    return out
