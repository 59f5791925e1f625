"""The placeholders of a step's title, risk, commands and success metric: `{name}`, `{name:.1f}`.

Checked against the vocabulary when a file is loaded; filled in when a plan is made. In a
command every value must be safe to paste unquoted into a shell or a PromQL label value, so
a name from outside (a label, a finding) can never smuggle in a second command.
"""

from __future__ import annotations

import re

from triage.playbooks.expr import ExprError, Lookup, Missing, num_text
from triage.playbooks.names import FINDING_NAMES, FINDING_VARS, IDENTITY_VARS, Scope

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
# `{name}` or `{name:.1f}` is a placeholder; `{{name}` is a literal `{name}`; every other brace
# (`{.spec.replicas}` jsonpath, `{{.State.Status}}` Go templates, PromQL matchers, JSON) is text.
_PLACEHOLDER = re.compile(r"\{\{(?P<esc>" + _IDENT + r"(?::[^{}\s]*)?\})|\{(?P<name>" + _IDENT
                          + r")(?::(?P<spec>[^{}\s]*))?\}")
_SPEC = re.compile(r"^(?:\.\d{1,2}[f%]|d|%|)$")
# What may be pasted into a shell command or a PromQL label value as is.
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9._:/@+=,%-]+$")
_ENV_VAR = re.compile(r"^\$[A-Z][A-Z0-9_]*$")


def template_names(text: str) -> list[tuple[str, str | None, int]]:
    return [(m.group("name"), m.group("spec"), m.start()) for m in _PLACEHOLDER.finditer(text) if m.group("name")]


def check_template(text: str, scope: Scope, *, finding_scoped: bool) -> None:
    for name, spec, pos in template_names(text):
        if spec is not None and not _SPEC.match(spec):
            raise ExprError(f"'{{{name}:{spec}}}': format must be .Nf, .N%, % or d", pos)
        if name in IDENTITY_VARS:
            continue
        if name in FINDING_VARS:
            if not finding_scoped:
                raise ExprError(f"'{{{name}}}' names a health finding, but this step's `when` does not look at "
                                "one (use reason, kind or check in `when`)", pos)
            continue
        try:
            kind = scope.type_of_name(name)
        except ExprError as exc:
            raise ExprError(f"unknown placeholder '{{{name}}}': {exc.message}", pos) from None
        if isinstance(kind, tuple) and kind[2] in FINDING_NAMES and not finding_scoped:
            raise ExprError(f"'{{{name}}}' names a health finding, but this step's `when` does not look at one", pos)


class RenderError(Exception):
    pass


def render_template(text: str, values: Lookup, *, shell: bool, keep_missing: bool = False) -> str:
    """Placeholders filled in; with `shell`, every value must be safe to paste unquoted.

    Outside commands a missing value reads `n/a` (or stays `{name}` with `keep_missing`)."""

    def one(m: re.Match) -> str:
        if m.group("esc"):
            return "{" + m.group("esc")
        name, spec = m.group("name"), m.group("spec")
        value = values(name)
        if isinstance(value, Missing):
            if not shell:
                return m.group(0) if keep_missing else "n/a"
            raise RenderError(value.why or f"{name} is missing")
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, (int, float)):
            return _number(value, spec)
        out = str(value)
        if shell and not (_SAFE_VALUE.match(out) or _ENV_VAR.match(out)):
            raise RenderError(f"{name} {out!r} has characters that are not safe in a command")
        return out

    return _PLACEHOLDER.sub(one, text)


def _number(value: float, spec: str | None) -> str:
    if spec == "d":
        return str(int(round(value)))
    if spec:
        return format(value, ".0%" if spec == "%" else spec)
    return num_text(value)
