"""The records: one pydantic model per kind of file in a rollout repository.

Every model forbids unknown keys and takes YAML 1.2 values as they are: a
string is never turned into a number or a boolean, nor the other way round.
Dates are ISO dates written as strings (YAML 1.2 has no timestamp type).
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    WithJsonSchema,
)

from rollout_tool import identifiers

# Anchored for JSON Schema; built from `identifiers`, which file names are checked by.
IDENTIFIER_PATTERN = f"^{identifiers.IDENTIFIER.pattern}$"
VERSION_PATTERN = f"^{identifiers.VERSION.pattern}$"
_LOGIN = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})"
LOGIN_PATTERN = rf"^{_LOGIN}(?:\[bot\])?$"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _parse_date(value: object) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not _DATE.match(value):
        raise ValueError("expected an ISO date such as 2026-11-25")
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{value} is not a date that exists ({exc})") from None


Date = Annotated[
    dt.date,
    BeforeValidator(_parse_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": _DATE.pattern}),
]
Identifier = Annotated[StrictStr, Field(pattern=IDENTIFIER_PATTERN, max_length=identifiers.MAX_LENGTH)]
Login = Annotated[StrictStr, Field(pattern=LOGIN_PATTERN)]
Text = Annotated[StrictStr, Field(max_length=100_000)]
Name = Annotated[StrictStr, Field(min_length=1, max_length=200)]
# http or https, and nothing that could end a Markdown autolink or an HTML
# attribute (`<`, `>`, `"`), break a line or hide in it (spaces, controls).
URL_PATTERN = r"^https?://[^\s<>\"\x00-\x1f\x7f]+$"
Url = Annotated[StrictStr, Field(pattern=URL_PATTERN, max_length=2000)]
Email = Annotated[StrictStr, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)]
Version = Annotated[StrictStr, Field(pattern=VERSION_PATTERN, max_length=identifiers.MAX_LENGTH)]
Count = Annotated[StrictInt, Field(ge=0, le=10_000)]
# Where an imported record came from: a path in the imported data, for a person to look up.
Provenance = Annotated[StrictStr, Field(min_length=1, max_length=500)]


def _unique(values: list[Any]) -> list[Any]:
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{value!r} is listed twice")
        seen.add(value)
    return values


_Unique = (AfterValidator(_unique), Field(json_schema_extra={"uniqueItems": True}))
Identifiers = Annotated[list[Identifier], *_Unique]
Logins = Annotated[list[Login], *_Unique]
Emails = Annotated[list[Email], *_Unique]
Names = Annotated[list[Name], *_Unique]


class Record(BaseModel):
    # Strictness comes from the Strict* field types: enums must still accept
    # their string values.
    model_config = ConfigDict(extra="forbid", frozen=True)


class State(StrEnum):
    candidate = "candidate"
    rollout = "rollout"
    accepted = "accepted"
    rejected = "rejected"
    released = "released"
    recalled = "recalled"
    withdrawn = "withdrawn"
    superseded = "superseded"


class ReleaseType(StrEnum):
    major = "major"
    minor = "minor"
    revision = "revision"
    security = "security"
    emergency = "emergency"


class ReportVerdict(StrEnum):
    accept = "accept"
    reject = "reject"


# ---------------------------------------------------------------- rollout.yaml


class Platform(Record):
    name: Name
    arches: Identifiers = Field(min_length=1)


FederationName = Annotated[StrictStr, Field(pattern=r"^[A-Za-z][A-Za-z0-9-]*$", max_length=40)]
WorkflowName = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=40)]


class Group(Record):
    name: Name
    contacts: Emails = []
    description: Text | None = None
    mention: Logins = []  # GitHub logins or teams the bot mentions when this family needs someone


# A subscriber is a person's login or an `@org/team` handle: GitHub mentions nothing else.
TEAM_HANDLE_PATTERN = rf"^@{_LOGIN}/[A-Za-z0-9][A-Za-z0-9_-]{{0,99}}$"
HANDLE_PATTERN = rf"^{_LOGIN}$|{TEAM_HANDLE_PATTERN}"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def _handle(value: str) -> str:
    if _EMAIL.match(value):
        raise ValueError(
            f"{value!r} is an e-mail address: GitHub cannot mention a mailing list; subscribe GitHub logins or an"
            " @org/team handle (a group's list address belongs in its `contacts`)"
        )
    if value.endswith("[bot]"):
        raise ValueError(f"{value!r} is an app's account: only people and teams are told what needs action")
    if re.match(HANDLE_PATTERN, value):
        return value
    if value.startswith("@") and "/" not in value:
        raise ValueError(f"write a person's login without its @ ({value[1:]!r}); @ starts an @org/team handle")
    raise ValueError(
        f"{value!r} is neither a GitHub login (letters, digits and single hyphens) nor an @org/team handle"
    )


Handle = Annotated[
    StrictStr,
    Field(max_length=140),
    AfterValidator(_handle),
    WithJsonSchema({"type": "string", "pattern": HANDLE_PATTERN, "maxLength": 140}),
]


class Event(StrEnum):
    """What a subscriber can be told of: each one waits for someone to act."""

    reject = "reject"  # a report rejects the release: a coordinator decides
    stale_report = "stale-report"  # a report is on an older revision after a bump: its team reports again
    blocked_quorum = "blocked-quorum"  # past its due date without enough reports
    failing_check = "failing-check"  # a required automated check fails


class Subscription(Record):
    """Who is told, by a mention on the release's tracking issue, when a family's release needs action."""

    who: Handle
    groups: Identifiers = Field(min_length=1)
    events: Annotated[list[Event], *_Unique] = Field(default_factory=lambda: list(Event), min_length=1)


class Vocabulary(Record):
    """A federation (EGI, OSG) or a VO workflow (ATLAS, CMS) that teams and reports name."""

    name: Name
    description: Text | None = None
    contact: Email | None = None
    mention: Logins = []  # GitHub logins the bot mentions when this federation's teams are late


class PolicySettings(Record):
    """A named policy: any setting left out is taken from the defaults."""

    description: Text | None = None
    quorum: Count | None = None
    cover_platforms: StrictBool | None = None
    soak_days: Count | None = None
    report_days: Annotated[StrictInt, Field(ge=1, le=3650)] | None = None
    escalate_days: Count | None = None
    auto_accept: StrictBool | None = None
    auto_release: StrictBool | None = None
    cover_federations: StrictBool | Annotated[list[FederationName], *_Unique] | None = None
    cover_workflows: Annotated[list[WorkflowName], *_Unique] | None = None


class Policy(Record):
    """The default policy; every setting has a value."""

    description: Text | None = None
    quorum: Count = 2
    cover_platforms: StrictBool = True
    soak_days: Count = 7
    report_days: Annotated[StrictInt, Field(ge=1, le=3650)] = 14
    escalate_days: Count = 7
    auto_accept: StrictBool = False
    auto_release: StrictBool = False
    # true: every federation the assigned teams belong to; a list: those federations.
    cover_federations: StrictBool | Annotated[list[FederationName], *_Unique] = False
    cover_workflows: Annotated[list[WorkflowName], *_Unique] = []

    def overlay(self, settings: PolicySettings) -> Policy:
        changes = settings.model_dump(exclude_none=True)
        return self.model_copy(update=changes)


class Config(Record):
    """rollout.yaml: who coordinates, the bot, the vocabularies and the policies."""

    name: Name = "rollout"
    coordinators: Logins = Field(min_length=1)
    bot: Login
    # How the bot's transitions reach the default branch: pushed, or by a pull request it merges on green.
    bot_changes: Literal["push", "pull-request"] = "push"
    platforms: dict[Identifier, Platform] = Field(min_length=1)
    groups: dict[Identifier, Group] = Field(min_length=1)
    policy: Policy = Policy()
    policies: dict[Identifier, PolicySettings] = {}
    type_policies: dict[ReleaseType, Identifier] = {}
    url: Url | None = None
    # Where the dashboard is published: the feeds' links are absolute from it.
    site_url: Url | None = None
    # When declared, teams' federations and reports' workflows must be among these.
    federations: dict[FederationName, Vocabulary] = {}
    workflows: dict[WorkflowName, Vocabulary] = {}
    # Who the bot mentions when a product family's release needs them (see `Subscription`).
    subscriptions: list[Subscription] = []


# ---------------------------------------------------------------- teams


class Team(Record):
    name: Name
    site: Name
    federation: FederationName
    members: Logins = Field(min_length=1)
    contact: Email | None = None
    groups: Identifiers = []
    products: Identifiers = []
    platforms: Identifiers = Field(min_length=1)
    active: StrictBool = True


# ---------------------------------------------------------------- products and releases


class Product(Record):
    name: Name
    group: Identifier
    provider: Name
    description: Text
    maintainers: Logins = []
    homepage: Url | None = None
    policy: Identifier | None = None
    source: Provenance | None = None


class HistoryEntry(Record):
    """A history entry: a transition to `state`, or (with `revision`) a new build in the same state."""

    state: State
    date: Date
    by: Login
    revision: Annotated[StrictInt, Field(ge=1, le=1000)] | None = None
    note: Text | None = None


class Decision(Record):
    action: Literal["accept", "reject", "recall", "withdraw"]
    by: Login
    date: Date
    reason: Text = ""


class Release(Record):
    version: Version
    type: ReleaseType
    state: State
    revision: Annotated[StrictInt, Field(ge=1, le=1000)] = 1
    platforms: Identifiers = Field(min_length=1)
    summary: Annotated[StrictStr, Field(min_length=1, max_length=300)]
    notes: Text = ""
    changelog: list[Annotated[StrictStr, Field(min_length=1, max_length=2000)]] = []
    repository: Url | None = None
    teams: Identifiers = []
    policy: Identifier | None = None
    history: list[HistoryEntry] = Field(min_length=1)
    decisions: list[Decision] = []
    supersedes: Version | None = None
    source: Provenance | None = None

    @property
    def decision(self) -> Decision | None:
        """The decision in force: the latest. Earlier ones stay, so an override
        stays on record after a later recall."""
        return self.decisions[-1] if self.decisions else None


# ---------------------------------------------------------------- reports


class Environment(Record):
    platform: Identifier
    arch: Identifier
    install: Literal["fresh", "upgrade"]
    from_version: Version | None = None
    services: Names = []
    batch_system: Name | None = None
    workflows: Names = []


class TestResult(Record):
    name: Name
    result: Literal["pass", "fail", "skip"]
    notes: Text | None = None


class Issue(Record):
    summary: Annotated[StrictStr, Field(min_length=1, max_length=300)]
    severity: Literal["low", "medium", "high", "critical"]
    details: Text | None = None
    workaround: Text | None = None
    ticket: Url | None = None
    known_issue: StrictBool = False


def _one_each(environments: list[Environment]) -> list[Environment]:
    seen: set[tuple[str, str]] = set()
    for environment in environments:
        key = (environment.platform, environment.arch)
        if key in seen:
            raise ValueError(
                f"{environment.platform}/{environment.arch} is listed twice: one entry per platform and arch"
            )
        seen.add(key)
    return environments


class Report(Record):
    """One team's report on a release: every environment it ran the release in, one verdict for them all."""

    team: Identifier
    revision: Annotated[StrictInt, Field(ge=1, le=1000)]
    verdict: ReportVerdict
    date: Date
    environments: Annotated[list[Environment], AfterValidator(_one_each)] = Field(min_length=1)
    in_production_since: Date | None = None
    tests: list[TestResult] = []
    issues: list[Issue] = []
    comments: Text | None = None

    @property
    def platforms(self) -> list[str]:
        """The platforms the team ran it on, each once, in the order written."""
        return list(dict.fromkeys(e.platform for e in self.environments))

    @property
    def workflows(self) -> list[str]:
        """The VO workflows exercised in any of its environments."""
        return list(dict.fromkeys(w for e in self.environments for w in e.workflows))


# ---------------------------------------------------------------- distributions


class ShippedRelease(Record):
    release: Annotated[StrictStr, Field(pattern=f"^{identifiers.IDENTIFIER.pattern}/{identifiers.VERSION.pattern}$")]
    status: Literal["accepted", "released"]


class DistributionState(StrEnum):
    draft = "draft"
    released = "released"
    withdrawn = "withdrawn"


class Distribution(Record):
    version: Version
    date: Date
    description: Text
    state: DistributionState
    notes: Text = ""
    releases: list[ShippedRelease] = Field(min_length=1)
    source: Provenance | None = None


KINDS: dict[str, type[Record]] = {
    "rollout": Config,
    "team": Team,
    "product": Product,
    "release": Release,
    "report": Report,
    "distribution": Distribution,
}
