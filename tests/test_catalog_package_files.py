"""The bundled directories found without importlib.resources when triage is imported from files
(issue 17): the same directory importlib's reader gives, and a catalog load that imports neither
importlib.resources nor what it brings (tempfile, shutil, random, zipfile)."""

from __future__ import annotations

import subprocess
import sys
import types
from importlib import resources
from pathlib import Path

import triage
from triage import catalog


def test_the_package_directory_is_importlibs():
    assert catalog._package_files() == resources.files("triage")
    assert catalog.bundled_dir("queries").is_dir()


def test_another_loader_is_asked_through_importlib(monkeypatch):
    asked = []
    fake = types.SimpleNamespace(files=lambda name: asked.append(name) or Path("/nowhere"))
    monkeypatch.setattr(triage.__spec__, "loader", object())
    monkeypatch.setitem(sys.modules, "importlib.resources", fake)
    monkeypatch.setattr(sys.modules["importlib"], "resources", fake, raising=False)
    assert catalog._package_files() == Path("/nowhere")
    assert asked == ["triage"]


def test_loading_the_catalog_imports_no_importlib_resources():
    code = ("import sys; from triage.catalog import load_catalog; load_catalog([]); "
            "print(sorted(m for m in ('importlib.resources', 'tempfile', 'shutil', 'random', 'zipfile') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
