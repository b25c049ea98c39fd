"""The sticky pull-request comment: rendered by the unprivileged check, posted by the privileged workflow.

    pr_comment.py render --check CHECK.json --status STATUS.json [--validated VALIDATE.json]
                         --validation OUTCOME --pr N --head-sha SHA --out DIR
    pr_comment.py post --artifact DIR --head-sha SHA

`render` turns `rollout check-pr --format json` and `rollout status --format json`
into DIR/comment.md, DIR/labels.txt and DIR/pull-request.json, and annotates the
problems check-pr found beyond those `rollout validate` already annotated.

`post` runs where a token can write, in a checkout of the default branch with
the pull request's head commit fetched as git data (never checked out). The
artifact comes from a run of the pull request's own workflow file, which the
pull request may have rewritten: `post` takes only its number, verified against
the API, and computes the body and labels again itself, with the default
branch's tool, for the author the API names, over the head's git objects. A
body that differs from the artifact's is posted with a line saying so.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ALLOWED, REFUSED, INVALID = "rollout: allowed", "rollout: refused", "rollout: invalid"
VERDICT_LABELS = {v: f"verdict: {v}" for v in ("ready", "waiting", "blocked")}
MAX_BODY = 60_000  # GitHub refuses comments over 65,536 characters
RELEASE_PATH = re.compile(r"^releases/([^/]+)/([^/]+)/")
RECORD_PATHS = ("rollout.yaml", "teams", "releases", "distributions")  # what the check validates
TAMPERED = (
    "> ⚠️ The pull request's own check reported something else."
    " This comment is the default branch's check of its head commit."
)


def text(value: object) -> str:
    """Data from the change as inert Markdown: no HTML, links, mentions or line breaks."""
    from rollout_tool import markdown

    return markdown.text(value)


def code(value: object) -> str:
    from rollout_tool import markdown

    return markdown.code(value)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def touched_releases(check: dict[str, Any]) -> list[tuple[str, str]]:
    found: dict[tuple[str, str], None] = {}
    for change in check.get("changes", []):
        match = RELEASE_PATH.match(str(change.get("path", "")))
        if match:
            found[match.group(1), match.group(2)] = None
    return list(found)


def render(check: Any, status: Any, validation: str) -> tuple[str, list[str]]:
    lines: list[str] = []
    labels: list[str] = []
    if not isinstance(check, dict) or "allowed" not in check:
        lines += ["### Rollout check: could not run", "", "`rollout check-pr` gave no result; see the workflow's log."]
        labels.append(REFUSED)
        check = {}
    elif check["allowed"]:
        lines.append("### Rollout check: allowed ✅")
        labels.append(ALLOWED)
    else:
        lines.append("### Rollout check: refused ❌")
        labels.append(REFUSED)
    if validation not in ("success", "skipped"):
        lines += ["", "Some changed records are invalid: see the annotations in the **Files changed** tab."]
        labels.append(INVALID)

    changes = check.get("changes", [])
    if changes:
        lines += ["", "**What this pull request does**", ""]
        lines += [f"- {text(c.get('summary', c.get('path', '')))}" for c in changes]
    problems = check.get("problems", [])
    if problems:
        lines += ["", "**Why it cannot be merged as it is**" if not check.get("allowed") else "**Warnings**", ""]
        for p in problems:
            where = f"{p.get('path')}:{p.get('line')}"
            lines.append(f"- {code(where)} {text(p.get('message', ''))} ({text(p.get('rule', ''))})")

    releases = {(r.get("product"), r.get("version")): r for r in (status or {}).get("releases", [])}
    if not check.get("allowed"):
        # What a refused change would do to a verdict is moot: it cannot be merged.
        return "\n".join(lines) + "\n", labels
    for product, version in touched_releases(check):
        release = releases.get((product, version))
        if release is None:
            continue
        verdict = str(release.get("verdict", ""))
        lines += [
            "",
            f"**{text(product)}/{text(version)}** with this change: {text(release.get('state', ''))},"
            f" verdict **{text(verdict)}** (policy {text(release.get('policy', ''))})",
        ]
        lines += [f"- {text(reason)}" for reason in release.get("reasons", [])]
        if verdict in VERDICT_LABELS and VERDICT_LABELS[verdict] not in labels:
            labels.append(VERDICT_LABELS[verdict])
    return "\n".join(lines) + "\n", labels


def check_annotations(check: Any, validated: Any) -> str:
    """Workflow annotations for check-pr's own problems: validation problems are annotated once, by validate."""
    from rollout_tool import reporting
    from rollout_tool.problems import Level, Problem

    def problems(result: Any) -> list[Problem]:
        found = []
        for p in result.get("problems", []) if isinstance(result, dict) else []:
            try:
                found.append(
                    Problem(
                        str(p["path"]),
                        int(p["line"]),
                        int(p["column"]),
                        str(p["rule"]),
                        str(p["message"]),
                        Level(p["level"]),
                    )
                )
            except (KeyError, TypeError, ValueError):
                continue
        return found

    already = set(problems(validated))
    return reporting.github([p for p in problems(check) if p not in already])


def command_render(args: argparse.Namespace) -> int:
    check = read_json(args.check)
    print(check_annotations(check, read_json(args.validated) if args.validated else None), end="")
    body, labels = render(check, read_json(args.status), args.validation)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "comment.md").write_text(body, encoding="utf-8")
    (args.out / "labels.txt").write_text("".join(f"{label}\n" for label in labels), encoding="utf-8")
    target = {"number": args.pr, "head_sha": args.head_sha}
    (args.out / "pull-request.json").write_text(json.dumps(target) + "\n", encoding="utf-8")
    return 0


def pull_request(number: int) -> dict[str, Any] | None:
    api = os.environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
    request = urllib.request.Request(
        f"{api}/repos/{os.environ['GITHUB_REPOSITORY']}/pulls/{number}",
        headers={
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {os.environ['GITHUB_TOKEN']}",
            "X-GitHub-Api-Version": "2022-11-28",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            found = json.load(response)
            if not isinstance(found["head"]["sha"], str) or not isinstance(found["user"]["login"], str):
                raise ValueError("no head commit or no author")
            return dict(found)
    except (urllib.error.URLError, KeyError, TypeError, ValueError) as exc:
        print(f"::error::pull request #{number}: {exc}")
        return None


def git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], capture_output=True, text=True, errors="surrogateescape", check=False)


def is_commit(revision: str) -> bool:
    return git("cat-file", "-e", f"{revision}^{{commit}}").returncode == 0


def rollout_json(*args: str) -> Any:
    """The JSON a `rollout` command prints, or None when it printed none."""
    command, *rest = args
    done = subprocess.run(["rollout", command, "--format", "json", *rest], capture_output=True, text=True, check=False)
    sys.stderr.write(done.stderr)
    try:
        return json.loads(done.stdout) if done.returncode in (0, 1) else None
    except ValueError:
        return None


def validation_at(base: str, head: str) -> str:
    """What `rollout validate` of the changed records concludes, read from the head's git objects."""
    listed = git("diff", "-z", "--name-only", "--diff-filter=AMR", f"{base}...{head}", "--", *RECORD_PATHS)
    if listed.returncode != 0:
        return "failure"
    changed = [path for path in listed.stdout.split("\0") if path]
    if not changed:
        return "success"
    # Never a cache: this run is trusted, and a cache is what a pull request's own jobs could write.
    result = rollout_json("validate", "--no-cache", "--rev", head, "--", *changed)
    if not isinstance(result, dict) or any(p.get("level") == "error" for p in result.get("problems", [])):
        return "failure"
    return "success"


def status_at(head: str) -> Any:
    """`rollout status` of the head's git objects."""
    return rollout_json("status", "--rev", head)


def recompute(base: str, head: str, author: str) -> tuple[str, list[str]]:
    """The comment `render` writes, from the default branch's own tool run over the head's git objects."""
    check = rollout_json("check-pr", "--base", base, "--head", head, "--author", author)
    return render(check, status_at(head), validation_at(base, head))


def command_post(args: argparse.Namespace) -> int:
    target = read_json(args.artifact / "pull-request.json")
    number = target.get("number") if isinstance(target, dict) else None
    if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
        print("::error::the artifact names no pull request")
        return 1
    pull = pull_request(number)
    if pull is None:
        return 1
    head = str(pull["head"]["sha"])
    if head != args.head_sha:
        # Either the artifact names another pull request, or a newer push made
        # this check stale; the newer run comments.
        print(f"::warning::pull request #{number} is at {head}, not at the checked {args.head_sha}: not commenting")
        return 0
    if not is_commit(head):
        print(f"::error::the head commit {head} has not been fetched: nothing to check")
        return 1
    # The rules of the base the pull request targets; the default branch's tip
    # (this checkout) when that commit is not in it.
    base = str((pull.get("base") or {}).get("sha") or "")
    base = base if base and is_commit(base) else "HEAD"
    body, labels = recompute(base, head, str(pull["user"]["login"]))
    handed = (args.artifact / "comment.md").read_text(encoding="utf-8", errors="replace")
    handed_labels = (args.artifact / "labels.txt").read_text(encoding="utf-8", errors="replace").splitlines()
    if handed != body or [label for label in handed_labels if label] != labels:
        print("::warning::the pull request's own check handed on another comment than this check computes")
        body += f"\n{TAMPERED}\n"
    if len(body) > MAX_BODY:
        print(f"::error::the comment body is over {MAX_BODY} characters")
        return 1
    written = args.artifact.parent / "comment-checked.md"
    written.write_text(body, encoding="utf-8")
    command = ["rollout", "bot", "comment", "--pr", str(number), "--body-file", str(written)]
    for label in labels:
        command += ["--label", label]
    return subprocess.run(command, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pr_comment.py")
    commands = parser.add_subparsers(dest="command", required=True)
    rendering = commands.add_parser("render")
    rendering.add_argument("--check", type=Path, required=True)
    rendering.add_argument("--status", type=Path, required=True)
    rendering.add_argument("--validated", type=Path, default=None, help="`rollout validate --format json` output")
    rendering.add_argument("--validation", default="success")
    rendering.add_argument("--pr", type=int, required=True)
    rendering.add_argument("--head-sha", required=True)
    rendering.add_argument("--out", type=Path, required=True)
    posting = commands.add_parser("post")
    posting.add_argument("--artifact", type=Path, required=True)
    posting.add_argument("--head-sha", required=True)
    args = parser.parse_args(argv)
    return command_render(args) if args.command == "render" else command_post(args)


if __name__ == "__main__":
    sys.exit(main())
