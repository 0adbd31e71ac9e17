"""Is a tier up? The standard grpc.health.v1 Check, as a container's HEALTHCHECK asks it.

    health_status("127.0.0.1:50051")                          # "SERVING" (plaintext)
    health_status("fog:50052", Credentials("ca.pem", cert="fog.pem", key="fog.key"))

Every tier serves grpc.health.v1.Health; the overall service ("") turns NOT_SERVING on
SIGTERM, while the tier drains. The fog and the cloud take TLS only with a certificate of the
site: give one (a tier's own, or the client's).
"""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from splitvlm.sdk.credentials import Credentials

SERVING = "SERVING"


def health_status(target: str, credentials: Credentials | None = None,
                  timeout_s: float = 2.0, service: str = "") -> str:
    """The status name the tier at `target` reports for `service` ("": the whole server):
    SERVING, NOT_SERVING, ...; or, when the call itself fails, the gRPC status code's name
    (UNAVAILABLE, DEADLINE_EXCEEDED, ...) and its details."""
    channel = (grpc.insecure_channel(target) if credentials is None
               else grpc.secure_channel(target, credentials.channel_credentials()))
    with channel:
        return check(channel, timeout_s, service)


def check(channel: grpc.Channel, timeout_s: float = 2.0, service: str = "") -> str:
    """health_status over a channel the caller holds."""
    try:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=timeout_s)
    except grpc.RpcError as exc:
        code: grpc.StatusCode = exc.code()  # type: ignore[attr-defined]
        return f"{code.name}: {exc.details()}"  # type: ignore[attr-defined]
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))
