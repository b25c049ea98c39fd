"""Run the server on its own: `python -m tests.github_server --port N --state-file F`.

The state is read from the file when it exists, written back after every
change, and the server exits by itself after --idle-timeout seconds without a
request.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from tests.github_server.server import GitHubServer, new_state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.github_server")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--state-file", type=Path, default=None, help="JSON state: read at start, written on change")
    parser.add_argument("--repository", default="egi/rollout", help="the repository of a fresh state")
    parser.add_argument("--idle-timeout", type=float, default=600.0, help="exit after this many idle seconds")
    args = parser.parse_args(argv)
    data = None
    if args.state_file is not None and args.state_file.exists():
        data = json.loads(args.state_file.read_text())
    server = GitHubServer(data or new_state(args.repository), port=args.port, state_file=args.state_file)
    server.http.save()
    server.start()
    # One line a caller can wait for and parse, then silence.
    print(f"listening on {server.url}", flush=True)
    try:
        while time.monotonic() - server.http.last_request < args.idle_timeout:
            time.sleep(min(1.0, args.idle_timeout / 10))
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        server.http.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
