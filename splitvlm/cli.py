"""The `splitvlm` command. Each subcommand parses here and delegates to its module.

    splitvlm train | eval | export | profile          the model family
    splitvlm hf {export,shapes,eval} [DIR]            Hugging Face VLMs (docs/models.md)
    splitvlm serve {edge,fog,cloud} | ask | demo      the services
    splitvlm health HOST:PORT                         is a tier serving? (exit 0 / 1)
    splitvlm status EDGE [--once]                     the cluster as the edge sees it
    splitvlm agent --config agent.toml                the edge agent daemon
    splitvlm certs init DIR                           TLS: a site CA, certificates, tokens
    splitvlm bench {wire,split,cache,batch,cascade,overload,faults,agent,hf}   measurements
    splitvlm testbed {up,down,status}                 the emulated edge-fog-cloud network
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from splitvlm.errors import ConfigError, SplitVLMError

if TYPE_CHECKING:
    from splitvlm.sdk import Credentials

Handler = Callable[[argparse.Namespace], int]
LOG_LEVELS = ("debug", "info", "warning", "error")


def _train(args: argparse.Namespace) -> int:
    from splitvlm.training.recipe import train

    tiers = [t.strip() for t in args.tiers.split(",") if t.strip()]
    train(args.phase, tiers, Path(args.out), Path(args.runs), args.scale)
    return 0


def _eval(args: argparse.Namespace) -> int:
    from splitvlm.evaluation_cli import run_calibration, run_eval, write_table

    if args.calibrate:
        print(json.dumps(run_calibration(args.per_type, Path(args.checkpoints)), indent=2))
        return 0
    if args.table:
        table = write_table(args.per_type, Path(args.checkpoints))
        print(json.dumps(table, indent=2))
        return 0
    if not args.lm:
        raise ConfigError("give --lm {edge,fog,cloud} (or --table for all of them)")
    result = run_eval(args.lm, args.vision, args.per_type, Path(args.checkpoints))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"lm={args.lm} vision={args.vision} n={result['n']} overall={result['overall']:.4f}")
        for qtype, acc in result["by_type"].items():
            print(f"  {qtype:8s} {acc:.4f}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from splitvlm.runtime.export_all import export_all

    export_all(Path(args.checkpoints), Path(args.out) if args.out else None)
    return 0


def _profile(args: argparse.Namespace) -> int:
    from splitvlm.profiling import profile_report, render_profile

    report = profile_report(Path(args.checkpoints), args.runs)
    print(json.dumps(report, indent=2) if args.json else render_profile(report))
    return 0


def _serve(args: argparse.Namespace) -> int:
    from splitvlm.config import load_config
    from splitvlm.service.launch import builder_for
    from splitvlm.service.server import run_service

    config = load_config(args.tier, Path(args.config) if args.config else None,
                         port=args.port, next_hop=args.next_hop, model_dir=args.model)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    run_service(config, builder_for(config.tier))
    return 0


def _agent(args: argparse.Namespace) -> int:
    from edge.agent.main import run_agent

    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    run_agent(Path(args.config), port=args.port)
    return 0


def _credentials(args: argparse.Namespace) -> Credentials | None:
    from splitvlm.sdk import Credentials

    if args.insecure:
        return None
    if args.site:
        return Credentials.site(args.site)
    if not args.ca:
        raise ConfigError("give --site DIR (a `splitvlm certs init` directory), or --ca FILE "
                          "with --token-file FILE (or SPLITVLM_TOKEN), or --insecure for a "
                          "plaintext edge")
    token = os.environ.get("SPLITVLM_TOKEN", "")
    if args.token_file:
        try:
            token = Path(args.token_file).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"--token-file {args.token_file}: {exc.strerror}") from exc
    return Credentials(args.ca, token, args.cert or "", args.key or "")


def _ask(args: argparse.Namespace) -> int:
    from splitvlm.sdk import Client

    with Client(args.edge, _credentials(args)) as client:
        answer = client.ask(Path(args.image), args.question, plan=args.plan,
                            deadline_s=args.deadline, policy=args.policy or (),
                            preset=args.preset, max_new_tokens=args.max_new_tokens,
                            no_cache=args.no_cache)
    print(json.dumps(answer.to_dict(), indent=2) if args.json else answer.report())
    return 0


def _health_credentials(args: argparse.Namespace) -> Credentials | None:
    """--insecure, --site DIR (its client certificate), --ca [--cert --key]; with none of
    them, the tier's own settings in the environment (SPLITVLM_INSECURE, SPLITVLM_TLS_*), as
    a container's HEALTHCHECK runs it beside its tier."""
    from splitvlm.sdk import Credentials

    if args.insecure:
        return None
    if args.site:
        return Credentials.site(args.site, token=False)
    if args.ca:
        return Credentials(args.ca, cert=args.cert or "", key=args.key or "")
    if os.environ.get("SPLITVLM_INSECURE", "").strip().lower() in ("1", "true", "yes", "on"):
        return None
    if os.environ.get("SPLITVLM_TLS_CA"):
        return Credentials(os.environ["SPLITVLM_TLS_CA"], cert=os.environ.get("SPLITVLM_TLS_CERT",
                           ""), key=os.environ.get("SPLITVLM_TLS_KEY", ""))
    raise ConfigError("give --insecure, --site DIR or --ca FILE [--cert FILE --key FILE] (or "
                      "set SPLITVLM_INSECURE / SPLITVLM_TLS_CA, _CERT, _KEY as for the tier)")


def _health(args: argparse.Namespace) -> int:
    from splitvlm.sdk.health import SERVING, health_status

    status = health_status(args.address, _health_credentials(args), args.timeout)
    print(f"{args.address} {status}", file=sys.stdout if status == SERVING else sys.stderr)
    return 0 if status == SERVING else EXIT_FAILED


def _status(args: argparse.Namespace) -> int:
    from splitvlm.statusview import watch

    if args.interval <= 0:
        raise ConfigError(f"--interval {args.interval}: must be > 0 seconds")
    return watch(args.edge, _credentials(args), args.interval, args.once,
                 metrics=args.metrics)


def _certs(args: argparse.Namespace) -> int:
    from splitvlm.trust.certs import init_site

    hosts: dict[str, list[str]] = {}
    for item in args.host or ():
        tier, _, names = item.partition("=")
        if tier not in ("edge", "fog", "cloud") or not names:
            raise ConfigError(f"--host {item!r}: expected TIER=NAME[,NAME...]")
        hosts.setdefault(tier, []).extend(n for n in names.split(",") if n)
    site = init_site(Path(args.directory), hosts, client=args.client)
    print(f"site CA {site.ca}; certificates and keys for edge, fog, cloud and client:"
          f"{args.client} in {site.directory}; tokens for the edge in {site.tokens}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from splitvlm.demo import run_demo

    return run_demo(plans=args.plan, transport=args.transport)


def _bench(args: argparse.Namespace) -> int:
    from splitvlm.bench import run_bench

    # --json / --plot may also come after the benchmark's name, among its own options
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true")
    common.add_argument("--plot", default="")
    known, extra = common.parse_known_args(args.extra)
    return run_bench(args.name, args.json or known.json, known.plot or args.plot,
                     [a for a in extra if a != "--"])


def _testbed(args: argparse.Namespace) -> int:
    from splitvlm.testbed.cli import main as testbed_main

    return testbed_main([args.action, *args.options])


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

    try:
        return package_version("splitvlm")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return "unknown"


def _credential_options(s: argparse.ArgumentParser) -> None:
    """How a command reaches the edge (`_credentials`): as `ask` does."""
    s.add_argument("--site", help="a `splitvlm certs init` directory: its CA and client token")
    s.add_argument("--ca", help="the site CA's certificate (PEM)")
    s.add_argument("--token-file", help="a bearer token the edge accepts (else $SPLITVLM_TOKEN)")
    s.add_argument("--cert", help="a client certificate (PEM), with --key")
    s.add_argument("--key", help="the client certificate's key (PEM)")
    s.add_argument("--insecure", action="store_true", help="plaintext, to an insecure edge")


def parser() -> argparse.ArgumentParser:
    from splitvlm import hf_cli
    from splitvlm.bench import BENCHES
    from splitvlm.checkpoints import CHECKPOINT_DIR
    from splitvlm.plan.policies import Policy
    from splitvlm.plan.presets import Preset

    p = argparse.ArgumentParser(prog="splitvlm", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"splitvlm {version()}")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("train", help="train the visual side and the three LMs")
    s.add_argument("--phase", choices=["visual", "lm", "all", "finetune", "grow"], default="all",
                   help="all = visual, then lm; finetune: an LM on from its checkpoint "
                        "(the recipe's FINETUNES); grow: fog from edge, cloud from fog, "
                        "then trained on the smaller LM's mistakes")
    s.add_argument("--tiers", default="",
                   help="LMs to train, e.g. edge,fog (default: every LM the phase has)")
    s.add_argument("--out", default=str(CHECKPOINT_DIR), help="checkpoint directory")
    s.add_argument("--runs", default="runs", help="resumable state goes here")
    s.add_argument("--scale", type=float, default=1.0, help="multiply every step count")
    s.set_defaults(func=_train)

    s = sub.add_parser("eval", help="accuracy per question type on the held-out set")
    s.add_argument("--lm", choices=["edge", "fog", "cloud"], help="the LM to evaluate")
    s.add_argument("--table", action="store_true",
                   help="every LM x vision precision; writes CHECKPOINTS/accuracy.json")
    s.add_argument("--calibrate", action="store_true",
                   help="cascade calibration on its own question set: the edge LM's "
                        "confidence against every LM's correctness; writes "
                        "CHECKPOINTS/calibration.json")
    s.add_argument("--vision", choices=["fp32", "int8"], default="fp32",
                   help="the visual side's precision (int8: the edge's ONNX graphs)")
    s.add_argument("--per-type", type=int, default=200, help="held-out questions per type")
    s.add_argument("--json", action="store_true", help="print the result as JSON")
    s.add_argument("--checkpoints", default=str(CHECKPOINT_DIR), help="checkpoint directory")
    s.set_defaults(func=_eval)

    s = sub.add_parser("export", help="ONNX graphs (fp32 + INT8) of the visual side and edge LM")
    s.add_argument("--checkpoints", default=str(CHECKPOINT_DIR), help="checkpoint directory")
    s.add_argument("--out", default="", help="default: CHECKPOINTS/onnx")
    s.set_defaults(func=_export)

    hf_cli.add_parser(sub)

    s = sub.add_parser("profile", help="per-stage parameters, FLOPs, bytes and latency")
    s.add_argument("--json", action="store_true", help="print the report as JSON")
    s.add_argument("--runs", type=int, default=30, help="timed runs per measurement")
    s.add_argument("--checkpoints", default=str(CHECKPOINT_DIR), help="checkpoint directory")
    s.set_defaults(func=_profile)

    s = sub.add_parser("serve", help="run one tier's gRPC service")
    s.add_argument("tier", choices=["edge", "fog", "cloud"], help="which tier to serve")
    s.add_argument("--config", default="", help="TOML file ([service] table; deploy/TIER.toml)")
    s.add_argument("--port", type=int, default=None, help="port to listen on (0: any free)")
    s.add_argument("--next-hop", default=None,
                   help="HOST:PORT of the next tier (none needed with discover = true)")
    s.add_argument("--model", metavar="DIR", help="a Hugging Face VLM in DIR (docs/models.md)")
    s.add_argument("--log-level", default=os.environ.get("SPLITVLM_LOG_LEVEL", "info"),
                   choices=LOG_LEVELS,
                   help="info: one line per request; debug: more; warning: problems only "
                        "(default: $SPLITVLM_LOG_LEVEL, else info)")
    s.set_defaults(func=_serve)

    s = sub.add_parser("agent", help="the edge agent daemon: frame sources, standing "
                       "questions, answers through outages")
    s.add_argument("--config", required=True, help="TOML file ([agent], [[source]] tables; "
                   "deploy/agent.toml)")
    s.add_argument("--port", type=int, default=None, help="port of AgentService (0: any free)")
    s.add_argument("--log-level", default=os.environ.get("SPLITVLM_LOG_LEVEL", "info"),
                   choices=LOG_LEVELS, help="default: $SPLITVLM_LOG_LEVEL, else info")
    s.set_defaults(func=_agent)

    s = sub.add_parser("ask", help="ask the edge a question about an image")
    s.add_argument("--edge", required=True, help="HOST:PORT of the edge service")
    s.add_argument("image", help="a JPEG or PNG file")
    s.add_argument("question", help="docs/questions.md (a Hugging Face VLM: free text)")
    s.add_argument("--plan", default="auto",
                   help="auto (the planner), auto:fixed (no cascades) or a named plan, e.g. "
                        "edge-only, fog-all, split-2, cut-3@fog:int8, cascade-cloud@0.9")
    s.add_argument("--policy", action="append", choices=[p.value for p in Policy],
                   help="what may not leave the edge (repeatable)")
    s.add_argument("--preset", choices=[p.value for p in Preset],
                   help="the planner's weights (default: the edge's)")
    s.add_argument("--max-new-tokens", type=int, default=0,
                   help="answer tokens at most (default 0: the tiers' limit)")
    s.add_argument("--no-cache", action="store_true",
                   help="bypass the feature cache: always send what the plan computes")
    s.add_argument("--deadline", type=float, default=30.0,
                   help="seconds the request may take (also the planner's budget)")
    s.add_argument("--json", action="store_true", help="the answer as JSON")
    _credential_options(s)
    s.set_defaults(func=_ask)

    s = sub.add_parser("health", help="grpc.health.v1 Check of a tier: exit 0 when SERVING, "
                       "1 otherwise (a container's HEALTHCHECK)")
    s.add_argument("address", help="HOST:PORT of any tier")
    s.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for the answer")
    s.add_argument("--insecure", action="store_true", help="plaintext, to an insecure tier")
    s.add_argument("--site", help="a `splitvlm certs init` directory: its CA and client "
                   "certificate")
    s.add_argument("--ca", help="the site CA's certificate (PEM)")
    s.add_argument("--cert", help="a certificate of the site (PEM), with --key: the fog and "
                   "the cloud require one")
    s.add_argument("--key", help="the certificate's key (PEM)")
    s.set_defaults(func=_health)

    s = sub.add_parser("status", help="the cluster as the edge sees it: health, links, load, "
                       "cache and vision runs per tier, refreshed")
    s.add_argument("edge", help="HOST:PORT of the edge service")
    s.add_argument("--once", action="store_true",
                   help="print one frame and exit (1 if the edge's Status failed)")
    s.add_argument("--interval", type=float, default=2.0, help="seconds between frames")
    s.add_argument("--metrics", default="", help="http://HOST:PORT of the edge's Prometheus "
                   "endpoint (its metrics_port): adds the plans it ran recently")
    _credential_options(s)
    s.set_defaults(func=_status)

    s = sub.add_parser("certs", help="TLS for a site: a CA, certificates, client tokens")
    s.add_argument("action", choices=["init"], help="init: make a new site in DIRECTORY")
    s.add_argument("directory", help="where the files go (must not hold a site already)")
    s.add_argument("--host", action="append",
                   help="TIER=NAME[,NAME]: more names the tier's certificate is valid for "
                        "(its hostnames; localhost, 127.0.0.1 and the tier's name always)")
    s.add_argument("--client", default="default", help="the client certificate's name")
    s.set_defaults(func=_certs)

    s = sub.add_parser("demo", help="edge + fog + cloud in one process on bundled images")
    s.add_argument("--plan", action="append",
                   help="ask every question under this plan (repeatable: in turn); default "
                        "auto, then one question under each fixed plan")
    s.add_argument("--transport", choices=["local", "grpc"], default="local",
                   help="join the tiers in-process (local) or as loopback gRPC servers")
    s.set_defaults(func=_demo)

    s = sub.add_parser("bench", help="benchmarks: baseline and ours in one run, with ratios")
    s.add_argument("name", choices=list(BENCHES), help="which benchmark")
    s.add_argument("--json", action="store_true", help="print the result as JSON")
    s.add_argument("--plot", default="", help="write a plot to this PNG file")
    s.add_argument("extra", nargs=argparse.REMAINDER,
                   help="benchmark-specific options, e.g. --change (`-- --help` lists them)")
    s.set_defaults(func=_bench)

    s = sub.add_parser("testbed", help="the three tiers in network namespaces")
    s.add_argument("action", choices=["up", "down", "status"])
    s.add_argument("options", nargs=argparse.REMAINDER,
                   help="--profile NAME, --prefix, --checkpoints, ... (`splitvlm testbed up -h`)")
    s.set_defaults(func=_testbed)
    return p


EXIT_FAILED, EXIT_USAGE = 1, 2  # a request (or run) that failed; a bad command line / config


def main(argv: list[str] | None = None) -> int:
    """Exit 0 on success, 1 when a request or run failed, 2 on a usage or config error (as
    argparse does for a bad command line)."""
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (ConfigError, FileNotFoundError) as exc:
        print(f"splitvlm {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SplitVLMError as exc:
        print(f"splitvlm {args.command}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
