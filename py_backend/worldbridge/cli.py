"""``worldbridge`` command line: serve, worker, demo, and the training commands."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from worldbridge.errors import ConfigError, exit_code

__all__ = ["main"]


def _serve_parser(sub) -> None:
    p = sub.add_parser("serve", help="run the gRPC gateway and its render workers")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default loopback only)")
    p.add_argument("--port", type=int, default=50051, help="TCP port; 0 picks a free one")
    p.add_argument("--port-file", type=Path, help="write the bound port here once serving")
    p.add_argument("--workers", type=int, default=1, help="local render worker processes")
    p.add_argument("--worker-bind", default=None,
                   help="ZeroMQ address for workers, e.g. tcp://0.0.0.0:5556 to accept "
                        "`worldbridge worker` from other machines (needs --token)")
    p.add_argument("--token-file", type=Path, default=None,
                   help="file holding the shared token checked on every call (default "
                        "$WORLDBRIDGE_TOKEN); required for a non-loopback --host and a tcp "
                        "--worker-bind")
    p.add_argument("--token", default=None,
                   help="the shared token itself; visible to other users in ps, prefer "
                        "--token-file or WORLDBRIDGE_TOKEN")
    p.add_argument("--tls-cert", type=Path, help="PEM certificate chain (enables TLS)")
    p.add_argument("--tls-key", type=Path, help="PEM private key")
    p.add_argument("--insecure", action="store_true",
                   help="allow a non-loopback --host without TLS (a trusted network only)")
    p.add_argument("--data-dir", type=Path, default=Path("recordings"),
                   help="where recorded datasets are written")
    p.add_argument("--max-message-mb", type=int, default=64, help="largest gRPC message, MiB")
    p.add_argument("--bundle-dir", type=Path, action="append", default=[], metavar="DIR",
                   help="serve the frame-model bundles in DIR's sub-folders by name (GeneratorOptions.bundle); "
                        "a bundle copied there later is served without a restart (repeatable)")
    p.add_argument("--bundle", action="append", default=[], metavar="NAME=PATH",
                   help="serve the bundle at PATH under NAME (repeatable)")
    from worldbridge.generators.options import add_generator_arguments

    add_generator_arguments(p)


def _demo_parser(sub) -> None:
    p = sub.add_parser("demo", help="start a server and the Panda3D engine client; write a preview")
    p.add_argument("--out", type=Path, default=Path("out/preview.png"))
    p.add_argument("--video", type=Path, default=None, help="also write an mp4")
    p.add_argument("--frames", type=int, default=48)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--generator", default="anchor")
    p.add_argument("--references", type=int, default=3,
                   help="engine views (RGB + depth) along the path that build the world")
    p.add_argument("--path", choices=("orbit", "dolly", "walk"), default="orbit",
                   help="camera path through the garden")
    p.add_argument("--keyframe-every", type=int, default=0, metavar="N",
                   help="every N-th frame is a keyframe: lifted into the world with the "
                        "engine's depth, so the world grows as the camera explores (0: none)")
    p.add_argument("--frame-model", type=Path, default=None, metavar="BUNDLE",
                   help="frame-model bundle the server loads (default: the starter model)")
    p.add_argument("--anchor-lock", choices=("on", "off"), default="on",
                   help="frame model: keep the anchors' pixels (on) or regenerate every pixel")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="worldbridge", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    _serve_parser(sub)
    sub.add_parser("worker", help="run one render worker that connects to a gateway",
                   add_help=False)
    sub.add_parser("record", help="record training trajectories from the Panda3D engine "
                   "(worldbridge.engines.panda3d.record; --help for its options)", add_help=False)
    sub.add_parser("export-onnx", help="export a frame-model bundle to ONNX Runtime graphs",
                   add_help=False)
    sub.add_parser("eval", help="evaluate a frame model on held-out trajectories (PSNR, SSIM, "
                   "holes, teacher gap, temporal stability)", add_help=False)
    _demo_parser(sub)
    from worldbridge.training.commands import add_training_commands

    add_training_commands(sub)
    args, rest = parser.parse_known_args(argv)
    return _run(parser, args, rest)


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace, rest: list[str]) -> int:
    from worldbridge.training.commands import TRAINING_COMMANDS

    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.command == "worker":
        from worldbridge.serving.worker.main import main as worker_main

        return worker_main(rest)
    if args.command == "record":
        try:
            from worldbridge.engines.panda3d.record import main as record_main
        except ImportError as e:  # no Panda3D: the message names the extra to install
            if e.name != "panda3d":
                raise
            print(f"worldbridge record: {e}", file=sys.stderr)
            return exit_code(e)
        record_main(rest)
        return 0
    if args.command == "export-onnx":
        from worldbridge.models.onnx_export import export_onnx_main

        return export_onnx_main(rest)
    if args.command == "eval":
        from worldbridge.evaluation.cli import eval_main

        return eval_main(rest)
    if rest:
        parser.error(f"unrecognised arguments: {' '.join(rest)}")
    if args.command == "serve":
        return _serve(args)
    if args.command in TRAINING_COMMANDS:
        from worldbridge.training.commands import run_training_command

        return run_training_command(args)
    if args.command == "demo":
        return _demo(args)
    return 2


def _serve(args: argparse.Namespace) -> int:
    """``worldbridge serve``: exit 0 after a clean shutdown, the ConfigError code for bad options."""
    from worldbridge.generators.options import GeneratorOptions
    from worldbridge.serving import ServerConfig, ServerLimits, serve
    from worldbridge.serving.auth import read_token

    try:
        options = GeneratorOptions.from_args(args)
        token = read_token(args.token_file, args.token)
        bundles = _named_bundles(args.bundle)
    except ValueError as e:
        print(f"worldbridge serve: {e}", file=sys.stderr)
        return exit_code(ConfigError(str(e)))
    cfg = ServerConfig(host=args.host, port=args.port, workers=args.workers,
                       worker_bind=args.worker_bind, token=token, tls_cert=args.tls_cert,
                       insecure=args.insecure,
                       tls_key=args.tls_key, data_dir=args.data_dir,
                       limits=ServerLimits(max_message_bytes=args.max_message_mb * 1024 * 1024),
                       generator_options=options, bundle_dirs=args.bundle_dir, bundles=bundles)
    try:
        asyncio.run(serve(cfg, args.port_file))
    except ConfigError as e:  # an unsafe bind: exit 2
        print(f"worldbridge serve: {e}", file=sys.stderr)
        return exit_code(e)
    return 0


def _named_bundles(values: list[str]) -> dict[str, Path]:
    """``--bundle NAME=PATH`` values as a dict.

    Raises:
        ValueError: a value without ``=``, or a name given twice.
    """
    out: dict[str, Path] = {}
    for v in values:
        name, sep, path = v.partition("=")
        if not sep or not name or not path:
            raise ValueError(f"--bundle takes NAME=PATH, got {v!r}")
        if name in out:
            raise ValueError(f"--bundle {name!r} is given twice")
        out[name] = Path(path)
    return out


def _demo(args: argparse.Namespace) -> int:
    """``worldbridge demo``: exit 0, or the ImportError code when Panda3D is missing."""
    from worldbridge.demo import run_demo

    server_args = ["--anchor-lock", args.anchor_lock]
    if args.frame_model is not None:
        server_args += ["--frame-model", str(args.frame_model)]
    try:
        run_demo(out=args.out, video=args.video, frames=args.frames, size=args.size,
                 generator=args.generator, references=args.references,
                 server_args=server_args, path=args.path, keyframe_every=args.keyframe_every)
    except ImportError as e:
        if e.name != "panda3d":
            raise
        print(f"worldbridge demo: {e}", file=sys.stderr)
        return exit_code(e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
