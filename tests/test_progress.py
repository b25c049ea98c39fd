"""Progress on long runs, shown to a person at a terminal only; and shell completion."""

from __future__ import annotations

import io
import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from rollout_tool.progress import Progress
from tests.support.repos import Repo, run_rollout

ROLLOUT = Path(sys.executable).parent / "rollout"


def with_stderr_on_a_terminal(*args: str, cwd: Path) -> tuple[int, str, str]:
    """Run `rollout` with stderr on a pseudo-terminal and stdout on a pipe: (exit code, stdout, stderr)."""
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "ROLLOUT_TODAY", "ROLLOUT_REPO")}
    process = subprocess.Popen(
        [sys.executable, "-m", "rollout_tool", *args], cwd=cwd, stdout=subprocess.PIPE, stderr=follower, env=env
    )
    os.close(follower)
    seen = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            process.kill()
            raise AssertionError(f"no output for 60 s; so far {seen!r}")
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal is closed once the process has ended
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert process.stdout is not None
    out = process.stdout.read().decode()
    return process.wait(timeout=60), out, seen.decode()


def test_no_progress_when_stderr_is_not_a_terminal(repo: Repo, tmp_path: Path) -> None:
    result = run_rollout("validate", "--format", "json", cwd=repo.root)
    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout)["files"] == 7
    built = run_rollout("site", "--out", str(tmp_path / "site"), "--today", "2026-11-20", cwd=repo.root)
    assert (built.returncode, built.stderr) == (0, "")


def test_validate_shows_its_progress_on_a_terminal_and_keeps_stdout_clean(repo: Repo) -> None:
    code, out, err = with_stderr_on_a_terminal("validate", "--format", "json", cwd=repo.root)
    assert code == 0
    assert json.loads(out)["files"] == 7  # nothing but the JSON on stdout
    assert "validating [" in err
    assert "] 0/7" in err  # every record counted before they are read, and no more
    assert err.endswith("\r\x1b[K")  # the line is erased at the end


def test_site_shows_its_progress_on_a_terminal(repo: Repo, tmp_path: Path) -> None:
    code, out, err = with_stderr_on_a_terminal(
        "site", "--out", str(tmp_path / "site"), "--today", "2026-11-20", cwd=repo.root
    )
    assert code == 0
    files = int(out.split()[1])
    counts = [int(line.split(": ")[1].split("\x1b")[0]) for line in err.split("\r") if line.startswith("building")]
    assert counts[0] == 0 and counts == sorted(counts) and counts[-1] <= files
    assert err.endswith("\r\x1b[K")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_line_counts_and_is_redrawn_at_most_ten_times_a_second() -> None:
    stream = _Terminal()
    with Progress("importing", 1000, stream) as progress:
        for _ in range(1000):
            progress.advance()
        assert progress.line() == f"importing [{'#' * 30}] 1,000/1,000"
    text = stream.getvalue()
    assert text.startswith("\rimporting [------------------------------] 0/1,000")
    assert text.count("\r") < 10  # a thousand steps in well under a second: not a thousand redraws
    quiet = io.StringIO()
    with Progress("importing", 10, quiet) as progress:
        progress.advance(10)
    assert quiet.getvalue() == ""


def test_bash_completion_script_and_completions() -> None:
    script = subprocess.run(
        [ROLLOUT], env={**os.environ, "_ROLLOUT_COMPLETE": "bash_source"}, capture_output=True, text=True
    )
    assert script.returncode == 0
    assert "_rollout_completion()" in script.stdout
    assert "complete -o nosort -F _rollout_completion rollout" in script.stdout
    env = {**os.environ, "_ROLLOUT_COMPLETE": "bash_complete", "COMP_WORDS": "rollout vali", "COMP_CWORD": "1"}
    answer = subprocess.run([ROLLOUT], env=env, capture_output=True, text=True)
    assert answer.stdout.split() == ["plain,validate"]
