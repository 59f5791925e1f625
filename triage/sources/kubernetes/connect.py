"""Reaching a cluster the way kubectl does: the kubeconfig (with `--context`) or, inside a pod,
the service account; the one place that loads either, for the reads and the `--apply` actions.

The client's own loader is wrapped where it would hang or leak: an `exec` credential plugin
runs under a deadline with its output capped, a kubeconfig that is a device or a huge file is
refused before it is read, and every credential found is registered with `triage.secrets`
so no message can show it.
"""

from __future__ import annotations

import json
import logging
import os
import selectors
import signal
import stat
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triage.errors import UsageError
from triage.secrets import redact, register_secret

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
EXEC_OUTPUT_LIMIT = 1 << 20  # a credential is a few kB; an endless stream must not fill memory
KUBECONFIG_BYTES = 16 << 20
NO_KUBECONFIG = "no kubeconfig found (~/.kube/config or $KUBECONFIG) and not running in a pod"


class ExecPluginError(Exception):
    """A kubeconfig `exec` credential plugin failed; the message is a human's line (no secret in it)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class KubeconfigError(Exception):
    """No usable cluster configuration. `message` names the file, for a health run's skipped
    source; `cause` is what the client (or the plugin) raised, which an action's record quotes."""

    def __init__(self, message: str, cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.cause = cause


@dataclass(frozen=True)
class Connection:
    """A loaded client `Configuration`, the namespace its context names, and how to name the API server."""

    config: Any
    namespace: str
    where: str


def kubeconfig_paths(explicit: str | None, env: Mapping[str, str]) -> str | None:
    """--kubeconfig, then $KUBECONFIG (a list), then ~/.kube/config if it exists."""
    if explicit:
        return explicit
    if env.get("KUBECONFIG"):
        return env["KUBECONFIG"]
    default = Path(env.get("HOME") or str(Path.home())) / ".kube" / "config"
    return str(default) if default.is_file() else None


def connect(*, context: str | None, kubeconfig: str | None, env: Mapping[str, str], timeout: float,
            service_account_dir: str = SERVICE_ACCOUNT_DIR) -> Connection:
    """The cluster's configuration, loaded and its secrets registered.

    Raises `UsageError` for a `--context` the kubeconfig does not hold, `KubeconfigError`
    for anything else that leaves no configuration to use.
    """
    from kubernetes import client

    cfg = client.Configuration()
    paths = kubeconfig_paths(kubeconfig, env)
    if paths is None and context is None and env.get("KUBERNETES_SERVICE_HOST"):
        namespace = _load_in_cluster(cfg, env, Path(service_account_dir))
    elif paths is None:
        raise KubeconfigError(NO_KUBECONFIG)
    else:
        namespace = _load_kubeconfig(cfg, paths, context, timeout)
    cfg.retries = False
    for value in (cfg.api_key or {}).values():
        register_secret(str(value))
        register_secret(str(value).split(" ", 1)[-1])
    if cfg.password:
        register_secret(str(cfg.password))
    return Connection(config=cfg, namespace=namespace, where=f"the Kubernetes API at {redact(cfg.host)}")


def _load_in_cluster(cfg: Any, env: Mapping[str, str], sa_dir: Path) -> str:
    from kubernetes.config import ConfigException, incluster_config

    try:
        incluster_config.InClusterConfigLoader(token_filename=str(sa_dir / "token"),
                                               cert_filename=str(sa_dir / "ca.crt"),
                                               environ=env).load_and_set(cfg)
    except ConfigException as exc:
        raise KubeconfigError(f"in-cluster config: {config_reason(exc)}", exc) from None
    try:
        return (sa_dir / "namespace").read_text().strip() or "default"
    except OSError:
        return "default"


def _load_kubeconfig(cfg: Any, paths: str, context: str | None, timeout: float) -> str:
    from kubernetes.config import ConfigException

    problem = kubeconfig_problem(paths)
    if problem:
        raise KubeconfigError(problem)
    chosen = _choose_context(paths, context)
    try:
        active = load_kubeconfig(cfg, paths, chosen.get("name") if chosen else context, timeout=timeout)
    except ExecPluginError as exc:
        raise KubeconfigError(f"kubeconfig {paths}: {exc.message}", exc) from None
    except ConfigException as exc:
        raise KubeconfigError(f"kubeconfig {paths}: {config_reason(exc)}", exc) from None
    except Exception as exc:  # unreadable cert files, a plugin's odd answer
        raise KubeconfigError(f"kubeconfig {paths}: {redact(str(exc))[:200]}", exc) from None
    return str((active.get("context") or {}).get("namespace") or "default")


def _choose_context(paths: str, context: str | None) -> Any:
    """The kubeconfig's entry for `context` (or its current-context); None when the contexts cannot
    be listed but one was named: listing needs a current-context, kubectl's `--context` does not,
    so the client is left to load the named one and say what is wrong with the file."""
    from kubernetes.config import ConfigException, list_kube_config_contexts

    try:
        contexts, active = list_kube_config_contexts(config_file=paths)
    except ConfigException as exc:
        if context is not None:
            return None
        raise KubeconfigError(f"kubeconfig {paths}: {config_reason(exc)}", exc) from None
    except OSError as exc:
        raise KubeconfigError(f"kubeconfig {paths}: {exc.strerror}", exc) from None
    chosen = active
    if context is not None:
        chosen = next((c for c in contexts or () if c.get("name") == context), None)
        if chosen is None:
            names = ", ".join(sorted(str(c.get("name")) for c in contexts or ())) or "none"
            raise UsageError(f"--context {context}: no such context in {paths} (contexts: {names})")
    if not chosen:
        raise KubeconfigError(f"kubeconfig {paths} has no current-context; pass --context")
    return chosen


def context_name(context: str | None, kubeconfig: str | None, env: Mapping[str, str]) -> str:
    """Which cluster a request would go to, as `--context` or the kubeconfig's current-context
    names it; read from the local files only, never from the cluster."""
    if context:
        return context
    paths = kubeconfig_paths(kubeconfig, env)
    if paths is None:
        return "in-cluster" if env.get("KUBERNETES_SERVICE_HOST") else "(no kubeconfig)"
    try:
        from kubernetes import config

        if kubeconfig_problem(paths):
            return "(unreadable kubeconfig)"
        _, active = config.list_kube_config_contexts(config_file=paths)
        return str((active or {}).get("name") or "(no current-context)")
    except Exception:
        return "(unreadable kubeconfig)"


def config_reason(exc: BaseException) -> str:
    text = redact(" ".join(str(exc).split()))
    if "No configuration found" in text:
        return "no configuration found (empty or missing file)"
    return text[:200]


def kubeconfig_problem(paths: str) -> str | None:
    """Why the kubeconfig file(s) of `paths` (a $KUBECONFIG list) cannot be read as one, if they cannot:
    the client reads each file whole, so a device (`/dev/zero`), a FIFO or a huge file would hang or
    fill memory before it said anything."""
    for part in str(paths).split(os.pathsep):
        if not part:
            continue
        try:
            info = os.stat(part)
        except FileNotFoundError:
            continue  # the client skips a missing file of a list, and says so when none is left
        except OSError as exc:
            return f"kubeconfig {part}: {exc.strerror}"
        if not stat.S_ISREG(info.st_mode):
            return f"kubeconfig {part}: not a regular file"
        if info.st_size > KUBECONFIG_BYTES:
            return f"kubeconfig {part}: {info.st_size} bytes is too large for a kubeconfig (limit {KUBECONFIG_BYTES})"
    return None


def load_kubeconfig(cfg: Any, paths: str, context: str | None, *, timeout: float) -> dict[str, Any]:
    """`kubernetes.config.load_kube_config`, with the `exec` plugin run by `run_exec_plugin`
    (its deadline is `timeout`) and its failures raised as `ExecPluginError` instead of logged.
    Returns the kubeconfig's entry of the context loaded."""
    from kubernetes.config import kube_config

    loader = kube_config._get_kube_config_loader(filename=paths, active_context=context, persist_config=False)

    def bounded_exec_plugin(self: Any = loader) -> bool | None:
        user = self._user
        if not user or "exec" not in user:
            return None
        base_path = self._get_base_path(self._cluster.path)
        raw = user["exec"]
        raw = getattr(raw, "value", raw)  # the client's ConfigNode around the plain mapping
        if not isinstance(raw, Mapping):
            raise ExecPluginError("exec plugin: the kubeconfig's exec entry is not a mapping")
        status = run_exec_plugin(raw, cwd=base_path, cluster=self._cluster, timeout=timeout)
        if status.get("token"):
            self.token = f"Bearer {status['token']}"
        else:
            self.cert_file = kube_config.FileOrData(status, None, data_key_name="clientCertificateData",
                                                    file_base_path=base_path, base64_file_content=False,
                                                    temp_file_path=self._temp_file_path).as_file()
            self.key_file = kube_config.FileOrData(status, None, data_key_name="clientKeyData",
                                                   file_base_path=base_path, base64_file_content=False,
                                                   temp_file_path=self._temp_file_path).as_file()
        if status.get("expirationTimestamp"):
            try:
                self.expiry = kube_config.parse_rfc3339(status["expirationTimestamp"])
            except (ValueError, TypeError):
                pass
        return True

    loader._load_from_exec_plugin = bounded_exec_plugin
    with _RootLoggingKeptOffStderr():
        loader.load_and_set(cfg)
    return dict(loader.current_context or {})


class _RootLoggingKeptOffStderr:
    """The client logs its kubeconfig problems with `logging.error` on the root logger, which
    installs a stderr handler on first use (`ERROR:root:…` lines in the middle of a report).
    While a kubeconfig loads, the root logger has a handler of ours, so none is installed."""

    def __enter__(self) -> None:
        self._handler = logging.NullHandler()
        logging.getLogger().addHandler(self._handler)

    def __exit__(self, *exc: object) -> None:
        logging.getLogger().removeHandler(self._handler)


def run_exec_plugin(exec_config: Mapping[str, Any], *, cwd: str | None, cluster: Any, timeout: float) -> dict:
    """Run an `exec` credential plugin as kubectl does, but under a deadline: the client's own runner
    waits forever for a plugin that never returns, reads an endless answer whole, and turns every
    failure into a log line on the root logger. Returns the ExecCredential's `status`."""
    command = str(exec_config.get("command") or "")
    name = os.path.basename(command) or "(no command)"
    if not command:
        raise ExecPluginError("exec plugin: the kubeconfig names no command")
    api_version = str(exec_config.get("apiVersion") or "")
    env = _plugin_env(exec_config, name, api_version, cluster)
    argv = [command, *(str(a) for a in exec_config.get("args") or ())]
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd=cwd or None, env=env, start_new_session=True)
    except FileNotFoundError:
        raise ExecPluginError(f"exec plugin {name}: command not found ({redact(command)})") from None
    except PermissionError:
        raise ExecPluginError(f"exec plugin {name}: permission denied (is it executable?)") from None
    except OSError as exc:
        raise ExecPluginError(f"exec plugin {name} could not be started: {exc.strerror}") from None
    code, out, err = _collect(proc, name, timeout)
    _check_exit(code, err, name)
    return _credential(out, name, api_version)


def _plugin_env(exec_config: Mapping[str, Any], name: str, api_version: str, cluster: Any) -> dict[str, str]:
    env = dict(os.environ)
    for item in exec_config.get("env") or ():
        try:
            env[str(item["name"])] = str(item["value"])
        except (KeyError, TypeError):
            raise ExecPluginError(f"exec plugin {name}: an env entry has no name or value") from None
    info: dict[str, Any] = {"apiVersion": api_version, "kind": "ExecCredential", "spec": {"interactive": False}}
    if exec_config.get("provideClusterInfo") and cluster is not None:
        info["spec"]["cluster"] = getattr(cluster, "value", cluster)
    env["KUBERNETES_EXEC_INFO"] = json.dumps(info, default=str)
    return env


def _collect(proc: subprocess.Popen[bytes], name: str, timeout: float) -> tuple[int, bytearray, bytearray]:
    """The plugin's exit status and output, read within `timeout` and EXEC_OUTPUT_LIMIT; past
    either (or interrupted), its whole process group is killed."""
    deadline = time.monotonic() + timeout
    out, err = bytearray(), bytearray()
    sel = selectors.DefaultSelector()
    assert proc.stdout is not None and proc.stderr is not None
    sel.register(proc.stdout, selectors.EVENT_READ, out)
    sel.register(proc.stderr, selectors.EVENT_READ, err)
    try:
        exited = False
        while sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                raise ExecPluginError(f"exec plugin {name} did not answer within {timeout:g}s")
            ready = sel.select(0 if exited else min(left, 0.1))
            if exited and not ready:
                break  # it exited, and what is left open belongs to a child it left behind
            for key, _ in ready:
                _read_chunk(sel, key, name)
            exited = exited or proc.poll() is not None
        try:
            code = proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise ExecPluginError(f"exec plugin {name} did not answer within {timeout:g}s") from None
    finally:
        sel.close()
        proc.stdout.close()
        proc.stderr.close()
        if proc.poll() is None:  # past the deadline, over the cap, or interrupted: its whole group goes
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.wait()
    return code, out, err


def _read_chunk(sel: selectors.BaseSelector, key: selectors.SelectorKey, name: str) -> None:
    chunk = os.read(key.fd, 65536)
    if not chunk:
        sel.unregister(key.fileobj)
        return
    key.data.extend(chunk)
    if len(key.data) > EXEC_OUTPUT_LIMIT:
        raise ExecPluginError(f"exec plugin {name} printed more than {EXEC_OUTPUT_LIMIT >> 20} MiB "
                              "(the cap on a credential)")


def _check_exit(code: int, err: bytes | bytearray, name: str) -> None:
    if code < 0:
        try:
            sig = signal.Signals(-code).name
        except ValueError:
            sig = "?"
        raise ExecPluginError(f"exec plugin {name} was killed by signal {-code} ({sig})")
    if code > 0:
        first = next((ln.strip() for ln in err.decode("utf-8", "replace").splitlines() if ln.strip()), "")
        said = f": {redact(first)[:200]}" if first else ""
        raise ExecPluginError(f"exec plugin {name} failed with exit status {code}{said}")


def _credential(out: bytes | bytearray, name: str, api_version: str) -> dict:
    try:
        data = json.loads(out.decode("utf-8", "replace"))
    except ValueError:
        raise ExecPluginError(f"exec plugin {name} printed something that is not an ExecCredential "
                              "(not JSON)") from None
    if not isinstance(data, dict) or not isinstance(data.get("status"), dict):
        raise ExecPluginError(f"exec plugin {name} printed JSON that is not an ExecCredential (no status)")
    if api_version and data.get("apiVersion") != api_version:
        raise ExecPluginError(f"exec plugin {name} answered apiVersion {str(data.get('apiVersion'))[:60]!r}, "
                              f"not {api_version}")
    status = data["status"]
    if status.get("token"):
        register_secret(str(status["token"]))
    elif not (status.get("clientCertificateData") and status.get("clientKeyData")):
        raise ExecPluginError(f"exec plugin {name} answered with no token and no client certificate and key")
    return status
