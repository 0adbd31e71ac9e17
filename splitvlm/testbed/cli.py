"""`splitvlm testbed up|down|status`: bring the emulated testbed up, inspect it, remove it.

    splitvlm testbed up --profile lte          # + the three tiers (`splitvlm serve`) inside
    splitvlm ask --edge unix:/run/splitvlm-testbed/svtb/edge.sock IMAGE QUESTION
    splitvlm testbed up --profile lte --bare --service fog='python -m http.server 50052'
    splitvlm testbed status
    splitvlm testbed down

By default `up` runs edge, fog and cloud in their namespaces (fog and cloud on 127.0.0.1
behind their relays, the edge in its CPU quota and also on a unix socket in the state folder,
which the host reaches). `--service TIER=CMD` replaces a tier's command; `--bare` starts only
the services given with `--service`.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Sequence

from splitvlm.testbed.bed import DEFAULT_PORTS, testbed_down, testbed_status, testbed_up
from splitvlm.testbed.errors import TestbedError
from splitvlm.testbed.netns import TIERS
from splitvlm.testbed.profiles import PROFILES
from splitvlm.testbed.state import state_dir
from splitvlm.testbed.tiers import edge_target, tier_services

TIERS_READY_S = 300.0  # each tier measures its compute before it listens (the edge at 1/4 core)


def _tier_value(text: str) -> tuple[str, str]:
    tier, sep, value = text.partition("=")
    if not sep or tier not in TIERS or not value:
        raise argparse.ArgumentTypeError(f"expected TIER=VALUE with TIER in {TIERS}, got {text!r}")
    return tier, value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="splitvlm testbed", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="create namespaces, links, relays and services")
    up.add_argument("--profile", required=True, choices=sorted(PROFILES))
    up.add_argument("--port", type=_tier_value, action="append", default=[], metavar="TIER=PORT",
                    help=f"service port per tier (default {DEFAULT_PORTS})")
    up.add_argument("--service", type=_tier_value, action="append", default=[],
                    metavar="TIER=CMD", help="command to run in the tier's namespace")
    up.add_argument("--bare", action="store_true",
                    help="do not start the splitvlm tiers (only --service commands)")
    up.add_argument("--checkpoints", default="",
                    help="checkpoint dir of the tiers (default: $SPLITVLM_CHECKPOINT_DIR, "
                         "else the shipped ones)")
    up.add_argument("--threads", type=int, default=1, help="compute threads per tier")
    for name, help_text in (("down", "remove everything"), ("status", "print state as JSON")):
        sub.add_parser(name, help=help_text)
    for p in sub.choices.values():
        p.add_argument("--prefix", default="svtb", help="name prefix of namespaces etc.")
    return parser  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Run one testbed command; returns the process exit code."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse reports usage errors (and --help) by exiting
        return int(exc.code or 0)
    try:
        if args.command == "up":
            ports = dict(DEFAULT_PORTS)
            for tier, port in args.port:
                if not port.isdigit():
                    raise ValueError(f"--port {tier}={port}: port must be a number")
                ports[tier] = int(port)
            services = {} if args.bare else tier_services(
                ports, args.prefix, state_dir(args.prefix), checkpoint_dir=args.checkpoints,
                threads=args.threads)
            services.update({tier: shlex.split(cmd) for tier, cmd in args.service})
            bed = testbed_up(args.profile, services, ports, prefix=args.prefix,
                             ready_timeout_s=30.0 if args.bare else TIERS_READY_S)
            print(json.dumps(bed.status(), indent=2))
            if not args.bare:
                print(f"edge: {edge_target(bed.state_dir)}", file=sys.stderr)
        elif args.command == "down":
            testbed_down(args.prefix)
        else:
            print(json.dumps(testbed_status(args.prefix), indent=2))
    except (TestbedError, ValueError) as exc:
        print(f"splitvlm testbed {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
