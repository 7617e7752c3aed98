"""`uv run deliver-webhooks`: the process that sends webhook deliveries (one or more per
deployment, apart from the indexing workers: a slow receiver never slows indexing). Uses
ingestworker's configuration (redis, storage, webhooks) through a composition root of its own
(ingestworker.deliverer_container), so it loads no model. Stops on SIGTERM or
Ctrl-C after the attempts in flight."""

import argparse
import signal
import threading

from ingestworker.deliverer_container import DelivererContainer
from shared.errors import Unavailable
from shared.log import configure_logging
from shared.preflight import exit_on_failure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="deliver-webhooks", description=__doc__)
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 0 if this host's deliverer is alive (it looped in the last 30 s), else 1",
    )
    args = parser.parse_args(argv)
    container = DelivererContainer()
    with exit_on_failure():
        settings = container.settings()
    if args.check:
        try:
            return 0 if container.deliverer().alive() else 1
        except Unavailable:
            return 1
        finally:
            container.shutdown_resources()
    configure_logging(settings.log, "deliver-webhooks")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        container.deliverer().run(stop)
    finally:
        container.shutdown_resources()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
