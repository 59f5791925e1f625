"""YAML loaded safely and checked against a small schema, with file and line in every error.

PyYAML's `safe_load` forgets where values came from, so files are composed into nodes
first; each error then points at the line a human has to fix. The nodes come from libyaml's
C parser when PyYAML has it (the same nodes and marks, ~20x faster: issue 17), else from the
pure-Python one.

PyYAML itself is imported on first use, not with this module: the schema classes are needed to
load the query catalog, which a warm cache (triage/catalog.py) serves without parsing anything,
and importing yaml is a large part of a run's start-up when there is no config file (issue 17).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from triage.errors import ConfigError

if TYPE_CHECKING:
    import yaml
else:
    class _LazyYaml:
        """Stands for the `yaml` module until an attribute is first asked for: then PyYAML is
        imported and takes its place as this module's global, so later uses cost nothing extra."""

        def __getattr__(self, name: str) -> Any:
            module = _yaml()
            return getattr(module, name)

    yaml = _LazyYaml()

MAX_FILE_BYTES = 5 * 1024 * 1024
# No triage file nests deeper than a handful of levels; PyYAML's composer recurses per level and
# ends in a RecursionError a few hundred levels down.
MAX_DEPTH = 64


def _yaml() -> ModuleType:
    import yaml as module

    globals()["yaml"] = module
    return module


def _loader() -> Any:
    """libyaml's C composer: the same nodes, each with its line; its own nesting limit is 1000 levels."""
    module = _yaml()
    return getattr(module, "CSafeLoader", module.SafeLoader)


if TYPE_CHECKING:
    _LOADER: Any
else:
    def __getattr__(name: str) -> Any:
        """`_LOADER`, the loader `compose` uses, found (and yaml imported) only when asked for."""
        if name == "_LOADER":
            return _loader()
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class Field:
    """One key of a mapping: the type it must have, and whether it is required."""

    kind: Any
    required: bool = False


class AnyMapOf:
    """A mapping whose keys are free (service names, signal names) and values share a schema."""

    def __init__(self, value: Any, key_check: Callable[[str], str | None] | None = None) -> None:
        self.value = value
        self.key_check = key_check


class ListOf:
    def __init__(self, item: Any) -> None:
        self.item = item


class OneOf:
    """A scalar, or a list of the same scalars (a query, or ordered alternatives)."""

    def __init__(self, *kinds: Any) -> None:
        self.kinds = kinds


class Choice:
    def __init__(self, *values: Any) -> None:
        self.values = values


class IntRange:
    def __init__(self, lo: int, hi: int) -> None:
        self.lo, self.hi = lo, hi


Schema = Mapping[str, Field]


def read_text(path: Path, what: str = "config file") -> str:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    if size > MAX_FILE_BYTES:
        raise ConfigError(f"{path}: {size} bytes is too large for a {what} (limit {MAX_FILE_BYTES})")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 (byte 0x{data[exc.start]:02x})") from None


def _too_deep(text: str) -> int | None:
    """The line where the nesting first goes past MAX_DEPTH (the parser's events are flat, so
    counting them needs no recursion), or None."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    return event.start_mark.line + 1
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return None
    return None


def _too_deep_node(node: yaml.Node | None) -> int | None:
    """The line of the first collection nested deeper than MAX_DEPTH, walking without recursion."""
    stack = [(node, 1)] if isinstance(node, (yaml.SequenceNode, yaml.MappingNode)) else []
    seen: set[int] = set()  # an alias is the node it names: walked once (an alias bomb stays small)
    while stack:
        current, depth = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if depth > MAX_DEPTH:
            return int(current.start_mark.line) + 1
        children = current.value if isinstance(current, yaml.SequenceNode) else [
            child for pair in current.value for child in pair]
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, (yaml.SequenceNode, yaml.MappingNode)))
    return None


def _nested_error(source: str, line: int | None) -> ConfigError:
    where = f"{source}:{line}" if line else source
    return ConfigError(f"{where}: nested more than {MAX_DEPTH} levels deep; no triage file needs that")


def compose(text: str, source: str) -> yaml.Node | None:
    try:
        node = yaml.compose(text, Loader=_loader())
    except RecursionError:
        raise _nested_error(source, _too_deep(text)) from None
    except yaml.MarkedYAMLError as exc:
        if "maximum nesting depth" in str(exc.problem):  # libyaml's limit, past ours
            raise _nested_error(source, _too_deep(text)) from None
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}" if mark else source
        raise ConfigError(f"{where}: invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: invalid YAML: {exc}") from None
    line = _too_deep_node(node)
    if line is not None:
        raise _nested_error(source, line)
    return node


def where(source: str, node: yaml.Node) -> str:
    return f"{source}:{node.start_mark.line + 1}"


def _at(source: str, node: yaml.Node | None) -> str:
    """`where`, for a node that is absent only at the top of an empty file."""
    return where(source, node) if node is not None else source


def validate(node: yaml.Node | None, schema: Any, source: str, path: str = "") -> Any:
    """Check `node` against `schema` and return plain Python values."""
    label = path or "(top level)"
    if isinstance(schema, Mapping):
        return _mapping(node, schema, source, path, label)
    if isinstance(schema, AnyMapOf):
        return _any_map(node, schema, source, path, label)
    if isinstance(schema, ListOf):
        if not isinstance(node, yaml.SequenceNode):
            raise ConfigError(f"{_at(source, node)}: {label} must be a list")
        return [validate(item, schema.item, source, f"{path}[{i}]") for i, item in enumerate(node.value)]
    if isinstance(schema, OneOf):
        problems = []
        for kind in schema.kinds:
            try:
                return validate(node, kind, source, path)
            except ConfigError as exc:
                problems.append(exc)
        raise problems[0]
    if isinstance(schema, Choice):
        value = _scalar(node, source)
        if value not in schema.values:
            allowed = ", ".join(str(v) for v in schema.values)
            raise ConfigError(f"{_at(source, node)}: {label} is {value!r}; expected one of {allowed}")
        return value
    if isinstance(schema, IntRange):
        value = _scalar(node, source)
        if isinstance(value, bool) or not isinstance(value, int) or not schema.lo <= value <= schema.hi:
            raise ConfigError(f"{_at(source, node)}: {label} must be a whole number from {schema.lo} to "
                              f"{schema.hi}, not {value!r}")
        return value
    if schema is Any:
        return yaml.constructor.SafeConstructor().construct_document(node) if node is not None else None
    return _plain(node, schema, source, label)


def _mapping(node: yaml.Node | None, schema: Schema, source: str, path: str, label: str) -> dict[str, Any]:
    if node is None:
        return {}
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"{where(source, node)}: {label} must be a mapping")
    out: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = _scalar(key_node, source)
        if not isinstance(key, str):
            raise ConfigError(f"{where(source, key_node)}: key {key!r} in {label} must be a string")
        if key in out:
            raise ConfigError(f"{where(source, key_node)}: key '{_join(path, key)}' is given twice")
        if key not in schema:
            known = ", ".join(sorted(schema))
            raise ConfigError(
                f"{where(source, key_node)}: unknown key '{_join(path, key)}' (expected one of: {known})"
            )
        out[key] = validate(value_node, schema[key].kind, source, _join(path, key))
    for key, fld in schema.items():
        if fld.required and key not in out:
            raise ConfigError(f"{where(source, node)}: {label} is missing required key '{key}'")
    return out


def _any_map(node: yaml.Node | None, schema: AnyMapOf, source: str, path: str, label: str) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
        return {}
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"{_at(source, node)}: {label} must be a mapping")
    out: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = str(_scalar(key_node, source))
        if schema.key_check is not None:
            problem = schema.key_check(key)
            if problem:
                raise ConfigError(f"{where(source, key_node)}: '{_join(path, key)}': {problem}")
        if key in out:
            raise ConfigError(f"{where(source, key_node)}: key '{_join(path, key)}' is given twice")
        out[key] = validate(value_node, schema.value, source, _join(path, key))
    return out


def _plain(node: yaml.Node | None, schema: Any, source: str, label: str) -> Any:
    """A str, int, float or bool: ints are numbers, a number is a string where text is asked
    for (a version `1.10` stays as written), a bool is never a number."""
    if not isinstance(node, yaml.ScalarNode):
        raise ConfigError(f"{_at(source, node)}: {label} must be a {_type_name(schema)}")
    value = _scalar(node, source)
    if schema is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if schema is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(node.value)
    if not isinstance(value, schema) or (schema is not bool and isinstance(value, bool)):
        raise ConfigError(
            f"{where(source, node)}: {label} must be a {_type_name(schema)}, not {_describe(value)}"
        )
    return value


def _scalar(node: yaml.Node | None, source: str) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise ConfigError(f"{_at(source, node)}: expected a single value here, found a {_node_kind(node)}")
    try:
        return yaml.constructor.SafeConstructor().construct_object(node, deep=True)
    except Exception as exc:  # noqa: BLE001 - an explicit tag on a value it does not fit: !!int "x", !!python/...
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        unknown = isinstance(exc, yaml.constructor.ConstructorError)
        why = " (a tag the safe YAML loader does not know)" if unknown else ""
        raise ConfigError(f"{where(source, node)}: {node.value[:40]!r} cannot be read as {tag[:60]}{why}") from None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _type_name(kind: Any) -> str:
    return {str: "string", int: "whole number", float: "number", bool: "true/false", bytes: "binary value",
            list: "list", dict: "mapping"}.get(kind, getattr(kind, "__name__", str(kind)))


def _describe(value: Any) -> str:
    if value is None:
        return "empty"
    return f"{_type_name(type(value))} {value!r}"


def _node_kind(node: yaml.Node | None) -> str:
    if isinstance(node, yaml.MappingNode):
        return "mapping"
    return "list" if isinstance(node, yaml.SequenceNode) else "value"


def load_file(path: Path, schema: Any) -> tuple[Any, yaml.Node | None]:
    text = read_text(path)
    node = compose(text, str(path))
    return validate(node, schema, str(path)), node


def line_of(node: yaml.Node | None, *keys: str) -> int | None:
    """The line of a nested key, for errors raised after validation (a bad override query)."""
    if node is None:  # no file (a run without a config): nothing to look in, and no need of yaml
        return None
    current = node
    for key in keys:
        if not isinstance(current, yaml.MappingNode):
            return None
        for key_node, value_node in current.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                current = value_node
                break
        else:
            return None
    return current.start_mark.line + 1 if current is not None else None
