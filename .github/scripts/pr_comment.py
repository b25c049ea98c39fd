"""The sticky pull-request comment: rendered by the unprivileged check, posted by the privileged workflow.

    pr_comment.py render --check CHECK.json --status STATUS.json [--validated VALIDATE.json]
                         --validation OUTCOME --pr N --head-sha SHA --out DIR
    pr_comment.py post --artifact DIR --head-sha SHA

`render` turns `rollout check-pr --format json` and `rollout status --format json`
into DIR/comment.md, DIR/labels.txt and DIR/pull-request.json, and annotates the
problems check-pr found beyond those `rollout validate` already annotated. `post`
runs where a token can write: it trusts nothing in DIR it cannot verify (the
number against the API, the labels against LABELS), then calls `rollout bot comment`.
"""

from __future__ import annotations

import argparse
import html
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
LABELS = frozenset({ALLOWED, REFUSED, INVALID, *VERDICT_LABELS.values()})
MAX_BODY = 60_000  # GitHub refuses comments over 65,536 characters
RELEASE_PATH = re.compile(r"^releases/([^/]+)/([^/]+)/")


def text(value: object) -> str:
    """Data from the change as inert Markdown: no HTML, no mentions, no line breaks."""
    return html.escape(" ".join(str(value).split()), quote=False).replace("@", "@\u200b")


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
            lines.append(f"- `{text(where)}` {text(p.get('message', ''))} ({text(p.get('rule', ''))})")

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


def pull_request_head(number: int) -> str | None:
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
            return str(json.load(response)["head"]["sha"])
    except (urllib.error.URLError, KeyError, ValueError) as exc:
        print(f"::error::pull request #{number}: {exc}")
        return None


def command_post(args: argparse.Namespace) -> int:
    target = read_json(args.artifact / "pull-request.json")
    number = target.get("number") if isinstance(target, dict) else None
    if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
        print("::error::the artifact names no pull request")
        return 1
    head = pull_request_head(number)
    if head is None:
        return 1
    if head != args.head_sha:
        # Either the artifact names another pull request, or a newer push made
        # this check stale; the newer run comments.
        print(f"::warning::pull request #{number} is at {head}, not at the checked {args.head_sha}: not commenting")
        return 0
    labels = [line for line in (args.artifact / "labels.txt").read_text(encoding="utf-8").splitlines() if line]
    unknown = sorted(set(labels) - LABELS)
    if unknown:
        print(f"::error::the artifact asks for labels outside the fixed set: {unknown}")
        return 1
    body = args.artifact / "comment.md"
    if len(body.read_text(encoding="utf-8")) > MAX_BODY:
        print(f"::error::the comment body is over {MAX_BODY} characters")
        return 1
    command = ["rollout", "bot", "comment", "--pr", str(number), "--body-file", str(body)]
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
