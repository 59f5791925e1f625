"""triage/yamlschema.py on libyaml's C parser (issue 17): same values, and every error still
names the file and the line to fix."""

from __future__ import annotations

import pytest
import yaml

from triage import yamlschema
from triage.errors import ConfigError
from triage.yamlschema import Field, ListOf, compose, validate

SCHEMA = {"name": Field(str, required=True), "port": Field(int), "tags": Field(ListOf(str)), "extra": Field(object)}


def _error(text: str, schema=SCHEMA) -> str:
    with pytest.raises(ConfigError) as caught:
        validate(compose(text, "f.yaml"), schema, "f.yaml")
    return caught.value.message


@pytest.mark.skipif(not getattr(yaml, "__with_libyaml__", False), reason="PyYAML built without libyaml")
def test_the_c_parser_is_the_one_used():
    assert yamlschema._LOADER is yaml.CSafeLoader
    assert type(compose("a: 1\n", "f.yaml").start_mark).__module__ == "yaml._yaml"


def test_values_are_those_of_safe_load():
    text = "name: api\nport: 8080\ntags: [a, b]\n"
    assert validate(compose(text, "f.yaml"), SCHEMA, "f.yaml") == yaml.safe_load(text)


@pytest.mark.parametrize(("text", "line", "words"), [
    ("name: api\nport: eighty\n", 2, "port must be a whole number"),
    ("name: api\n\n\ntags:\n  - a\n  - {b: 1}\n", 6, "tags[1] must be a string"),
    ("name: api\nportt: 1\n", 2, "unknown key 'portt'"),
    ("name: api\nport: 1\nport: 2\n", 3, "given twice"),
    ("port: 1\n", 1, "missing required key 'name'"),
    ("name: api\ntags: [a, b\nport: 3\n", 3, "invalid YAML"),
    ("name: api\n  port: 2\n", 2, "invalid YAML"),
    ("name: !!int abc\n", 1, "cannot be read as !!int"),
])
def test_each_error_names_its_line(text, line, words):
    message = _error(text)
    assert message.startswith(f"f.yaml:{line}: "), message
    assert words in message


@pytest.mark.parametrize("depth", [65, 200, 999, 1500, 5000])
def test_nesting_past_the_limit_is_one_line_with_its_line(depth):
    # below libyaml's own limit (1000) the C parser composes it; triage's limit (64) still holds
    text = "name: api\nextra:\n  deep: " + "[" * depth + "]" * depth + "\n"
    message = _error(text, {"name": Field(str), "extra": Field(dict)})
    assert message == f"f.yaml:3: nested more than {yamlschema.MAX_DEPTH} levels deep; no triage file needs that"


def test_block_nesting_past_the_limit_names_its_line():
    text = "top:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(100))
    message = _error(text, {"top": Field(dict)})
    assert message.startswith("f.yaml:") and "nested more than" in message
    assert int(message.split(":")[1]) == yamlschema.MAX_DEPTH + 1


def test_any_value_is_read_whole():
    from typing import Any

    node = compose("extra: {a: [1, 2.5, x], b: null}\n", "f.yaml")
    assert validate(node, {"extra": Field(Any)}, "f.yaml") == {"extra": {"a": [1, 2.5, "x"], "b": None}}
