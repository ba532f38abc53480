"""The gateway process: WorldBridge's gRPC service in front of the render workers.

* :mod:`~worldbridge.serving.gateway.server`: configuration, TLS, startup and shutdown.
* :mod:`~worldbridge.serving.gateway.servicer`: the gRPC handlers.
* :mod:`~worldbridge.serving.gateway.handlers`: handler registration with safe deserializers.
* :mod:`~worldbridge.serving.gateway.requests`: request validation at the edge.
* :mod:`~worldbridge.serving.gateway.sessions`: the session table (reservations, tombstones).
* :mod:`~worldbridge.serving.gateway.pacing`: newest-pose-wins pacing of a stream.
* :mod:`~worldbridge.serving.gateway.worker_pool`: spawning, authenticating and calling workers.
"""
