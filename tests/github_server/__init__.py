"""A GitHub-compatible REST server for tests: stateful, on 127.0.0.1, with injectable faults."""

from tests.github_server.server import Fault, GitHubServer, new_state

__all__ = ["Fault", "GitHubServer", "new_state"]
