"""GitHub's REST response shapes, built from the server's stored records.

Every URL is built from the server's own address: PyGithub refuses URLs that
name another host than the one it was pointed at.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

Json = dict[str, Any]


def node_id(kind: str, number: int) -> str:
    return base64.b64encode(f"{kind}:{number}".encode()).decode()


def user_id(login: str) -> int:
    # Stable ids without a user table: the same login always has the same id.
    return int(hashlib.sha256(login.encode()).hexdigest()[:8], 16)


def simple_user(base: str, login: str) -> Json:
    api = f"{base}/users/{login}"
    return {
        "login": login,
        "id": user_id(login),
        "node_id": node_id("User", user_id(login)),
        "avatar_url": f"{base}/avatars/{login}",
        "gravatar_id": "",
        "url": api,
        "html_url": f"{base}/{login}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": "Bot" if login.endswith("[bot]") else "User",
        "user_view_type": "public",
        "site_admin": False,
    }


def public_user(base: str, login: str, created_at: str) -> Json:
    return {
        **simple_user(base, login),
        "name": login,
        "company": None,
        "blog": "",
        "location": None,
        "email": None,
        "hireable": None,
        "bio": None,
        "twitter_username": None,
        "public_repos": 0,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "created_at": created_at,
        "updated_at": created_at,
    }


def repository(base: str, full_name: str, repo: Json) -> Json:
    owner, name = full_name.split("/")
    api = f"{base}/repos/{full_name}"
    html = f"{base}/{full_name}"
    templated = {
        "archive_url": f"{api}/{{archive_format}}{{/ref}}",
        "assignees_url": f"{api}/assignees{{/user}}",
        "blobs_url": f"{api}/git/blobs{{/sha}}",
        "branches_url": f"{api}/branches{{/branch}}",
        "collaborators_url": f"{api}/collaborators{{/collaborator}}",
        "comments_url": f"{api}/comments{{/number}}",
        "commits_url": f"{api}/commits{{/sha}}",
        "compare_url": f"{api}/compare/{{base}}...{{head}}",
        "contents_url": f"{api}/contents/{{+path}}",
        "contributors_url": f"{api}/contributors",
        "deployments_url": f"{api}/deployments",
        "downloads_url": f"{api}/downloads",
        "events_url": f"{api}/events",
        "forks_url": f"{api}/forks",
        "git_commits_url": f"{api}/git/commits{{/sha}}",
        "git_refs_url": f"{api}/git/refs{{/sha}}",
        "git_tags_url": f"{api}/git/tags{{/sha}}",
        "hooks_url": f"{api}/hooks",
        "issue_comment_url": f"{api}/issues/comments{{/number}}",
        "issue_events_url": f"{api}/issues/events{{/number}}",
        "issues_url": f"{api}/issues{{/number}}",
        "keys_url": f"{api}/keys{{/key_id}}",
        "labels_url": f"{api}/labels{{/name}}",
        "languages_url": f"{api}/languages",
        "merges_url": f"{api}/merges",
        "milestones_url": f"{api}/milestones{{/number}}",
        "notifications_url": f"{api}/notifications{{?since,all,participating}}",
        "pulls_url": f"{api}/pulls{{/number}}",
        "releases_url": f"{api}/releases{{/id}}",
        "stargazers_url": f"{api}/stargazers",
        "statuses_url": f"{api}/statuses/{{sha}}",
        "subscribers_url": f"{api}/subscribers",
        "subscription_url": f"{api}/subscription",
        "tags_url": f"{api}/tags",
        "teams_url": f"{api}/teams",
        "trees_url": f"{api}/git/trees{{/sha}}",
    }
    open_issues = sum(1 for issue in repo["issues"].values() if issue["state"] == "open")
    return {
        "id": repo["id"],
        "node_id": node_id("Repository", repo["id"]),
        "name": name,
        "full_name": full_name,
        "owner": simple_user(base, owner),
        "private": repo.get("private", False),
        "html_url": html,
        "description": repo.get("description"),
        "fork": False,
        "url": api,
        **templated,
        "git_url": f"git://{html.split('://', 1)[1]}.git",
        "ssh_url": f"git@{base.split('://', 1)[1].split(':')[0]}:{full_name}.git",
        "clone_url": f"{html}.git",
        "svn_url": html,
        "mirror_url": None,
        "homepage": None,
        "language": "Python",
        "forks_count": 0,
        "forks": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "watchers": 0,
        "size": 1,
        "default_branch": repo.get("default_branch", "main"),
        "open_issues_count": open_issues,
        "open_issues": open_issues,
        "is_template": False,
        "topics": [],
        "has_issues": True,
        "has_projects": False,
        "has_wiki": False,
        "has_pages": False,
        "has_downloads": True,
        "has_discussions": False,
        "archived": False,
        "disabled": False,
        "visibility": "private" if repo.get("private", False) else "public",
        "license": None,
        "pushed_at": repo["created_at"],
        "created_at": repo["created_at"],
        "updated_at": repo["created_at"],
        "network_count": 0,
        "subscribers_count": 0,
    }


def label(base: str, full_name: str, record: Json) -> Json:
    return {
        "id": record["id"],
        "node_id": node_id("Label", record["id"]),
        "url": f"{base}/repos/{full_name}/labels/{record['name']}",
        "name": record["name"],
        "description": record.get("description"),
        "color": record.get("color", "ededed"),
        "default": record.get("default", False),
    }


def reactions(url: str) -> Json:
    counts = dict.fromkeys(("+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket"), 0)
    return {"url": f"{url}/reactions", "total_count": 0, **counts}


def issue(base: str, full_name: str, repo: Json, record: Json) -> Json:
    number = record["number"]
    api = f"{base}/repos/{full_name}/issues/{number}"
    kind = "pull" if record.get("pull") else "issues"
    comments = sum(1 for c in repo["comments"].values() if c["issue"] == number)
    shaped: Json = {
        "id": record["id"],
        "node_id": node_id("Issue", record["id"]),
        "url": api,
        "repository_url": f"{base}/repos/{full_name}",
        "labels_url": f"{api}/labels{{/name}}",
        "comments_url": f"{api}/comments",
        "events_url": f"{api}/events",
        "html_url": f"{base}/{full_name}/{kind}/{number}",
        "number": number,
        "state": record["state"],
        "state_reason": record.get("state_reason"),
        "title": record["title"],
        "body": record.get("body"),
        "user": simple_user(base, record["user"]),
        "labels": [label(base, full_name, repo["labels"][name]) for name in record["labels"]],
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "locked": record.get("locked", False),
        "active_lock_reason": None,
        "comments": comments,
        "closed_at": record.get("closed_at"),
        "closed_by": simple_user(base, record["closed_by"]) if record.get("closed_by") else None,
        "created_at": record["created_at"],
        "updated_at": record["updated_at"],
        "author_association": "OWNER" if record["user"] == full_name.split("/")[0] else "CONTRIBUTOR",
        "reactions": reactions(api),
        "timeline_url": f"{api}/timeline",
        "performed_via_github_app": None,
    }
    if record.get("pull"):
        pull_api = f"{base}/repos/{full_name}/pulls/{number}"
        shaped["pull_request"] = {
            "url": pull_api,
            "html_url": f"{base}/{full_name}/pull/{number}",
            "diff_url": f"{base}/{full_name}/pull/{number}.diff",
            "patch_url": f"{base}/{full_name}/pull/{number}.patch",
            "merged_at": record["pull"].get("merged_at"),
        }
        shaped["draft"] = record["pull"].get("draft", False)
    return shaped


def comment(base: str, full_name: str, repo: Json, record: Json) -> Json:
    url = f"{base}/repos/{full_name}/issues/comments/{record['id']}"
    kind = "pull" if repo["issues"].get(str(record["issue"]), {}).get("pull") else "issues"
    return {
        "id": record["id"],
        "node_id": node_id("IssueComment", record["id"]),
        "url": url,
        "html_url": f"{base}/{full_name}/{kind}/{record['issue']}#issuecomment-{record['id']}",
        "issue_url": f"{base}/repos/{full_name}/issues/{record['issue']}",
        "body": record["body"],
        "user": simple_user(base, record["user"]),
        "created_at": record["created_at"],
        "updated_at": record["updated_at"],
        "author_association": "CONTRIBUTOR",
        "performed_via_github_app": None,
        "reactions": reactions(url),
    }


def release(base: str, full_name: str, record: Json) -> Json:
    api = f"{base}/repos/{full_name}/releases/{record['id']}"
    tag = record["tag_name"]
    return {
        "url": api,
        "html_url": f"{base}/{full_name}/releases/tag/{tag}",
        "assets_url": f"{api}/assets",
        "upload_url": f"{base}/repos/{full_name}/releases/{record['id']}/assets{{?name,label}}",
        "tarball_url": f"{base}/repos/{full_name}/tarball/{tag}",
        "zipball_url": f"{base}/repos/{full_name}/zipball/{tag}",
        "id": record["id"],
        "node_id": node_id("Release", record["id"]),
        "tag_name": tag,
        "target_commitish": record["target_commitish"],
        "name": record.get("name"),
        "body": record.get("body"),
        "draft": record.get("draft", False),
        "prerelease": record.get("prerelease", False),
        "immutable": False,
        "created_at": record["created_at"],
        "published_at": None if record.get("draft") else record["created_at"],
        "updated_at": record["updated_at"],
        "author": simple_user(base, record["author"]),
        "assets": [],
    }


def git_ref(base: str, full_name: str, ref: str, record: Json) -> Json:
    kind = record.get("type", "commit")
    folder = "tags" if kind == "tag" else "commits"
    return {
        "ref": ref,
        "node_id": node_id("Ref", int(hashlib.sha256(ref.encode()).hexdigest()[:8], 16)),
        "url": f"{base}/repos/{full_name}/git/{ref}",
        "object": {
            "type": kind,
            "sha": record["sha"],
            "url": f"{base}/repos/{full_name}/git/{folder}/{record['sha']}",
        },
    }


def pull(base: str, full_name: str, repo: Json, record: Json) -> Json:
    number = record["number"]
    data = record["pull"]
    api = f"{base}/repos/{full_name}/pulls/{number}"
    shaped = issue(base, full_name, repo, record)
    for key in ("pull_request", "events_url", "repository_url", "labels_url", "timeline_url", "reactions"):
        shaped.pop(key, None)
    shaped.update(
        {
            "url": api,
            "html_url": f"{base}/{full_name}/pull/{number}",
            "diff_url": f"{base}/{full_name}/pull/{number}.diff",
            "patch_url": f"{base}/{full_name}/pull/{number}.patch",
            "issue_url": f"{base}/repos/{full_name}/issues/{number}",
            "commits_url": f"{api}/commits",
            "review_comments_url": f"{api}/comments",
            "review_comment_url": f"{base}/repos/{full_name}/pulls/comments{{/number}}",
            "comments_url": f"{base}/repos/{full_name}/issues/{number}/comments",
            "statuses_url": f"{base}/repos/{full_name}/statuses/{data['head']['sha']}",
            "head": _branch(base, full_name, repo, data["head"]),
            "base": _branch(base, full_name, repo, data["base"]),
            "merged_at": data.get("merged_at"),
            "merge_commit_sha": data.get("merge_commit_sha"),
            "requested_reviewers": [],
            "requested_teams": [],
            "_links": {
                name: {"href": href}
                for name, href in {
                    "self": api,
                    "html": f"{base}/{full_name}/pull/{number}",
                    "issue": f"{base}/repos/{full_name}/issues/{number}",
                    "comments": f"{base}/repos/{full_name}/issues/{number}/comments",
                    "review_comments": f"{api}/comments",
                    "review_comment": f"{base}/repos/{full_name}/pulls/comments{{/number}}",
                    "commits": f"{api}/commits",
                    "statuses": f"{base}/repos/{full_name}/statuses/{data['head']['sha']}",
                }.items()
            },
            "node_id": node_id("PullRequest", record["id"]),
            "auto_merge": _auto_merge(base, data.get("auto_merge")),
            "draft": data.get("draft", False),
            "merged": data.get("merged_at") is not None,
            "mergeable": None if data.get("merged_at") else True,
            "mergeable_state": "clean",
            "merged_by": None,
            "maintainer_can_modify": False,
            "review_comments": 0,
            "commits": data.get("commits", 1),
            "additions": data.get("additions", 1),
            "deletions": data.get("deletions", 0),
            "changed_files": data.get("changed_files", 1),
        }
    )
    return shaped


def _branch(base: str, full_name: str, repo: Json, branch: Json) -> Json:
    owner = full_name.split("/")[0]
    return {
        "label": f"{owner}:{branch['ref']}",
        "ref": branch["ref"],
        "sha": branch["sha"],
        "user": simple_user(base, owner),
        "repo": repository(base, full_name, repo),
    }


def _auto_merge(base: str, record: Json | None) -> Json | None:
    if record is None:
        return None
    return {**record, "enabled_by": simple_user(base, record["enabled_by"])}


def status(base: str, full_name: str, record: Json) -> Json:
    """A commit status, as posted: who posted it is its `creator` (an app's `slug[bot]` for an app)."""
    creator = simple_user(base, record["creator"])
    return {
        "url": f"{base}/repos/{full_name}/statuses/{record['sha']}",
        "avatar_url": creator["avatar_url"],
        "id": record["id"],
        "node_id": node_id("StatusContext", record["id"]),
        "state": record["state"],
        "description": record["description"],
        "target_url": record["target_url"],
        "context": record["context"],
        "created_at": record["created_at"],
        "updated_at": record["created_at"],
        "creator": creator,
    }


def combined_status(base: str, full_name: str, repo: Json, sha: str, latest: list[Json], state: str) -> Json:
    api = f"{base}/repos/{full_name}"
    statuses = []
    for record in latest:
        shaped = status(base, full_name, record)
        shaped.pop("creator")
        statuses.append(shaped)
    return {
        "state": state,
        "statuses": statuses,
        "sha": sha,
        "total_count": len(statuses),
        "repository": {key: value for key, value in repository(base, full_name, repo).items() if key != "owner"}
        | {"owner": simple_user(base, full_name.split("/")[0])},
        "commit_url": f"{api}/commits/{sha}",
        "url": f"{api}/commits/{sha}/status",
    }


def status_checks(base: str, full_name: str, branch: str, record: Json) -> Json:
    url = f"{base}/repos/{full_name}/branches/{branch}/protection/required_status_checks"
    checks = [{"context": c["context"], "app_id": c.get("app_id")} for c in record["checks"]]
    return {
        "url": url,
        "strict": record["strict"],
        "contexts": [c["context"] for c in checks],
        "checks": checks,
        "contexts_url": f"{url}/contexts",
    }


def protection(base: str, full_name: str, branch: str, record: Json) -> Json:
    """A branch's protection as GET .../protection answers it; only required status checks are modelled."""
    url = f"{base}/repos/{full_name}/branches/{branch}/protection"
    shaped: Json = {"url": url, "enforce_admins": {"url": f"{url}/enforce_admins", "enabled": record["enforce_admins"]}}
    if record.get("required_status_checks") is not None:
        shaped["required_status_checks"] = status_checks(base, full_name, branch, record["required_status_checks"])
    return shaped
