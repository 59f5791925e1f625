"""The local Kubernetes API-server fixture (`server.FakeKubeAPI`) and its manifests."""

from __future__ import annotations


def ensure_health_command() -> None:
    """Put `health` on the real `triage` app if `triage/cli/__init__.py` does not register it yet.

    The tests drive the real entry point (`tests.cli_harness.run_cli`); this registers the
    command exactly as `_register()` will, and is a no-op once it does.
    """
    from triage.cli import app
    from triage.cli import health as command

    if not any(c.name == "health" for c in app.registered_commands):
        app.command("health", help=command.health.__doc__)(command.health)
