"""Known failures. The CLI's one error boundary turns each into one line and exit 3."""

from __future__ import annotations


class TriageError(Exception):
    """A failure we expected and can explain in one line."""

    exit_code = 3

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        return self.message


class UsageError(TriageError):
    """Bad arguments."""


class ConfigError(TriageError):
    """A config, catalog or playbook file that cannot be used; the message names file and line."""


class SourceError(TriageError):
    """A backend failed; the message names the backend and, for queries, the query."""

    def __init__(self, message: str, *, backend: str, query: str | None = None,
                 detail: str | None = None, transient: bool = False, fatal: bool = False) -> None:
        super().__init__(message, detail=detail)
        self.backend = backend
        self.query = query
        self.transient = transient
        self.fatal = fatal


class NoDataError(TriageError):
    """The backend answered but holds nothing for what was asked."""
