"""The version is written once (triage/__init__.py); the package metadata and `--version` read it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import triage
from testing.cli import run_cli

ROOT = Path(__file__).resolve().parent.parent

tomllib = pytest.importorskip("tomllib")     # Python 3.11+; the checks below need no other reader


def test_pyproject_reads_the_version_from_the_package():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["hatch"]["version"]["path"] == "triage/__init__.py"


def test_the_package_has_one_version_string():
    text = (ROOT / "triage" / "__init__.py").read_text()
    assert re.findall(r'^__version__ = "([^"]+)"$', text, re.M) == [triage.__version__]
    assert re.fullmatch(r"\d+\.\d+\.\d+", triage.__version__)


def test_version_flag_prints_it():
    result = run_cli(["--version"])
    assert result.code == 0
    assert result.stdout == f"triage {triage.__version__}\n"


def test_the_changelog_names_the_version():
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## [{triage.__version__}]" in changelog
    assert "## [Unreleased]" in changelog
