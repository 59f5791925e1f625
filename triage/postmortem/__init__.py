"""Incident record + Jinja template → a post-mortem draft (phase 5).

The context (`context.py`) escapes every value from outside for markdown before it reaches the
template; Jinja runs sandboxed and with StrictUndefined, so a template that asks for something the
record lacks fails loudly. `timeline.py` reads the incident's events from the record's data,
`charts.py` draws them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from triage.catalog import search_dirs
from triage.errors import ConfigError
from triage.postmortem.context import build_context, primary_rca

__all__ = ["build_context", "find_template", "primary_rca", "render"]

MAX_TEMPLATE_BYTES = 1024 * 1024


def find_template(name: str, user_dirs: Sequence[Path]) -> Path:
    """A path, or a name looked up in the user's template dirs first, then the bundled ones."""
    candidate = Path(name).expanduser()
    if candidate.suffix and (candidate.is_file() or "/" in name):
        if not candidate.is_file():
            raise ConfigError(f"{candidate}: template not found")
        return candidate
    for directory in search_dirs("templates", user_dirs):
        for fname in (name, f"{name}.md.j2", f"{name}.j2"):
            path = directory / fname
            if path.is_file():
                return path
    raise ConfigError(f"template {name!r} not found in "
                      f"{', '.join(str(d) for d in search_dirs('templates', user_dirs))}")


def render(record: Mapping[str, Any], template: Path, prometheus_url: str | None = None) -> str:
    """The draft; `prometheus_url` (the configured Prometheus) is where its query links point."""
    import jinja2

    try:
        size = template.stat().st_size
        if size > MAX_TEMPLATE_BYTES:
            raise ConfigError(f"{template}: {size} bytes is too large for a template")
        source = template.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{template}: not UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{template}: cannot read: {exc.strerror}") from None
    # Sandboxed: a template from a user's directory is text to fill, not code to run.
    env = _bounded_sandbox()(loader=jinja2.FileSystemLoader(str(template.parent)),
                               undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True,
                               trim_blocks=True, lstrip_blocks=True)
    try:
        compiled = env.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"{template}:{exc.lineno}: template syntax error: {exc.message}") from None
    try:
        return compiled.render(**build_context(record, prometheus_url))
    except jinja2.UndefinedError as exc:
        raise ConfigError(f"{template}: {exc.message} (the record has no such value)") from None
    except jinja2.TemplateError as exc:
        raise ConfigError(f"{template}: {type(exc).__name__}: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{template}: the template recurses without end (an include or macro loop)") from None
    except MemoryError:
        raise ConfigError(f"{template}: rendering needs more memory than there is") from None


MAX_RENDERED = 16 * 1024 * 1024   # characters one `*` may make: far above any post-mortem
MAX_EXPONENT = 4096


def _bounded_sandbox():
    """The sandbox, with `'x' * 10**12` and `9 ** 10**9` refused in one line instead of taking every
    byte of memory or a core for minutes (the sandbox already bounds range())."""
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import SandboxedEnvironment

    class Bounded(SandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context, operator, left, right):  # type: ignore[no-untyped-def]
            if operator == "*":
                for seq, times in ((left, right), (right, left)):
                    if (isinstance(seq, (str, list, tuple)) and isinstance(times, int)
                            and len(seq) * times > MAX_RENDERED):
                        raise SecurityError(f"a repetition of {len(seq) * times} items is too large for a template")
            if (operator == "**" and isinstance(left, int) and isinstance(right, int)
                    and abs(left) > 1 and right > MAX_EXPONENT):
                raise SecurityError(f"an exponent of {right} is too large for a template")
            return super().call_binop(context, operator, left, right)

    return Bounded
