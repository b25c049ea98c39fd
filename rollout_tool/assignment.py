"""Whether a team can be assigned to a release: one sentence, for check-pr and `rollout start | assign` alike."""

from __future__ import annotations

from rollout_tool.records import Release, Team


def why_not_assignable(team_id: str, team: Team, release: Release) -> str | None:
    """None when the team can take part; otherwise why not, as a sentence a coordinator can act on."""
    if not team.active:
        return f"team `{team_id}` is inactive: it takes no new rollouts until a coordinator sets it active"
    if not set(team.platforms) & set(release.platforms):
        return (
            f"team `{team_id}` runs {', '.join(team.platforms)}, none of the platforms the release ships"
            f" ({', '.join(release.platforms)})"
        )
    return None
