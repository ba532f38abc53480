"""Loopback by default; a token for anything else, checked per call; TLS."""

from __future__ import annotations

import datetime

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from worldbridge.client import BridgeClient, PoseRequest
from worldbridge.geometry import Convention
from worldbridge.serving import InsecureBindError, ServerConfig
from worldbridge.serving.gateway.server import Gateway


def test_default_config_binds_loopback():
    assert ServerConfig().host == "127.0.0.1"


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_non_loopback_bind_needs_a_token(host):
    import asyncio

    with pytest.raises(InsecureBindError, match=host.replace(".", r"\.")):
        asyncio.run(Gateway(ServerConfig(host=host, port=0, workers=0)).start())


def test_remote_worker_bind_needs_a_token():
    import asyncio

    with pytest.raises(InsecureBindError, match="needs a token"):
        asyncio.run(Gateway(ServerConfig(port=0, workers=0, worker_bind="tcp://0.0.0.0:5599")).start())


def test_token_checked_on_every_call(make_gateway, plane):
    gw = make_gateway(token="t0ken")
    with pytest.raises(grpc.RpcError) as e:
        BridgeClient(gw.target)
    assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as e:
        BridgeClient(gw.target, token="wrong")
    assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with BridgeClient(gw.target, token="t0ken") as c:
        s = c.open_session([plane.view()])
        assert s.render(PoseRequest(plane.pose(), Convention.OPENCV)).error is None
    # streaming calls are checked too, not only unary ones
    with BridgeClient(gw.target, token="t0ken") as good:
        s = good.open_session([plane.view()])
    with grpc.insecure_channel(gw.target) as ch:
        from worldbridge.v1 import frames_pb2, service_pb2_grpc

        stub = service_pb2_grpc.WorldBridgeStub(ch)
        with pytest.raises(grpc.RpcError) as e:
            list(stub.StreamFrames(iter([frames_pb2.FrameRequest(session_id=s.session_id)])))
        assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
        # health stays open for probes
        assert health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5).status == \
            health_pb2.HealthCheckResponse.SERVING


def _self_signed(tmp_path):
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_tls(make_gateway, plane, tmp_path):
    cert, key = _self_signed(tmp_path)
    gw = make_gateway(tls_cert=cert, tls_key=key, token="t")
    target = f"localhost:{gw.gateway.port}"
    with BridgeClient(target, token="t", tls_root_cert=cert) as c:
        s = c.open_session([plane.view()])
        assert s.render(PoseRequest(plane.pose(), Convention.OPENCV)).error is None
    # a plaintext client cannot talk to the TLS port
    with pytest.raises(grpc.RpcError):
        BridgeClient(target, token="t", timeout_s=2)
