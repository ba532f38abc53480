"""Build and run the gateway: grpc.aio server, workers, health, reflection, security.

``worldbridge serve`` calls :func:`serve`; tests and the demo use :class:`Gateway`
directly (``async with Gateway(config) as gw: gw.port``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import cast

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from worldbridge.atomic_io import atomic_write_text
from worldbridge.errors import ConfigError
from worldbridge.generators.options import GeneratorOptions
from worldbridge.serving.auth import TokenInterceptor
from worldbridge.serving.gateway.bundles import BundleRegistry
from worldbridge.serving.gateway.handlers import add_servicer
from worldbridge.serving.gateway.servicer import WorldBridgeServicer
from worldbridge.serving.gateway.worker_pool import WorkerPool
from worldbridge.serving.limits import ServerLimits, default_memory_budget
from worldbridge.v1 import service_pb2

__all__ = ["ServerConfig", "Gateway", "serve", "SERVICE_NAME", "worker_health_name",
           "InsecureBindError"]

log = logging.getLogger("worldbridge.gateway")
SERVICE_NAME = service_pb2.DESCRIPTOR.services_by_name["WorldBridge"].full_name


def worker_health_name(worker_id: str) -> str:
    """Health-check service name of one worker: ``worldbridge.worker.<id>``."""
    return f"worldbridge.worker.{worker_id}"


class InsecureBindError(ConfigError):
    """Binding a non-loopback address without a token, or without TLS unless ``insecure``;
    a tcp worker bind without a token."""


@dataclass
class ServerConfig:
    """Gateway settings.

    Attributes:
        host: address to bind; anything but loopback requires ``token``.
        port: TCP port; 0 picks a free one (see :attr:`Gateway.port`).
        workers: local render worker processes.
        worker_bind: ZeroMQ address for workers (``tcp://0.0.0.0:5556`` to accept workers from
            other machines; they then need the token). None = private ipc socket.
        token: shared secret checked on every call (and presented by remote workers).
        tls_cert, tls_key: PEM files; both set = TLS. A non-loopback ``host`` needs TLS
            unless ``insecure`` (the token would otherwise cross the network in clear text).
        insecure: allow a non-loopback ``host`` without TLS (a trusted network only).
        data_dir: where recordings go.
        limits: explicit size limits.
        generator_options: what local workers' frame-model generators load and how they serve
            (bundle, device, precision, ONNX providers, default anchor lock); passed to each
            local worker as ``worldbridge worker`` flags.
        bundle_dirs: folders whose sub-folders are bundles sessions may name (rescanned on each
            lookup: a bundle copied there is served without a restart).
        bundles: bundles sessions may name, ``name -> folder``, listed at startup.
    """

    host: str = "127.0.0.1"
    port: int = 50051
    workers: int = 1
    worker_bind: str | None = None
    token: str | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    insecure: bool = False
    data_dir: Path = Path("recordings")
    limits: ServerLimits = field(default_factory=ServerLimits)
    heartbeat_timeout_s: float = 5.0
    generator_options: GeneratorOptions = field(default_factory=GeneratorOptions)
    bundle_dirs: list[Path] = field(default_factory=list)
    bundles: dict[str, Path] = field(default_factory=dict)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Gateway:
    """The running gateway: gRPC server + worker pool.

    Raises (from ``start``):
        InsecureBindError: non-loopback host without a token, or a remote worker bind
            without a token.
        ValueError: only one of tls_cert / tls_key.
    """

    def __init__(self, config: ServerConfig):
        self.config = config
        self.port: int | None = None
        self.health = HealthServicer()
        self.pool: WorkerPool | None = None
        self.servicer: WorldBridgeServicer | None = None
        self.server: grpc.aio.Server | None = None
        self._janitor: asyncio.Task | None = None

    async def start(self) -> Gateway:
        cfg = self.config
        if not _is_loopback(cfg.host) and not cfg.token:
            raise InsecureBindError(f"binding {cfg.host} exposes the server beyond this machine: "
                                    "set a token (--token-file or WORLDBRIDGE_TOKEN)")
        if cfg.worker_bind and cfg.worker_bind.startswith("tcp://") and not cfg.token:
            raise InsecureBindError(f"accepting workers on {cfg.worker_bind} needs a token: tcp "
                                    "worker links are encrypted and authenticated with CURVE keys "
                                    "derived from it (the default ipc socket needs none)")
        if bool(cfg.tls_cert) != bool(cfg.tls_key):
            raise ValueError("TLS needs both --tls-cert and --tls-key")
        if not _is_loopback(cfg.host) and not cfg.tls_cert and not cfg.insecure:
            raise InsecureBindError(f"binding {cfg.host} without TLS sends the token and every frame "
                                    "in clear text: add --tls-cert and --tls-key, or --insecure on "
                                    "a trusted network")
        registry = BundleRegistry(cfg.bundle_dirs, cfg.bundles)  # ConfigError before anything starts
        budget = cfg.limits.worker_memory_budget_bytes
        if budget is None:
            budget = default_memory_budget(cfg.workers)
        limits = replace(cfg.limits, worker_memory_budget_bytes=budget)
        self.pool = WorkerPool(cfg.worker_bind, cfg.workers, cfg.token,
                               on_worker_down=self._worker_down, on_worker_up=self._worker_up,
                               heartbeat_timeout_s=cfg.heartbeat_timeout_s,
                               worker_args=[*cfg.generator_options.to_argv(), "--memory-budget-mb",
                                            str(budget // 2**20)])
        self.servicer = WorldBridgeServicer(self.pool, cfg.data_dir, limits, registry)
        await self.health.set(SERVICE_NAME, health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.health.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
        size = cfg.limits.max_message_bytes
        self.server = grpc.aio.server(
            interceptors=[TokenInterceptor(cfg.token)] if cfg.token else None,
            options=[("grpc.max_receive_message_length", size),
                     ("grpc.max_send_message_length", size),
                     ("grpc.so_reuseport", 0)])
        add_servicer(self.servicer, self.server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
             reflection.SERVICE_NAME), self.server)
        address = f"{cfg.host}:{cfg.port}" if ":" not in cfg.host else f"[{cfg.host}]:{cfg.port}"
        if cfg.tls_cert:
            creds = grpc.ssl_server_credentials([(Path(cast(Path, cfg.tls_key)).read_bytes(),
                                                  Path(cfg.tls_cert).read_bytes())])
            self.port = self.server.add_secure_port(address, creds)
        else:
            self.port = self.server.add_insecure_port(address)
        if self.port == 0:
            raise OSError(f"could not bind {address}")
        await self.pool.start()
        await self.server.start()
        self._janitor = asyncio.create_task(self.servicer.expire_idle_sessions(), name="sessions-janitor")
        log.info("WorldBridge gateway on %s:%d (%s), %d local worker(s), workers at %s",
                 cfg.host, self.port, "TLS" if cfg.tls_cert else "plaintext", cfg.workers,
                 self.pool.bind_address)
        return self

    async def _refresh_overall_health(self) -> None:
        if self.pool is None:  # only the pool's callbacks call this, after start() made it
            raise RuntimeError("the gateway is not started")
        serving = any(w.serving for w in self.pool.workers.values())
        status = health_pb2.HealthCheckResponse.SERVING if serving \
            else health_pb2.HealthCheckResponse.NOT_SERVING
        await self.health.set(SERVICE_NAME, status)
        await self.health.set("", status)

    async def _worker_up(self, worker_id: str) -> None:
        await self.health.set(worker_health_name(worker_id), health_pb2.HealthCheckResponse.SERVING)
        await self._refresh_overall_health()

    async def _worker_down(self, worker_id: str) -> None:
        await self.health.set(worker_health_name(worker_id), health_pb2.HealthCheckResponse.NOT_SERVING)
        if self.servicer is None:  # the pool calls back only after start() made the servicer
            raise RuntimeError("the gateway is not started")
        await self.servicer.worker_down(worker_id)
        await self._refresh_overall_health()

    async def stop(self, grace_s: float = 1.0) -> None:
        if self._janitor is not None:
            self._janitor.cancel()
        if self.server is not None:
            await self.health.enter_graceful_shutdown()
            await self.server.stop(grace_s)
        if self.pool is not None:
            await self.pool.close()

    async def __aenter__(self) -> Gateway:
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()


async def serve(config: ServerConfig, port_file: Path | None = None) -> None:
    """Run the gateway until SIGINT/SIGTERM. Writes the bound port to ``port_file`` if given."""
    gateway = Gateway(config)
    await gateway.start()
    if port_file is not None:
        atomic_write_text(port_file, str(gateway.port))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await gateway.stop()
