"""The connection to GitHub: settings from the Actions environment, retries and backoff.

PyGithub's own retry (`github.GithubRetry`) is switched off. It replays a
POST after a server error, and a POST that the server carried out before it
failed would then create a second comment, issue or release. Here every call
says whether replaying it is harmless: reads, edits and label changes are
replayed; a create is never replayed blindly. `Client.ensure` looks for the
thing again before each new attempt, so a create whose answer was lost is
found instead of made twice.

The bot's identity comes from its token, never from the records alone
(`Client.identity`): a user's token says whose it is (GET /user); an
installation token cannot say (GitHub answers that endpoint with 403), and acts
as `github-actions[bot]` when it is the workflow's own token, or as
`<slug>[bot]` when the workflow made it for its GitHub App and names the app's
slug in ROLLOUT_BOT_APP (the `app-slug` output of actions/create-github-app-token).

Rate limits are waited out as GitHub documents them: `Retry-After` when the
answer carries it, else until `x-ratelimit-reset` when `x-ratelimit-remaining`
is 0 (the primary limit), else at least a minute (a secondary limit).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import requests
from github import Auth, Github, GithubException

from rollout_tool.errors import EXIT_PROBLEMS, FatalError, RolloutError, UsageError

T = TypeVar("T")
DEFAULT_API_URL = "https://api.github.com"
# The login of the workflow's own token (GITHUB_TOKEN), an installation token of GitHub's Actions app.
WORKFLOW_LOGIN = "github-actions[bot]"
_APP_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,33}$")


class IdentityError(RolloutError):
    """The token acts as someone other than the bot the records name."""

    exit_code = EXIT_PROBLEMS


@dataclass(frozen=True)
class Settings:
    token: str
    repository: str
    api_url: str = DEFAULT_API_URL
    sha: str | None = None
    event_path: Path | None = None
    # The slug of the GitHub App the token was made for (ROLLOUT_BOT_APP), None for the workflow's token.
    app: str | None = None
    # The first retry waits `backoff` seconds, each next one twice as long.
    backoff: float = 1.0
    attempts: int = 6
    timeout: float = 30.0
    # Longer rate-limit waits than this fail the run instead of blocking the runner.
    max_wait: float = 900.0
    secondary_wait: float = 60.0
    # GitHub asks integrations to leave a second between writes.
    write_interval: float = 1.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        token = env.get("GITHUB_TOKEN", "")
        repository = env.get("GITHUB_REPOSITORY", "")
        if not token:
            raise UsageError("GITHUB_TOKEN is not set: the bot needs a token to talk to GitHub")
        if repository.count("/") != 1 or not all(repository.split("/")):
            raise UsageError(f"GITHUB_REPOSITORY must be owner/name, not {repository!r}")
        event = env.get("GITHUB_EVENT_PATH")
        app = env.get("ROLLOUT_BOT_APP") or None
        if app is not None and not _APP_SLUG.match(app):
            raise UsageError(f"ROLLOUT_BOT_APP must be a GitHub App's slug (such as rollout-bot), not {app!r}")
        return cls(
            token=token,
            repository=repository,
            api_url=(env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
            sha=env.get("GITHUB_SHA") or None,
            event_path=Path(event) if event else None,
            app=app,
            backoff=_number(env, "ROLLOUT_BOT_BACKOFF", cls.backoff),
            attempts=max(1, int(_number(env, "ROLLOUT_BOT_ATTEMPTS", cls.attempts))),
            timeout=_number(env, "ROLLOUT_BOT_TIMEOUT", cls.timeout),
            max_wait=_number(env, "ROLLOUT_BOT_MAX_WAIT", cls.max_wait),
            secondary_wait=_number(env, "ROLLOUT_BOT_SECONDARY_WAIT", cls.secondary_wait),
            write_interval=_number(env, "ROLLOUT_BOT_WRITE_INTERVAL", cls.write_interval),
        )

    def event(self) -> dict[str, Any]:
        """The webhook payload of the running workflow, or {} outside Actions."""
        if self.event_path is None:
            return {}
        try:
            payload = json.loads(self.event_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"GITHUB_EVENT_PATH {self.event_path}: cannot read the event ({exc})") from None
        return payload if isinstance(payload, dict) else {}


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{name} must be a number, not {text!r}") from None
    if value < 0:
        raise UsageError(f"{name} must not be negative")
    return value


class UncertainError(Exception):
    """A create failed in a way that does not tell whether the server carried it out."""


@dataclass(frozen=True)
class Failure:
    """What a failed call means: wait and replay, maybe done, or give up."""

    kind: str  # "rate-limit", "transient" or "fatal"
    wait: float
    message: str


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def _message(data: Any) -> str:
    """What GitHub said: REST's `message`, or the messages of GraphQL's `errors` (which answer 200)."""
    if not isinstance(data, dict):
        return str(data or "")
    errors = data.get("errors")
    if not data.get("message") and isinstance(errors, list):
        return "; ".join(str(e.get("message", "")) for e in errors if isinstance(e, dict))
    return str(data.get("message", ""))


def classify(exc: Exception, settings: Settings, clock: Callable[[], float] = time.time) -> Failure:
    if isinstance(exc, requests.Timeout | requests.ConnectionError):
        return Failure("transient", 0.0, f"no answer in time ({type(exc).__name__})")
    if not isinstance(exc, GithubException):
        return Failure("fatal", 0.0, str(exc))
    status = exc.status
    message = _message(exc.data)
    retry_after = _header(exc.headers, "retry-after")
    remaining = _header(exc.headers, "x-ratelimit-remaining")
    reset = _header(exc.headers, "x-ratelimit-reset")
    described = f"{status} {message}".strip()
    if status in (403, 429):
        if retry_after is not None and retry_after.strip().isdigit():
            return Failure("rate-limit", float(retry_after), described)
        if remaining == "0" and reset is not None and reset.isdigit():
            return Failure("rate-limit", max(0.0, int(reset) - clock()) + 1.0, described)
        if status == 429 or "rate limit" in message.lower():
            return Failure("rate-limit", settings.secondary_wait, described)
    if status >= 500:
        return Failure("transient", 0.0, described)
    return Failure("fatal", 0.0, described)


class Client:
    """One repository on GitHub, every request made through `call` or `ensure`."""

    def __init__(self, settings: Settings, sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.sleep = sleep
        self.github = Github(
            auth=Auth.Token(settings.token),
            base_url=settings.api_url,
            timeout=max(1, round(settings.timeout)),
            retry=None,
            per_page=100,
            seconds_between_requests=None,
            seconds_between_writes=settings.write_interval or None,
        )
        self._repo: Any = None

    def connect(self) -> None:
        """Fetch the repository once, first, so that no later call retries it inside another."""
        if self._repo is None:
            self._repo = self.call(lambda: self.github.get_repo(self.settings.repository), "read the repository")

    @property
    def repo(self) -> Any:
        """The PyGithub repository (its attributes answer without requests)."""
        self.connect()
        return self._repo

    def identity(self) -> str:
        """The login the token acts as, as GitHub spells it."""

        def ask() -> str | None:
            try:
                return str(self.github.get_user().login)
            except GithubException as exc:
                message = exc.data.get("message", "") if isinstance(exc.data, dict) else ""
                if exc.status == 403 and "integration" in str(message):
                    return None  # an installation token: it has no user
                raise

        login = self.call(ask, "say whom the token acts as")
        if login is None:
            return f"{self.settings.app}[bot]" if self.settings.app else WORKFLOW_LOGIN
        if self.settings.app is not None:
            raise IdentityError(f"ROLLOUT_BOT_APP names the app {self.settings.app}, but the token is {login}'s")
        return login

    def _backoff(self, attempt: int) -> float:
        return float(self.settings.backoff * 2**attempt)

    def call(self, function: Callable[[], T], what: str, *, replay: bool = True) -> T:
        """Run one request (or a few, for a listing) with retries.

        With `replay=False` a server error or a timeout raises `UncertainError`
        instead of sending the request again: the caller decides what to do.
        """
        last = ""
        for attempt in range(self.settings.attempts):
            try:
                return function()
            except (GithubException, requests.RequestException) as exc:
                failure = classify(exc, self.settings)
                last = failure.message
                if failure.kind == "fatal":
                    raise FatalError(f"GitHub refused to {what}: {failure.message}") from None
                if failure.kind == "transient" and not replay:
                    raise UncertainError(failure.message) from None
                if attempt + 1 == self.settings.attempts:
                    break
                wait = failure.wait if failure.kind == "rate-limit" else self._backoff(attempt)
                if wait > self.settings.max_wait:
                    until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=wait)
                    raise FatalError(
                        f"GitHub rate limit: cannot {what} before {until:%Y-%m-%d %H:%M:%S} UTC ({failure.message})"
                    ) from None
                self.sleep(wait)
        raise FatalError(f"could not {what} after {self.settings.attempts} attempts: {last}")

    def ensure(self, find: Callable[[], T | None], create: Callable[[], T], what: str) -> tuple[T, bool]:
        """The thing `find` returns, else the one `create` makes: never two.

        Returns it and whether this run created it.
        """
        uncertain = False
        for attempt in range(self.settings.attempts):
            found = self.call(find, f"look for {what}")
            if found is not None:
                return found, uncertain
            try:
                return self.call(create, f"create {what}", replay=False), True
            except UncertainError:
                # The create may have happened: look again before trying again.
                uncertain = True
                if attempt + 1 < self.settings.attempts:
                    self.sleep(self._backoff(attempt))
        raise FatalError(f"could not create {what} after {self.settings.attempts} attempts")
