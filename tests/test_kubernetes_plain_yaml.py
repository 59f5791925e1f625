"""`direct._plain_yaml`: a kubeconfig of plain block mappings and sequences read without importing
PyYAML (issue 17); what it reads equals PyYAML's SafeLoader, anything else is left to PyYAML."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap

import pytest
import yaml

from triage.sources.kubernetes.direct import _plain_yaml, _yaml

DOC = {"apiVersion": "v1", "kind": "Config", "current-context": "kind-kind", "preferences": {},
       "clusters": [{"name": "kind-kind", "cluster": {
           "server": "https://127.0.0.1:6443", "insecure-skip-tls-verify": True,
           "certificate-authority-data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM+/w=="}}],
       "contexts": [{"name": "kind-kind", "context": {"cluster": "kind-kind", "user": "admin@kind",
                                                      "namespace": "shop"}}],
       "users": [{"name": "admin@kind", "user": {
           "token": "abc.def-ghi", "client-key": "/home/x/.kube/key.pem", "username": "offline",
           "extensions": [{"name": "a", "extension": {"x": None, "l": ["a", "Nope", {"c": "d"}], "e": []}}]}}]}


def _safe(text: str):
    return yaml.load(text, Loader=yaml.SafeLoader)


@pytest.mark.parametrize("text", [
    yaml.safe_dump(DOC),
    yaml.dump(DOC, sort_keys=False),
    "apiVersion: v1\nclusters:\n- cluster:\n    server: http://127.0.0.1:1\n  name: fake\n"
    "users:\n- name: u\n  user: {}",
    "a:\nb: x_y\nc:\n  - x\n  - y\nd: TRUE\ne: tRue\nf: Null\ng: y\nh: a:b\ni: off\nj:\n- No\n- on\n",
])
def test_plain_documents_read_as_the_safe_loader_reads_them(text):
    got = _plain_yaml(text)
    assert got is not None
    assert got == _safe(text) and repr(got) == repr(_safe(text))


@pytest.mark.parametrize("text", [
    "", "\n", "a: b # note\n", "a: 'b'\n", 'a: "b"\n', "a: 1\n", "a: 0x1f\n", "a: 1:20\n", "a: .inf\n",
    "a: 2024-01-01\n", "a: [b]\n", "a: {b: c}\n", "a: b c\n", "a: b \n", "a:  b\n", "a: b:\n", "a:\tb\n",
    "a: b\r\n", "a: é\n", "---\na: b\n", "a: b\n...\n", "true: b\n", "on: b\n", "null: b\n", "a: &x b\n",
    "a: *x\n", "a: !!str 1\n", "a: |\n  b\n", "a: >\n  b\n", "a: b\n  c\n", "a:\n  b\n", "a: b\na: c\n",
    "- a\n", " a: b\n", "a: b\n- c\n", "a:\n- b\n  c\n", "a:\n-   b: c\n", "a:\n- - b\n", "a:\n-\n", "<<: b\n",
    "a: =\n", "a: ~\n", "a: -b\n", "a: /x\n   b: c\n", "a:\n  b: c\n c: d\n",
])
def test_anything_else_is_left_to_pyyaml(text):
    assert _plain_yaml(text) is None


def test_mutated_kubeconfigs_are_read_as_pyyaml_reads_them_or_left_to_it():
    rnd = random.Random(17)
    pieces = list("abyYnNtTfFoO:/- \n#'\"{}[],.=+@_01~!&*|>%\t") + [
        "true", "yes", "off", "null", "- ", ": ", "\n  ", "\n- ", "---", "0x1", "1:2", "é"]
    docs = [yaml.safe_dump(DOC), yaml.dump(DOC, sort_keys=False)]
    read = 0
    for _ in range(3000):
        chars = list(rnd.choice(docs))
        for _ in range(rnd.randint(1, 4)):
            i = rnd.randrange(len(chars))
            op = rnd.random()
            if op < 0.4:
                chars.insert(i, rnd.choice(pieces))
            elif op < 0.7:
                del chars[i]
            else:
                chars[i] = rnd.choice(pieces)
        text = "".join(chars)
        got = _plain_yaml(text)
        if got is None:
            continue
        read += 1
        assert repr(got) == repr(_safe(text)), text
    assert read > 100


def test_nesting_deeper_than_the_stack_is_left_to_pyyaml():
    text = "".join(f"{' ' * (2 * depth)}k:\n" for depth in range(sys.getrecursionlimit() + 10))
    assert _plain_yaml(text) is None


def test_a_kubeconfig_outside_the_plain_kind_is_still_read_by_pyyaml():
    text = "a: 'quoted'  # comment\nb: [1, 2]\n"
    assert _yaml(text) == {"a": "quoted", "b": [1, 2]}


def test_a_plain_kubeconfig_is_loaded_without_importing_yaml(tmp_path):
    config = tmp_path / "config"
    config.write_text(yaml.safe_dump({
        "apiVersion": "v1", "current-context": "prod",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443", "insecure-skip-tls-verify": True}}],
        "users": [{"name": "u", "user": {"token": "t0ken"}}],
        "contexts": [{"name": "prod", "context": {"cluster": "c", "user": "u", "namespace": "shop"}}]}))
    code = textwrap.dedent(f"""
        import sys
        from triage.sources.kubernetes import direct
        got = direct.load(context=None, kubeconfig={str(config)!r}, env={{}}, service_account_dir="/nonexistent")
        print(got.server, got.namespace, "yaml" in sys.modules, "tempfile" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["https://127.0.0.1:6443", "shop", "False", "False"]  # tempfile: for client certs only
