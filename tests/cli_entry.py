"""The real `autorecipe` entry point in a subprocess, for tests of exit codes and stderr."""

from __future__ import annotations

import os
import subprocess
import sys


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """`autorecipe ARGS` through autorecipe.cli:main, as the console script runs it."""
    env = {k: v for k, v in os.environ.items() if k not in ("AUTORECIPE_INDEX", "AUTORECIPE_DEBUG")}
    code = "from autorecipe.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120
    )


def one_line_error(proc: subprocess.CompletedProcess[str], *words: str) -> str:
    """The single stderr line of a bad-input exit (2), checked to contain `words`."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("autorecipe: error: "), proc.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]
