"""Drive the real entry point (error boundary included) in-process, as a user's shell would."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


def run_cli(args: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Result:
    from triage.cli import errors, main

    saved_env = dict(os.environ)
    saved_cwd = Path.cwd()
    saved_debug = errors.DEBUG
    out, err = io.StringIO(), io.StringIO()
    try:
        for key in list(os.environ):
            if key.startswith("TRIAGE_"):
                del os.environ[key]
        os.environ.update(env or {})
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(list(args))
                code = 0
            except SystemExit as exc:
                code = int(exc.code or 0)
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        errors.DEBUG = saved_debug
    return Result(code=code, stdout=out.getvalue(), stderr=err.getvalue())
