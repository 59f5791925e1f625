"""triage.yaml + TRIAGE_* environment + flags → one typed, frozen Settings.

Flags beat environment, environment beats the file. Secrets are read from files or the
environment only, and are wrapped (`triage.secrets`) so that printing a Settings never shows
them. The package's face: `from triage.config import X` for its public names.
"""

from triage.config.backend import (
    DEADLINE_TIMEOUTS,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
    MAX_TIMEOUT,
    BackendSettings,
)
from triage.config.settings import (
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_RATE,
    DEFAULT_TIER,
    SCHEMA,
    ServiceConfig,
    Settings,
    config_line,
    find_config,
    load_settings,
)
from triage.config.values import parse_size

__all__ = [
    "DEADLINE_TIMEOUTS", "DEFAULT_MAX_RESPONSE_BYTES", "DEFAULT_TIMEOUT", "MAX_TIMEOUT", "BackendSettings",
    "DEFAULT_MAX_CONCURRENCY", "DEFAULT_RATE", "DEFAULT_TIER", "SCHEMA", "ServiceConfig", "Settings", "config_line",
    "find_config", "load_settings", "parse_size",
]
