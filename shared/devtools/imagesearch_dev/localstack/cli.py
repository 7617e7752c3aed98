"""`python -m imagesearch_dev.localstack up|down|status`: the local stack behind `make up`
and `make down`."""

import argparse
import os
import sys
import time

from imagesearch_dev.localstack.processes import StackError
from imagesearch_dev.localstack.settings import StackSettings
from imagesearch_dev.localstack.stack import ORDER, Stack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="imagesearch-stack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start what is not running and wait until it answers")
    up.add_argument("components", nargs="*", metavar="COMPONENT", help=", ".join(ORDER))
    up.add_argument(
        "--model",
        default=os.environ.get("EMBEDDING_MODEL") or None,
        help="the embedding model of every service that embeds: a folder or a Hugging Face id "
        "(default: $EMBEDDING_MODEL, else the services' conf: the offline model)",
    )
    sub.add_parser("down", help="stop every process this stack started")
    sub.add_parser("status", help="which processes run, with their pids")
    args = parser.parse_args(argv)

    settings = StackSettings()
    if getattr(args, "model", None):
        settings = settings.model_copy(update={"model": args.model})
    stack = Stack(settings)
    try:
        if args.command == "up":
            started = time.monotonic()

            def report(name: str, pid: int) -> None:
                took = time.monotonic() - started
                print(f"  {name:<10} ready  pid {pid:<8} at {took:5.1f}s", flush=True)

            stack.up(args.components or None, on_ready=report)
            model = stack.settings.model or "the offline model (conf)"
            print(f"\nImage Search is up: {stack.settings.url('nginx')}/  (model: {model})")
            print(f"logs and pids: {stack.run_dir}")
        elif args.command == "down":
            stopped = stack.down()
            print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        else:
            for name, pid in stack.status().items():
                print(f"  {name:<10} {'pid ' + str(pid) if pid else 'not running'}")
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
