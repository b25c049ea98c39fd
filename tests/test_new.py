"""`rollout new`: scaffolded files are valid, atomic, and never overwrite."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from pathlib import Path

from rollout_tool.loading import load
from tests.support.repos import Repo


def test_new_report_is_valid_and_carries_the_schema_line(repo: Repo) -> None:
    result = repo.rollout(
        "new", "report", "arc-ce/6.19.0", "--team", "praguelcg2", "--verdict", "reject",
        "--platform", "el8", "--install", "upgrade", "--from-version", "6.18.0", "--workflow", "CMS",
        "--today", "2026-11-20",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == "wrote releases/arc-ce/6.19.0/reports/praguelcg2.yaml\n"
    text = (repo.root / "releases/arc-ce/6.19.0/reports/praguelcg2.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=../../../../schema/report.schema.json\n")
    assert load(text.encode()) == {
        "team": "praguelcg2",
        "revision": 1,
        "verdict": "reject",
        "date": "2026-11-20",
        "environments": [{
            "platform": "el8", "arch": "x86_64", "install": "upgrade", "from_version": "6.18.0", "workflows": ["CMS"],
        }],
    }  # fmt: skip
    assert repo.rollout("validate").returncode == 0


def test_new_report_takes_the_release_s_current_revision(repo: Repo) -> None:
    release = repo.root / "releases/arc-ce/6.19.0/release.yaml"
    release.write_text(release.read_text().replace("revision: 1", "revision: 3"))
    result = repo.rollout(
        "new", "report", "arc-ce/6.19.0", "--team", "praguelcg2", "--verdict", "accept", "--platform", "el9",
        "--install", "fresh",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    data = load((repo.root / "releases/arc-ce/6.19.0/reports/praguelcg2.yaml").read_bytes())
    assert isinstance(data, dict) and data["revision"] == 3


def test_invalid_scaffold_is_refused_and_nothing_is_written(repo: Repo) -> None:
    result = repo.rollout(
        "new", "report", "arc-ce/6.19.0", "--team", "mwt2", "--verdict", "accept", "--platform", "el9",
        "--install", "fresh",
    )  # fmt: skip
    assert result.returncode == 1
    assert "[error] team 'mwt2' is not assigned to arc-ce/6.19.0" in result.stdout
    assert "not written" in result.stderr
    assert not (repo.root / "releases/arc-ce/6.19.0/reports/mwt2.yaml").exists()
    assert sorted(p.name for p in (repo.root / "releases/arc-ce/6.19.0/reports").iterdir()) == ["ncg-ingrid-pt.yaml"]


def test_existing_file_is_never_overwritten(repo: Repo) -> None:
    path = repo.root / "releases/arc-ce/6.19.0/reports/ncg-ingrid-pt.yaml"
    before = path.read_bytes()
    result = repo.rollout(
        "new", "report", "arc-ce/6.19.0", "--team", "ncg-ingrid-pt", "--verdict", "reject", "--platform", "el9",
        "--install", "fresh",
    )  # fmt: skip
    assert result.returncode == 1
    assert "already exists" in result.stderr
    assert path.read_bytes() == before


def test_new_release_is_a_candidate_with_its_history(repo: Repo) -> None:
    result = repo.rollout(
        "new", "release", "arc-ce/7.0.0", "--type", "major", "--platform", "el9", "--summary", "ARC 7",
        "--by", "nordu-maint", "--today", "2026-11-25",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    data = load((repo.root / "releases/arc-ce/7.0.0/release.yaml").read_bytes())
    assert isinstance(data, dict)
    assert data["state"] == "candidate"
    assert data["history"] == [{"state": "candidate", "date": "2026-11-25", "by": "nordu-maint"}]
    assert repo.rollout("validate").returncode == 0


def test_new_release_needs_product_slash_version(repo: Repo) -> None:
    result = repo.rollout(
        "new", "release", "arc-ce", "--type", "major", "--platform", "el9", "--summary", "x", "--by", "a"
    )
    assert result.returncode == 2
    assert "name a release as PRODUCT/VERSION" in result.stderr
    assert "Traceback" not in result.stderr


def test_new_team_with_unknown_platform_is_refused(repo: Repo) -> None:
    result = repo.rollout("new", "team", "cern-t0", "--site", "CERN-PROD", "--member", "ola", "--platform", "el99")
    assert result.returncode == 1
    assert "no platform 'el99' in rollout.yaml; did you mean 'el9'?" in result.stdout
    assert not (repo.root / "teams/cern-t0.yaml").exists()


def test_missing_value_without_a_terminal_is_a_usage_error(repo: Repo) -> None:
    result = repo.rollout("new", "team", "cern-t0", "--member", "ola", "--platform", "el9")
    assert result.returncode == 2
    assert "missing site" in result.stderr


def test_prompts_in_a_terminal(repo: Repo) -> None:
    """Run in a pseudo-terminal, `new team` asks for what its options did not give."""
    primary, secondary = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    process = subprocess.Popen(
        [sys.executable, "-m", "rollout_tool", "new", "team", "cern-t0", "--federation", "EGI"],
        cwd=repo.root, stdin=secondary, stdout=secondary, stderr=secondary, env=env, close_fds=True,
    )  # fmt: skip
    os.close(secondary)
    answers = iter([b"\n", b"CERN-PROD\n", b"ola, per\n", b"el9\n"])
    output = b""
    deadline = time.monotonic() + 30
    while process.poll() is None and time.monotonic() < deadline:
        try:
            chunk = os.read(primary, 4096)
        except OSError:
            break
        output += chunk
        if chunk.rstrip().endswith(b":") or chunk.rstrip().endswith(b"]:"):
            os.write(primary, next(answers, b"\n"))
    process.wait(timeout=10)
    os.close(primary)
    assert process.returncode == 0, output.decode(errors="replace")
    data = load((repo.root / "teams/cern-t0.yaml").read_bytes())
    assert isinstance(data, dict)
    assert data["name"] == "cern-t0 EA team"
    assert data["site"] == "CERN-PROD"
    assert data["members"] == ["ola", "per"]
    assert data["platforms"] == ["el9"]


def test_scaffold_writes_atomically(repo: Repo, tmp_path: Path) -> None:
    """No temporary file is left beside the new record."""
    repo.rollout("new", "team", "cern-t0", "--site", "CERN-PROD", "--member", "ola", "--platform", "el9")
    assert sorted(p.name for p in (repo.root / "teams").iterdir()) == [
        "cern-t0.yaml", "mwt2.yaml", "ncg-ingrid-pt.yaml", "praguelcg2.yaml",
    ]  # fmt: skip


def test_new_report_takes_the_environment_fields(repo: Repo) -> None:
    result = repo.rollout(
        "new", "report", "arc-ce/6.19.0", "--team", "praguelcg2", "--verdict", "accept", "--platform", "el8",
        "--install", "fresh", "--service", "A-REX", "--service", "nordugrid-arc-gridftpd", "--batch-system",
        "HTCondor", "--in-production-since", "2026-11-12", "--revision", "1", "--today", "2026-11-20",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = load((repo.root / "releases/arc-ce/6.19.0/reports/praguelcg2.yaml").read_bytes())
    assert isinstance(data, dict)
    assert data["in_production_since"] == "2026-11-12"
    [environment] = data["environments"]
    assert environment == {
        "platform": "el8", "arch": "x86_64", "install": "fresh", "services": ["A-REX", "nordugrid-arc-gridftpd"],
        "batch_system": "HTCondor",
    }  # fmt: skip


def test_new_report_refuses_a_closed_release_and_an_old_revision(repo: Repo) -> None:
    release = repo.root / "releases/arc-ce/6.19.0/release.yaml"
    text = release.read_text()
    release.write_text(text.replace("revision: 1", "revision: 2"))
    old = repo.rollout(
        "new", "report", "arc-ce/6.19.0", "--team", "praguelcg2", "--verdict", "accept", "--platform", "el8",
        "--install", "fresh", "--revision", "1",
    )  # fmt: skip
    assert (old.returncode, old.stderr) == (
        1,
        "rollout: arc-ce/6.19.0 is at revision 2, not 1: a report counts only for the current revision;"
        " install it and test again\n",
    )
    release.write_text(
        text.replace("state: rollout", "state: accepted") + "  - {state: accepted, date: 2026-11-20, by: carla-coord}\n"
    )
    closed = repo.rollout(
        "new", "report", "arc-ce/6.19.0", "--team", "praguelcg2", "--verdict", "accept", "--platform", "el8",
        "--install", "fresh",
    )  # fmt: skip
    assert (closed.returncode, closed.stderr) == (
        1,
        "rollout: arc-ce/6.19.0 is accepted: reports are taken only while a release is in rollout\n",
    )
    assert not (repo.root / "releases/arc-ce/6.19.0/reports/praguelcg2.yaml").exists()
