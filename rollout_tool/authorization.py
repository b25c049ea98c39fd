"""Who someone is in a repository: coordinator, bot, a team's member, a product's maintainer.

Always asked of the BASE revision of a change: a pull request cannot grant
itself rights by editing teams/ or rollout.yaml. GitHub logins are compared
without regard to case, as GitHub does.

The bot's role goes only to an app's account (`<slug>[bot]`, such as
`github-actions[bot]`): no person can register a login holding brackets, while
a plain login named as the bot could belong to anyone who signs up for it.
"""

from __future__ import annotations

from rollout_tool.errors import FatalError
from rollout_tool.lifecycle import Role
from rollout_tool.repository import Repository


def same_login(first: str, second: str) -> bool:
    return first.casefold() == second.casefold()


def is_app_login(login: str) -> bool:
    return login.endswith("[bot]")


class Rights:
    def __init__(self, base: Repository, login: str) -> None:
        config = base.config()
        if config is None:
            raise FatalError("the base revision has no valid rollout.yaml: rights cannot be decided")
        self.base = base
        self.login = login
        self.coordinator = any(same_login(login, c) for c in config.coordinators)
        self.bot = is_app_login(config.bot) and same_login(login, config.bot)
        self.coordinators = list(config.coordinators)

    def member_of(self, team: str) -> bool:
        record = self.base.team(team)
        return record is not None and any(same_login(self.login, m) for m in record.members)

    def maintainer_of(self, product: str) -> bool:
        record = self.base.product(product)
        return record is not None and any(same_login(self.login, m) for m in record.maintainers)

    def roles(self, product: str) -> set[Role]:
        roles = set()
        if self.coordinator:
            roles.add(Role.coordinator)
        if self.bot:
            roles.add(Role.bot)
        if self.maintainer_of(product):
            roles.add(Role.maintainer)
        return roles
