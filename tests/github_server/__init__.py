"""A GitHub-compatible REST server for tests: stateful, on 127.0.0.1, with injectable faults."""

from tests.github_server.server import APP_CLIENT_ID, APP_PRIVATE_KEY, Fault, GitHubServer, new_state

__all__ = ["APP_CLIENT_ID", "APP_PRIVATE_KEY", "Fault", "GitHubServer", "new_state"]
