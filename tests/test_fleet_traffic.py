"""Traffic flows down the call graph (issue 12): a caller that changed what it does takes the
calls it no longer makes out of its dependencies' request rates; latency read over a window
with no requests is no evidence; and among dependencies blamed alike by their slowed callers,
the busier one goes first."""

from __future__ import annotations

from tests.test_classify_rules import W0, _golden, _noise, _rank, _result, _series


def _svc(rps=lambda t: 10.0, lat=lambda t: 0.1, dep=None, cpu=0.2):
    sig = {**_golden(lat=lat, rps=rps), "cpu_usage_ratio": _series("cpu_usage_ratio", lambda t: cpu + _noise(t, 0.01))}
    if dep is not None:
        sig["dependency_latency_p95"] = _series("dependency_latency_p95", dep)
    return sig


def _stops(before=5.0, after=0.0):
    return lambda t: after if t >= W0 else before + _noise(t, 0.2)


def test_a_caller_whose_dependencies_stopped_being_called_is_suspected():
    """Its own traffic holds while two of its dependencies lose all theirs (a code path that now
    fails before its next calls); its own latency moved a little; a bystander's moved more."""
    caller = _svc(lat=lambda t: 0.16 if t >= W0 else 0.1 + _noise(t, 0.005))
    bystander = _svc(lat=lambda t: 0.2 if t >= W0 else 0.1 + _noise(t, 0.005))
    ranking = _rank(_result("orders", caller, depends_on=["mail", "pay"]),
                    _result("mail", _svc(rps=_stops())), _result("pay", _svc(rps=_stops())),
                    _result("search", bystander))
    assert ranking[0]["service"] == "orders", ranking
    assert "stopped calling mail, pay" in ranking[0]["why"]
    lost = {r["service"]: r["why"] for r in ranking}
    assert "callers stopped calling it (orders)" in lost["mail"]


def test_latency_over_a_window_with_no_requests_is_no_evidence():
    """A dependency that served nothing in the window shows a 'slower' outbound p95 read over no
    calls: it must not outrank the caller whose own latency rose."""
    idle = _svc(rps=_stops(), dep=lambda t: 0.05 if t >= W0 else 0.005 + _noise(t, 0.0005))
    caller = _svc(lat=lambda t: 0.25 if t >= W0 else 0.1 + _noise(t, 0.005))
    ranking = _rank(_result("orders", caller), _result("mail", idle))
    assert ranking[0]["service"] == "orders", ranking
    assert ranking[1]["score"] < 0.1, ranking


def test_no_suspicion_when_the_callers_own_traffic_fell_too():
    """Fewer users: every service's traffic falls together; nobody stopped calling anyone."""
    fewer = _stops(10.0, 4.0)
    ranking = _rank(_result("web", _svc(rps=fewer), depends_on=["mail"]), _result("mail", _svc(rps=_stops(5.0, 1.0))))
    assert all("stopped calling" not in r["why"] for r in ranking), ranking
    assert all(r["score"] < 0.2 for r in ranking), ranking


def test_no_suspicion_when_the_dependency_was_waiting_on_its_own_calls():
    """Callers cut off from a dependency that was itself slow (a circuit breaker) stop calling
    it: that loss is the dependency's, not its callers' doing."""
    slow_dep = _svc(rps=_stops(5.0, 1.0), dep=lambda t: 2.0 if t >= W0 else 0.02 + _noise(t, 0.001))
    ranking = _rank(_result("web", _svc(), depends_on=["geo"]), _result("geo", slow_dep))
    assert ranking[0]["service"] == "geo", ranking
    assert all("stopped calling" not in r["why"] for r in ranking), ranking


def test_among_dependencies_blamed_alike_the_busier_goes_first():
    """Two callers' outbound p95 rose; their common dependencies show nothing of their own. A
    delay on a callee serving 0.3 req/s barely moves a busy caller's p95; one serving 30 does."""
    slowed = dict(lat=lambda t: 0.6 if t >= W0 else 0.1 + _noise(t, 0.005),
                  dep=lambda t: 0.5 if t >= W0 else 0.02 + _noise(t, 0.001))
    deps = ["audit", "fx", "zip"]
    ranking = _rank(_result("web", _svc(**slowed), depends_on=deps), _result("api", _svc(**slowed), depends_on=deps),
                    _result("audit", _svc(rps=lambda t: 0.3)), _result("fx", _svc(rps=lambda t: 30.0)),
                    _result("zip", _svc(rps=lambda t: 3.0)))
    suspects = [r["service"] for r in ranking if r["service"] in deps]
    assert suspects == ["fx", "zip", "audit"], ranking


def test_the_caller_that_explains_more_lost_traffic_goes_first():
    """Two dependencies lost their traffic; each is shared with another caller, and one caller
    calls both: that one changed what it does, each of the others explains only half of one."""
    ranking = _rank(_result("travel", _svc(), depends_on=["route", "seat"]),
                    _result("admin", _svc(), depends_on=["route"]), _result("ops", _svc(), depends_on=["seat"]),
                    _result("route", _svc(rps=_stops())), _result("seat", _svc(rps=_stops())))
    assert ranking[0]["service"] == "travel", ranking
    scores = {r["service"]: r["score"] for r in ranking}
    assert scores["travel"] > max(scores["admin"], scores["ops"]) + 0.2, ranking


def test_a_dependency_whose_few_calls_read_slower_still_lost_its_callers_traffic():
    """Its callers stopped calling it; the few calls it still made read a slower p95 while its own
    latency stayed flat: nothing cut it off, so the caller that changed ranks above it."""
    ads = _svc(rps=_stops(5.0, 1.0), dep=lambda t: 0.09 if t >= W0 else 0.045 + _noise(t, 0.002))
    ranking = _rank(_result("web", _svc(), depends_on=["ads", "search"]), _result("ads", ads),
                    _result("search", _svc()))
    assert ranking[0]["service"] == "web", ranking
    assert "stopped calling ads" in ranking[0]["why"]
    assert "callers stopped calling it (web)" in ranking[1]["why"], ranking


def _slowed(by, base=0.07):
    return lambda t: base + by if t >= W0 else base + _noise(t, base / 50)


def _calls(slowed_caller, other_caller):
    """A caller that makes few requests (orders) and a busy one (web), sharing three callees; a
    delay on one of them shows fully in orders' outbound p95 and in web's as far as its share."""
    shared = ["cart", "fx", "ship"]
    return _rank(_result("orders", _svc(rps=lambda t: 0.3, dep=slowed_caller), depends_on=[*shared, "mail"]),
                 _result("web", _svc(rps=lambda t: 8.0, dep=other_caller), depends_on=[*shared, "ads"]),
                 _result("cart", _svc(rps=lambda t: 8.0)), _result("fx", _svc(rps=lambda t: 25.0)),
                 _result("ship", _svc(rps=lambda t: 2.0)), _result("mail", _svc(rps=lambda t: 0.3)),
                 _result("ads", _svc(rps=lambda t: 60.0)))


def test_a_busy_caller_whose_calls_slowed_far_less_spares_the_callees_it_calls_often():
    """orders' calls slowed by 0.35 s while web's p95 stayed at 0.11 s: a delay that long on a
    callee taking a tenth or more of web's calls would have put web's p95 above it, so it is on
    one web rarely calls (ship, ~3 % of its calls) or never (mail); the busier of those first."""
    ranking = _calls(_slowed(0.35), _slowed(0.03, 0.08))
    suspects = [r["service"] for r in ranking if r["service"] in ("cart", "fx", "ship", "mail")]
    assert suspects[0] == "ship", ranking
    scores = {r["service"]: r["score"] for r in ranking}
    assert scores["ship"] > max(scores["cart"], scores["fx"]) + 0.05, ranking


def test_callers_whose_calls_slowed_alike_spare_nobody():
    """Both callers' calls slowed by about as much: any shared callee explains both; the busiest
    shared one first, as before."""
    ranking = _calls(_slowed(0.35), _slowed(0.3, 0.08))
    suspects = [r["service"] for r in ranking if r["service"] in ("cart", "fx", "ship", "mail")]
    assert suspects[0] == "fx", ranking


def test_a_breaker_opened_on_a_delayed_network_is_not_the_callers_doing():
    """A delay on the dependency's network: its callers' calls to it slowed, their breaker opened
    and its traffic fell; its own calls read slower too while its server-side latency stayed
    flat. The callers did not change what they do: the dependency stays first."""
    delayed = _svc(rps=_stops(5.0, 1.0), dep=lambda t: 0.09 if t >= W0 else 0.045 + _noise(t, 0.002))
    caller = _svc(dep=lambda t: 0.6 if t >= W0 else 0.05 + _noise(t, 0.002))
    ranking = _rank(_result("web", caller, depends_on=["geo"]), _result("geo", delayed))
    assert ranking[0]["service"] == "geo", ranking
    assert all("stopped calling" not in r["why"] for r in ranking), ranking


def test_a_breaker_opened_on_slow_calls_to_a_quiet_dependency_is_not_the_callers_doing():
    """The same with nothing to read of the dependency's own calls: its callers' calls slowed and
    its traffic fell; the callers are not suspected of having stopped calling it."""
    caller = _svc(dep=lambda t: 0.6 if t >= W0 else 0.05 + _noise(t, 0.002))
    ranking = _rank(_result("web", caller, depends_on=["geo"]), _result("geo", _svc(rps=_stops(5.0, 1.0))))
    assert ranking[0]["service"] == "geo", ranking
    assert all("stopped calling" not in r["why"] for r in ranking), ranking
