"""`triage serve`: the Alertmanager webhook receiver that triages an incident when its alert fires."""

from triage.serve.app import build_app, run_server
from triage.serve.settings import ServeSettings, serve_settings
from triage.serve.work import Deps
from triage.serve.workers import Engine

__all__ = ["Deps", "Engine", "ServeSettings", "build_app", "run_server", "serve_settings"]
