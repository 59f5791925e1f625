"""Curves: quantities as plain functions of unix time, and the combinators that build them."""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence

from testing.scenarios.generator.vocabulary import Curve, CurveLike

# --------------------------------------------------------------------------------------
# Curves
# --------------------------------------------------------------------------------------

def as_curve(v: CurveLike) -> Curve:
    """A number becomes a constant curve; a callable is returned as is."""
    if callable(v):
        return v
    x = float(v)
    return lambda t: x


def const(v: float) -> Curve:
    x = float(v)
    return lambda t: x


def step(before: CurveLike, after: CurveLike, at: float) -> Curve:
    """``before`` until ``at`` (exclusive), ``after`` from ``at`` on."""
    b, a = as_curve(before), as_curve(after)
    return lambda t: a(t) if t >= at else b(t)


def ramp(before: CurveLike, after: CurveLike, start: float, end: float) -> Curve:
    """``before`` until ``start``, linear to ``after`` at ``end``, ``after`` from then on."""
    b, a = as_curve(before), as_curve(after)
    span = float(end - start)

    def f(t: float) -> float:
        if t <= start:
            return b(t)
        if t >= end or span <= 0:
            return a(t)
        w = (t - start) / span
        return b(t) * (1.0 - w) + a(t) * w
    return f


def piecewise(points: Sequence[tuple[float, float]]) -> Curve:
    """Linear interpolation through (t, value) points, flat outside them."""
    pts = sorted((float(t), float(v)) for t, v in points)
    if not pts:
        raise ValueError("piecewise needs at least one point")

    def f(t: float) -> float:
        if t <= pts[0][0]:
            return pts[0][1]
        for (t0, v0), (t1, v1) in zip(pts, pts[1:]):
            if t <= t1:
                return v0 if t1 == t0 else v0 + (v1 - v0) * (t - t0) / (t1 - t0)
        return pts[-1][1]
    return f


def pulse(base: CurveLike, value: CurveLike, start: float, end: float | None = None) -> Curve:
    """``value`` during [start, end), ``base`` elsewhere (end None: until forever)."""
    b, v = as_curve(base), as_curve(value)
    stop = math.inf if end is None else end
    return lambda t: v(t) if start <= t < stop else b(t)


def combine(fn: Callable[..., float], *curves: CurveLike) -> Curve:
    cs = [as_curve(c) for c in curves]
    return lambda t: fn(*(c(t) for c in cs))


def mul(*curves: CurveLike) -> Curve:
    cs = [as_curve(c) for c in curves]

    def f(t: float) -> float:
        r = 1.0
        for c in cs:
            r *= c(t)
        return r
    return f


def add(*curves: CurveLike) -> Curve:
    cs = [as_curve(c) for c in curves]
    return lambda t: sum(c(t) for c in cs)


def clamp(curve: CurveLike, lo: float = -math.inf, hi: float = math.inf) -> Curve:
    c = as_curve(curve)
    return lambda t: min(hi, max(lo, c(t)))


_MASK64 = (1 << 64) - 1


def _mix64(x: int) -> int:
    """splitmix64 finaliser: a cheap, well-distributed integer hash."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def gauss_at(seed: int, t: float) -> float:
    """A standard normal draw that is a pure function of (seed, t), clipped to ±3."""
    h1 = _mix64((seed & _MASK64) ^ _mix64(int(round(t * 1000.0)) & _MASK64))
    h2 = _mix64(h1)
    u1 = ((h1 >> 11) + 1) / 9007199254740993.0  # (0, 1]
    u2 = (h2 >> 11) / 9007199254740992.0
    g = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
    return max(-3.0, min(3.0, g))


def noisy(curve: CurveLike, rel_sigma: float, seed: int | str = 0) -> Curve:
    """Multiplicative gaussian noise, deterministic in (seed, t); never below 0."""
    c = as_curve(curve)
    s = seed if isinstance(seed, int) else zlib.crc32(seed.encode())
    return lambda t: max(0.0, c(t) * (1.0 + rel_sigma * gauss_at(s, t)))


