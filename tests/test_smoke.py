from __future__ import annotations

from tests.support.repos import Repo


def test_fixture_repository_is_valid(repo: Repo) -> None:
    result = repo.rollout("validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.startswith("7 files checked, 0 errors")


def test_unknown_key_is_located_with_a_suggestion(repo: Repo) -> None:
    path = "releases/arc-ce/6.19.0/reports/ncg-ingrid-pt.yaml"
    repo.write(path, "verdcit: accept\n" + (repo.root / path).read_text())
    result = repo.rollout("validate")
    assert result.returncode == 1
    assert (
        "releases/arc-ce/6.19.0/reports/ncg-ingrid-pt.yaml:1:1: [error] unknown key 'verdcit'; did you mean 'verdict'? (unknown-key)"
        in result.stdout
    )
