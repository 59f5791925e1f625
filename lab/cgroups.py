"""A cgroup v1 "container" for the service's worker: a real CPU quota and memory limit.

The group is created *below the lab's own cgroup* in each hierarchy (never beside it), so
whatever limits the lab runs under still apply. The counters are read back from the same
files cAdvisor reads: ``cpuacct.usage``, ``cpu.stat`` (``nr_periods``, ``nr_throttled``,
``throttled_time``), ``cpu.cfs_quota_us``/``cpu.cfs_period_us``, ``memory.usage_in_bytes``
minus ``total_inactive_file`` (cAdvisor's working set), ``memory.limit_in_bytes`` and the
``oom_kill`` count of ``memory.oom_control``.

Works whether the kernel mounts ``cpu`` and ``cpuacct`` together (``cpu,cpuacct``) or apart.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from lab.procs import LabError

CONTROLLERS = ("cpu", "cpuacct", "memory")
PERIOD_US = 100_000


class CgroupUnavailable(LabError):
    """No writable cgroup v1 hierarchy for cpu/cpuacct/memory here (not root, or cgroup v2 only)."""


def _v1_mounts() -> dict[str, Path]:
    mounts: dict[str, Path] = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields, extra = left.split(), right.split()
            if len(extra) < 3 or extra[0] != "cgroup":
                continue
            opts = set(extra[2].split(","))
            for ctrl in CONTROLLERS:
                if ctrl in opts and ctrl not in mounts:
                    mounts[ctrl] = Path(fields[4])
    return mounts


def _own_paths() -> dict[str, str]:
    own: dict[str, str] = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            for ctrl in ctrls.split(","):
                if ctrl in CONTROLLERS:
                    own[ctrl] = path
    return own


def _read(path: Path) -> str:
    return path.read_text().strip()


def _kv(path: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            try:
                out[parts[0]] = int(parts[1])
            except ValueError:
                pass
    return out


@dataclass(frozen=True)
class Usage:
    cpu_seconds: float
    nr_periods: int
    nr_throttled: int
    throttled_seconds: float
    quota_us: int
    period_us: int
    memory_usage: int
    working_set: int
    rss: int
    memory_limit: int
    oom_kills: int


@dataclass
class Cgroup:
    name: str
    paths: dict[str, Path]

    @property
    def id(self) -> str:
        """cAdvisor's ``id`` label (the cgroup path); only the lab's own part of it, so a
        recording says nothing about the machine it was made on."""
        return "/" + self.name

    def procs_files(self) -> list[str]:
        # cpu and cpuacct may be one directory; write each distinct file once.
        return sorted({str(p / "cgroup.procs") for p in self.paths.values()})

    def pids(self) -> list[int]:
        try:
            return [int(x) for x in _read(self.paths["memory"] / "cgroup.procs").split()]
        except OSError:
            return []

    def usage(self) -> Usage:
        cpu, acct, mem = self.paths["cpu"], self.paths["cpuacct"], self.paths["memory"]
        stat = _kv(cpu / "cpu.stat")
        mstat = _kv(mem / "memory.stat")
        usage = int(_read(mem / "memory.usage_in_bytes"))
        inactive = mstat.get("total_inactive_file", mstat.get("inactive_file", 0))
        oom = _kv(mem / "memory.oom_control").get("oom_kill", 0)
        return Usage(
            cpu_seconds=int(_read(acct / "cpuacct.usage")) / 1e9,
            nr_periods=stat.get("nr_periods", 0),
            nr_throttled=stat.get("nr_throttled", 0),
            throttled_seconds=stat.get("throttled_time", 0) / 1e9,
            quota_us=int(_read(cpu / "cpu.cfs_quota_us")),
            period_us=int(_read(cpu / "cpu.cfs_period_us")),
            memory_usage=usage,
            working_set=max(0, usage - inactive),
            rss=mstat.get("total_rss", mstat.get("rss", 0)),
            memory_limit=int(_read(mem / "memory.limit_in_bytes")),
            oom_kills=oom,
        )

    def kill_all(self) -> None:
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def destroy(self) -> None:
        """Kill what is left inside and remove the directories (they must be empty first)."""
        deadline = time.monotonic() + 5
        while True:
            self.kill_all()
            left = []
            for path in sorted(set(self.paths.values()), key=str):
                try:
                    if path.exists():
                        path.rmdir()
                except OSError:
                    left.append(path)
            if not left or time.monotonic() > deadline:
                return
            time.sleep(0.1)


def available() -> str | None:
    """None when a lab cgroup can be made here, else the reason it cannot."""
    if os.geteuid() != 0:
        return "cgroups need root"
    mounts = _v1_mounts()
    missing = [c for c in CONTROLLERS if c not in mounts]
    if missing:
        return f"no cgroup v1 hierarchy for {', '.join(missing)} (is this a cgroup v2-only machine?)"
    return None


CPU_SHARES = 16 * 1024


def create(name: str, cpu_cores: float, memory_bytes: int) -> Cgroup:
    why = available()
    if why:
        raise CgroupUnavailable(why)
    mounts, own = _v1_mounts(), _own_paths()
    paths: dict[str, Path] = {}
    for ctrl in CONTROLLERS:
        parent = mounts[ctrl] / own.get(ctrl, "/").lstrip("/")
        path = parent / name
        try:
            path.mkdir(exist_ok=True)
        except OSError as e:
            raise CgroupUnavailable(f"cannot create {path}: {e}") from e
        paths[ctrl] = path
    group = Cgroup(name, paths)
    try:
        (paths["cpu"] / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        (paths["cpu"] / "cpu.cfs_quota_us").write_text(str(int(cpu_cores * PERIOD_US)))
        # The lab's CPU fault is the quota running out, not a busy host: a heavy weight keeps
        # the machine's other work (a test suite, other tenants) from starving the worker below
        # its limit, and the quota still caps it there.
        (paths["cpu"] / "cpu.shares").write_text(str(CPU_SHARES))
        (paths["memory"] / "memory.limit_in_bytes").write_text(str(int(memory_bytes)))
    except OSError as e:
        group.destroy()
        raise CgroupUnavailable(f"cannot set limits on {name}: {e}") from e
    return group
