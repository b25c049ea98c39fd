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
# ASCII digits, the whole value: as an editor reads the same pattern in the schema.
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _parse_date(value: object) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not _DATE.fullmatch(value):
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
URL_PATTERN = r'^https?://[^\s<>"\x00-\x1f\x7f]+$'
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
    name: Name = Field(
        description="The platform's name as people say it.",
        examples=["Enterprise Linux 9 (AlmaLinux, Rocky Linux, RHEL)"],
    )
    arches: Identifiers = Field(
        min_length=1,
        description="The CPU architectures releases ship for on this platform.",
        examples=[["x86_64", "aarch64"]],
    )


FederationName = Annotated[StrictStr, Field(pattern=r"^[A-Za-z][A-Za-z0-9-]*$", max_length=40)]
WorkflowName = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=40)]


class Group(Record):
    name: Name = Field(description="The middleware family's name as people say it.", examples=["ARC"])
    contacts: Emails = Field(
        [],
        description="Mailing lists of the family's Early Adopters.",
        examples=[["early-adopters-arc@mailman.egi.eu"]],
    )
    description: Text | None = Field(
        None,
        description="What the family covers, in a sentence or two.",
        examples=["NorduGrid ARC: the ARC compute element and its data staging."],
    )
    mention: Logins = Field(
        [], description="GitHub logins the bot mentions when this family needs someone.", examples=[["mara-kozlova"]]
    )


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

    who: Handle = Field(
        description="A GitHub login, or an @org/team handle; never a mailing list.", examples=["mara-kozlova"]
    )
    groups: Identifiers = Field(
        min_length=1, description="The product families (rollout.yaml groups) to hear about.", examples=[["arc"]]
    )
    events: Annotated[list[Event], *_Unique] = Field(
        default_factory=lambda: list(Event),
        min_length=1,
        description="What to be told of; all four when left out.",
        examples=[["reject", "blocked-quorum"]],
    )


class Vocabulary(Record):
    """A federation (EGI, OSG) or a VO workflow (ATLAS, CMS) that teams and reports name."""

    name: Name = Field(description="The full name as people say it.", examples=["EGI Federation"])
    description: Text | None = Field(
        None,
        description="What it is, in a sentence.",
        examples=["The European grid infrastructure and its national initiatives."],
    )
    contact: Email | None = Field(None, description="Where to write about it.", examples=["operations@egi.eu"])
    mention: Logins = Field(
        [],
        description="GitHub logins the bot mentions when this federation's teams are late.",
        examples=[["helga-bauer-sr"]],
    )


def _as_the_defaults(schema: dict[str, Any]) -> None:
    """A named policy's settings mean what the defaults' do: the same help in editors."""
    defaults = Policy.model_json_schema()["properties"]
    for name, setting in schema["properties"].items():
        setting["description"] = defaults[name]["description"]
        setting["examples"] = defaults[name]["examples"]


# What a required check without a result does to a release: it holds it (the default), or is left out.
SourceDown = Literal["hold", "ignore"]


class PolicySettings(Record):
    """A named policy: any setting left out is taken from the defaults."""

    model_config = ConfigDict(json_schema_extra=_as_the_defaults)

    description: Text | None = None
    quorum: Count | None = None
    cover_platforms: StrictBool | None = None
    soak_days: Count | None = None
    production_days: Count | None = None
    report_days: Annotated[StrictInt, Field(ge=1, le=3650)] | None = None
    escalate_days: Count | None = None
    auto_accept: StrictBool | None = None
    auto_release: StrictBool | None = None
    cover_federations: StrictBool | Annotated[list[FederationName], *_Unique] | None = None
    cover_workflows: Annotated[list[WorkflowName], *_Unique] | None = None
    required_checks: Identifiers | None = Field(
        None, description="Automated checks that must pass on every platform.", examples=[["functional"]]
    )
    when_source_down: SourceDown | None = Field(
        None, description="What a missing automated result does: hold the release, or ignore it.", examples=["hold"]
    )


class Policy(Record):
    """The default policy; every setting has a value."""

    description: Text | None = Field(
        None,
        description="What the policy is for, for people reading it.",
        examples=["Security fixes: one report is enough, no soak."],
    )
    quorum: Count = Field(
        2, description="How many accepting reports a release needs before it can be accepted.", examples=[2]
    )
    cover_platforms: StrictBool = Field(
        True, description="Whether every platform the release ships for needs an accepting report.", examples=[True]
    )
    soak_days: Count = Field(7, description="Days a release stays in rollout before it can be accepted.", examples=[7])
    production_days: Count = Field(
        0,
        description="Days an accepting report's site must have run the release in production by the report's date.",
        examples=[7],
    )
    report_days: Annotated[StrictInt, Field(ge=1, le=3650)] = Field(
        14, description="Days an assigned team has to report once the rollout starts.", examples=[14]
    )
    escalate_days: Count = Field(
        7, description="Days past a team's due date before the coordinators are told.", examples=[7]
    )
    auto_accept: StrictBool = Field(
        False, description="Whether the bot accepts a release once the policy is met.", examples=[False]
    )
    auto_release: StrictBool = Field(
        False, description="Whether the bot releases an accepted release to production.", examples=[False]
    )
    cover_federations: StrictBool | Annotated[list[FederationName], *_Unique] = Field(
        False,
        description="Federations that need an accepting report: true for every federation of the assigned teams, or a list.",
        examples=[True, ["EGI", "OSG"]],
    )
    cover_workflows: Annotated[list[WorkflowName], *_Unique] = Field(
        [], description="VO workflows that an accepting report must have exercised.", examples=[["ATLAS", "CMS"]]
    )
    required_checks: Identifiers = Field(
        [],
        description="Automated checks that must pass on every platform the release ships for (results/).",
        examples=[["functional"]],
    )
    when_source_down: SourceDown = Field(
        "hold",
        description="A required check without a result (its source down): hold the release, or ignore it.",
        examples=["hold"],
    )

    def overlay(self, settings: PolicySettings) -> Policy:
        changes = settings.model_dump(exclude_none=True)
        return self.model_copy(update=changes)


class Config(Record):
    """rollout.yaml: who coordinates, the bot, the vocabularies and the policies."""

    name: Name = Field(
        "rollout", description="The repository's name, shown on the dashboard.", examples=["EGI staged rollout"]
    )
    coordinators: Logins = Field(
        min_length=1,
        description="GitHub logins of the staged-rollout managers: they start rollouts, decide and publish.",
        examples=[["mara-kozlova", "tiago-ferreira-sr"]],
    )
    bot: Login = Field(description="The GitHub login the automation acts as.", examples=["github-actions[bot]"])
    bot_changes: Literal["push", "pull-request"] = Field(
        "push",
        description="How the bot's transitions reach the default branch: pushed, or through a pull request it merges on green.",
        examples=["push"],
    )
    platforms: dict[Identifier, Platform] = Field(
        min_length=1,
        description="The operating systems releases ship for and teams run, by identifier.",
        examples=[{"el9": {"name": "Enterprise Linux 9", "arches": ["x86_64", "aarch64"]}}],
    )
    groups: dict[Identifier, Group] = Field(
        min_length=1,
        description="The Early Adopter groups, one per middleware family, by identifier.",
        examples=[{"arc": {"name": "ARC", "contacts": ["early-adopters-arc@mailman.egi.eu"]}}],
    )
    policy: Policy = Field(
        Policy(),
        description="The default policy: every release follows it unless a named policy applies.",
        examples=[{"quorum": 2, "soak_days": 7, "report_days": 14}],
    )
    policies: dict[Identifier, PolicySettings] = Field(
        {},
        description="Named policies that override some of the defaults.",
        examples=[{"security": {"quorum": 1, "soak_days": 0}}],
    )
    type_policies: dict[ReleaseType, Identifier] = Field(
        {},
        description="The named policy each release type follows when the release names none.",
        examples=[{"security": "security", "emergency": "emergency"}],
    )
    url: Url | None = Field(
        None,
        description="The repository's address on the web.",
        examples=["https://github.com/egi-staged-rollout/rollout"],
    )
    site_url: Url | None = Field(
        None,
        description="Where the dashboard is published: the feeds' links are absolute from it.",
        examples=["https://egi-staged-rollout.github.io/rollout/"],
    )
    federations: dict[FederationName, Vocabulary] = Field(
        {},
        description="The federations teams belong to; when declared, a team's federation must be one of them.",
        examples=[{"EGI": {"name": "EGI Federation", "contact": "operations@egi.eu"}}],
    )
    workflows: dict[WorkflowName, Vocabulary] = Field(
        {},
        description="The VO workflows reports name; when declared, a report's workflows must be among them.",
        examples=[{"ATLAS": {"name": "ATLAS"}, "CMS": {"name": "CMS"}}],
    )
    subscriptions: list[Subscription] = Field(
        [],
        description="Who the bot mentions, for which product families and events, when a release needs them.",
        examples=[[{"who": "@egi-sr/arc-admins", "groups": ["arc"], "events": ["reject"]}]],
    )


# ---------------------------------------------------------------- teams


class Team(Record):
    name: Name = Field(description="The team's name as people say it.", examples=["AGLT2 Early Adopters"])
    site: Name = Field(description="The site's name in the infrastructure's registry (e.g. GOCDB).", examples=["AGLT2"])
    federation: FederationName = Field(description="The federation the site belongs to.", examples=["EGI"])
    members: Logins = Field(
        min_length=1,
        description="GitHub logins of the people who may report for the team.",
        examples=[["dan-kowalski-aglt2", "mei-zhou-aglt2"]],
    )
    contact: Email | None = Field(None, description="The team's mailing list.", examples=["ea-aglt2@mailman.egi.eu"])
    groups: Identifiers = Field(
        [], description="Early Adopter groups (from rollout.yaml) whose releases the team tests.", examples=[["glite"]]
    )
    products: Identifiers = Field(
        [], description="Products the team tests, by identifier.", examples=[["dcache", "htcondor-ce"]]
    )
    platforms: Identifiers = Field(
        min_length=1, description="Platforms (from rollout.yaml) the site runs.", examples=[["el9"]]
    )
    active: StrictBool = Field(
        True, description="Whether the team takes new assignments; an inactive team is never late.", examples=[True]
    )
    automation: Logins = Field(
        [],
        description="The logins of the team's CI or monitoring that may file its automated results.",
        examples=[["praguelcg2-ci[bot]"]],
    )


# ---------------------------------------------------------------- products and releases


class Product(Record):
    name: Name = Field(description="The product's name as people say it.", examples=["dCache"])
    group: Identifier = Field(
        description="The Early Adopter group (from rollout.yaml) the product belongs to.", examples=["glite"]
    )
    provider: Name = Field(description="Who develops and ships the product.", examples=["dCache.org"])
    description: Text = Field(
        description="What the product does, for the release notes and the dashboard.",
        examples=["A distributed storage system for large scientific data."],
    )
    maintainers: Logins = Field(
        [], description="GitHub logins of the people who submit its releases.", examples=[["paul-dcache-rel"]]
    )
    homepage: Url | None = Field(None, description="The product's web page.", examples=["https://www.dcache.org/"])
    policy: Identifier | None = Field(
        None,
        description="The named policy (from rollout.yaml) its releases follow unless they name another.",
        examples=["critical"],
    )
    source: Provenance | None = Field(
        None,
        description="Where an imported product came from: a file of the imported history.",
        examples=["products/umd4/4.1.0/dcache.json"],
    )


class HistoryEntry(Record):
    """A history entry: a transition to `state`, or (with `revision`) a new build in the same state."""

    state: State = Field(
        description="The state the release entered, or stayed in for a new revision.", examples=["rollout"]
    )
    date: Date = Field(description="When it happened (YYYY-MM-DD).", examples=["2026-08-05"])
    by: Login = Field(description="The GitHub login that made the change.", examples=["helga-bauer-sr"])
    revision: Annotated[StrictInt, Field(ge=1, le=1000)] | None = Field(
        None, description="The new revision, when this entry records a new build under test.", examples=[2]
    )
    note: Text | None = Field(None, description="Why, in a sentence.", examples=["Rebuilt against the fixed libxml2."])


class Decision(Record):
    action: Literal["accept", "reject", "recall", "withdraw"] = Field(
        description="What the coordinator decided.", examples=["accept"]
    )
    by: Login = Field(description="The GitHub login of the coordinator who decided.", examples=["helga-bauer-sr"])
    date: Date = Field(description="When the decision was taken (YYYY-MM-DD).", examples=["2026-08-17"])
    reason: Text = Field(
        "",
        description="Why; required to override a reject or missing coverage.",
        examples=["The reject report's issue is fixed by the site's configuration."],
    )


class Release(Record):
    version: Version = Field(
        description="The release's version, as its folder is named (quote it: 6.10 is not 6.1).", examples=["13.26.1"]
    )
    type: ReleaseType = Field(
        description="What kind of change the release brings; it chooses the policy when none is named.",
        examples=["revision"],
    )
    state: State = Field(description="Where the release is in the staged rollout.", examples=["candidate"])
    revision: Annotated[StrictInt, Field(ge=1, le=1000)] = Field(
        1,
        description="The build under test: 1, then one more at each bump; reports name the one they tested.",
        examples=[1],
    )
    platforms: Identifiers = Field(
        min_length=1, description="Platforms (from rollout.yaml) the release ships for.", examples=[["el8", "el9"]]
    )
    summary: Annotated[StrictStr, Field(min_length=1, max_length=300)] = Field(
        description="One line saying what the release brings.",
        examples=["GridFTP server 13.26.1 from the Grid Community Toolkit"],
    )
    notes: Text = Field(
        "", description="Release notes in Markdown.", examples=["Fixes the IPv6 data channel on dual-stack hosts."]
    )
    changelog: list[Annotated[StrictStr, Field(min_length=1, max_length=2000)]] = Field(
        [], description="The changes, one entry each.", examples=[["globus-gridftp-server 13.26.1"]]
    )
    repository: Url | None = Field(
        None,
        description="Where the packages are published.",
        examples=["https://repository.egi.eu/sw/production/umd/5/"],
    )
    teams: Identifiers = Field(
        [], description="The Early Adopter teams assigned to test it.", examples=[["praguelcg2", "nebraska"]]
    )
    policy: Identifier | None = Field(
        None,
        description="The named policy (from rollout.yaml) this release follows, over its type's and product's.",
        examples=["security"],
    )
    history: list[HistoryEntry] = Field(
        min_length=1,
        description="Every transition, oldest first; the last entry's state is the release's state.",
        examples=[[{"state": "candidate", "date": "2026-08-03", "by": "mattias-gct-rel"}]],
    )
    decisions: list[Decision] = Field(
        [],
        description="Coordinators' decisions, oldest first; the latest is in force.",
        examples=[[{"action": "accept", "by": "helga-bauer-sr", "date": "2026-08-17"}]],
    )
    supersedes: Version | None = Field(
        None, description="The version of the same product this release replaces.", examples=["13.25.1"]
    )
    source: Provenance | None = Field(
        None,
        description="Where an imported release came from: a file of the imported history.",
        examples=["products/umd4/4.1.0/dcache.json"],
    )

    @property
    def decision(self) -> Decision | None:
        """The decision in force: the latest. Earlier ones stay, so an override
        stays on record after a later recall."""
        return self.decisions[-1] if self.decisions else None


# ---------------------------------------------------------------- reports


class Environment(Record):
    platform: Identifier = Field(description="The platform (from rollout.yaml) the release ran on.", examples=["el9"])
    arch: Identifier = Field(description="The CPU architecture it ran on.", examples=["x86_64"])
    install: Literal["fresh", "upgrade"] = Field(
        description="A fresh installation, or an upgrade from an earlier version.", examples=["upgrade"]
    )
    from_version: Version | None = Field(None, description="The version upgraded from.", examples=["13.25.1"])
    services: Names = Field(
        [], description="The services the release ran as.", examples=[["globus-gridftp-server", "xrootd"]]
    )
    batch_system: Name | None = Field(None, description="The batch system behind it.", examples=["HTCondor"])
    workflows: Names = Field([], description="The VO workflows exercised.", examples=[["ATLAS", "CMS"]])


class TestResult(Record):
    name: Name = Field(description="What was tested.", examples=["gsiftp transfers with IPv6 only"])
    result: Literal["pass", "fail", "skip"] = Field(description="How the test went.", examples=["pass"])
    notes: Text | None = Field(
        None, description="Anything worth knowing about the run.", examples=["Ran for 48 hours under production load."]
    )


class Issue(Record):
    summary: Annotated[StrictStr, Field(min_length=1, max_length=300)] = Field(
        description="The issue in one line.",
        examples=["The server logs a harmless 'unable to load DSI hdfs' warning at start"],
    )
    severity: Literal["low", "medium", "high", "critical"] = Field(
        description="How bad it is for a site.", examples=["low"]
    )
    details: Text | None = Field(
        None, description="What happens and when, in Markdown.", examples=["Seen at every restart since the upgrade."]
    )
    workaround: Text | None = Field(
        None,
        description="What a site can do about it, in Markdown.",
        examples=["Remove the `load_dsi_module hdfs` line from /etc/gridftp.conf."],
    )
    ticket: Url | None = Field(
        None, description="The issue in a tracker.", examples=["https://github.com/gridcf/gct/issues/212"]
    )
    known_issue: StrictBool = Field(
        False, description="Whether the issue is published in the release notes as a known issue.", examples=[True]
    )


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

    team: Identifier = Field(
        description="The reporting team, as its file under teams/ is named.", examples=["nebraska"]
    )
    revision: Annotated[StrictInt, Field(ge=1, le=1000)] = Field(
        description="The release's revision the team tested.", examples=[1]
    )
    verdict: ReportVerdict = Field(
        description="Whether the team accepts the release for production.", examples=["accept"]
    )
    date: Date = Field(description="When the team reported (YYYY-MM-DD).", examples=["2026-08-12"])
    environments: Annotated[list[Environment], AfterValidator(_one_each)] = Field(
        min_length=1,
        description="Every environment the team ran the release in, one per platform and arch.",
        examples=[[{"platform": "el9", "arch": "x86_64", "install": "upgrade", "from_version": "13.25.1"}]],
    )
    in_production_since: Date | None = Field(
        None,
        description="Since when the release has served production at the site (YYYY-MM-DD).",
        examples=["2026-08-06"],
    )
    tests: list[TestResult] = Field(
        [], description="The tests the team ran.", examples=[[{"name": "gsiftp with IPv6 only", "result": "pass"}]]
    )
    issues: list[Issue] = Field(
        [],
        description="Issues the team found.",
        examples=[[{"summary": "Harmless warning at start", "severity": "low"}]],
    )
    comments: Text | None = Field(
        None,
        description="Anything else the coordinators should know, in Markdown.",
        examples=["Ran alongside XRootD on the same hosts."],
    )

    @property
    def platforms(self) -> list[str]:
        """The platforms the team ran it on, each once, in the order written."""
        return list(dict.fromkeys(e.platform for e in self.environments))

    @property
    def workflows(self) -> list[str]:
        """The VO workflows exercised in any of its environments."""
        return list(dict.fromkeys(w for e in self.environments for w in e.workflows))


# ---------------------------------------------------------------- automated results and waivers


class Outcome(StrEnum):
    """An automated check's outcome; pending (still running) and missing (no result) never read as fail."""

    passed = "pass"
    failed = "fail"
    pending = "pending"
    missing = "missing"


Tally = Annotated[StrictInt, Field(ge=0, le=10_000_000)]
# An identifier without `--`, which separates the parts of a result's file name.
CHECK_PATTERN = r"^[a-z0-9](?:-?[a-z0-9._])*-?$"
CheckName = Annotated[StrictStr, Field(pattern=CHECK_PATTERN, max_length=identifiers.MAX_LENGTH)]


class CheckResult(Record):
    """An automated result: one check, run by a team's CI or monitoring on one platform and revision."""

    team: Identifier = Field(description="The team (site) whose automation ran the check.", examples=["praguelcg2"])
    check: CheckName = Field(description="The check's name, as policies require it.", examples=["functional"])
    platform: Identifier = Field(description="The platform it ran on.", examples=["el9"])
    revision: Annotated[StrictInt, Field(ge=1, le=1000)] = Field(
        description="The release revision tested.", examples=[1]
    )
    outcome: Outcome = Field(description="Pass, fail, pending (running) or missing (no result).", examples=["pass"])
    date: Date = Field(description="When it ran.", examples=["2026-11-25"])
    by: Login = Field(description="The login that filed it: the team's automation or a member.", examples=["ci[bot]"])
    tests: Tally | None = Field(None, description="Tests run.", examples=[42])
    failures: Tally | None = Field(None, description="Tests that failed.", examples=[0])
    errors: Tally | None = Field(None, description="Tests that could not run.", examples=[0])
    skipped: Tally | None = Field(None, description="Tests skipped.", examples=[1])
    failing: Annotated[list[Name], Field(max_length=50)] = Field(
        [], description="The failing tests' names (at most 50).", examples=[["submit.cancel_job"]]
    )
    url: Url | None = Field(None, description="The run's page.", examples=["https://ci.example.org/run/1"])
    summary: Annotated[StrictStr, Field(max_length=2000)] | None = Field(
        None, description="One line about the run.", examples=["412 tests, 2 failed"]
    )


class Waiver(Record):
    """A coordinator's waiver of a failing check on one release: it stops counting the day after `expires`."""

    check: CheckName = Field(description="The check it waives.", examples=["functional"])
    platforms: Identifiers = Field([], description="The platforms it covers; empty: all.", examples=[["el9"]])
    reason: Annotated[StrictStr, Field(min_length=1, max_length=2000)] = Field(
        description="Why the failure does not stop the release.", examples=["the test needs a fixed CA bundle"]
    )
    by: Login = Field(description="The coordinator who waived it.", examples=["carla-coord"])
    date: Date = Field(description="When it was waived.", examples=["2026-11-25"])
    expires: Date = Field(description="The last day it counts.", examples=["2026-12-10"])


# ---------------------------------------------------------------- distributions


class ShippedRelease(Record):
    release: Annotated[
        StrictStr, Field(pattern=f"^{identifiers.IDENTIFIER.pattern}/{identifiers.VERSION.pattern}$")
    ] = Field(description="The release as PRODUCT/VERSION.", examples=["gridftp/13.26.1"])
    status: Literal["accepted", "released"] = Field(
        description="The release's state when the distribution release shipped it.", examples=["released"]
    )


class DistributionState(StrEnum):
    draft = "draft"
    released = "released"
    withdrawn = "withdrawn"


class Distribution(Record):
    version: Version = Field(
        description="The distribution release's version, as its file is named.", examples=["5.4.0"]
    )
    date: Date = Field(description="When it was (or will be) published (YYYY-MM-DD).", examples=["2026-09-21"])
    description: Text = Field(
        description="What it brings, in one line.",
        examples=["UMD 5.4.0: ARC, dCache, StoRM, GridFTP and the Argus emergency fix."],
    )
    state: DistributionState = Field(
        description="Whether it is in preparation, published or withdrawn.", examples=["released"]
    )
    notes: Text = Field(
        "",
        description="Release notes in Markdown.",
        examples=["Sites installing UMD 5.4.0 from scratch get every release below."],
    )
    releases: list[ShippedRelease] = Field(
        min_length=1,
        description="The releases it ships, each accepted or released.",
        examples=[[{"release": "gridftp/13.26.1", "status": "released"}]],
    )
    source: Provenance | None = Field(
        None,
        description="Where an imported distribution release came from: a file of the imported history.",
        examples=["distributions/umd4/4.1.0.json"],
    )


KINDS: dict[str, type[Record]] = {
    "rollout": Config,
    "team": Team,
    "product": Product,
    "release": Release,
    "report": Report,
    "distribution": Distribution,
    "result": CheckResult,
    "waiver": Waiver,
}
