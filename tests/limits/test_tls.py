"""TLS: redis-py and redis-cli over TLS with a CA, server and client certificates made by the
test; client certificate policy; CONFIG SET reloads; errors compared with a real Redis with TLS."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import sys

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.conftest import free_port, wait_for_port
from tests.limits.conftest import wait_until
from tests.resp_raw import RawConnection
from vermilion.testing import start_server


def tls_options(certs: dict[str, str]) -> dict[str, str]:
    return {"tls_cert_file": certs["server.crt"], "tls_key_file": certs["server.key"],
            "tls_ca_cert_file": certs["ca.crt"]}


@pytest.fixture
def tls_server(certs):
    srv = start_server(tls_port=free_port(), **tls_options(certs))
    yield srv
    srv.stop()


def tls_client(port: int, certs: dict[str, str], with_cert: bool = True) -> redis.Redis:
    extra = {"ssl_certfile": certs["client.crt"], "ssl_keyfile": certs["client.key"]} if with_cert else {}
    return redis.Redis(port=port, ssl=True, ssl_ca_certs=certs["ca.crt"], socket_timeout=5,
                       retry=Retry(NoBackoff(), 0), **extra)


def cli(port: int, certs: dict[str, str], *args: str, with_cert: bool = True) -> subprocess.CompletedProcess:
    command = ["redis-cli", "-p", str(port), "--tls", "--cacert", certs["ca.crt"]]
    if with_cert:
        command += ["--cert", certs["client.crt"], "--key", certs["client.key"]]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=10)


def test_redis_py_over_tls_and_plain_at_once(tls_server, certs):
    secure = tls_client(tls_server.config.tls_port, certs)
    plain = redis.Redis(port=tls_server.port)
    assert secure.set("k", "v") and plain.get("k") == b"v"
    # A pipeline exercises the hiredis fast path with TLS records split anywhere.
    with secure.pipeline(transaction=False) as pipe:
        for i in range(2000):
            pipe.set(f"key:{i}", "x" * (i % 300))
        pipe.get("key:1999")
        results = pipe.execute()
    assert results[-1] == b"x" * (1999 % 300) and all(results[:-1])
    assert secure.get("big") is None and secure.set("big", b"y" * 3_000_000) and len(secure.get("big")) == 3_000_000
    info = secure.client_info()
    assert info["laddr"].endswith(f":{tls_server.config.tls_port}")
    secure.close()
    plain.close()


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli is part of redis-server's package")
def test_redis_cli_with_client_certificate(tls_server, certs):
    done = cli(tls_server.config.tls_port, certs, "ECHO", "over tls")
    assert done.stdout == "over tls\n"


def test_client_certificate_policy(tls_server, certs):
    port = tls_server.config.tls_port
    without = tls_client(port, certs, with_cert=False)
    with pytest.raises(redis.ConnectionError):
        without.ping()
    admin = redis.Redis(port=tls_server.port)
    admin.config_set("tls-auth-clients", "optional")
    assert tls_client(port, certs, with_cert=False).ping()
    assert tls_client(port, certs).ping()
    admin.config_set("tls-auth-clients", "no")
    assert tls_client(port, certs, with_cert=False).ping()
    admin.config_set("tls-auth-clients", "yes")
    with pytest.raises(redis.ConnectionError):
        tls_client(port, certs, with_cert=False).ping()
    admin.close()


def test_config_set_reloads_the_context(tls_server, certs):
    port = tls_server.config.tls_port
    admin = redis.Redis(port=tls_server.port)
    kept = tls_client(port, certs)
    assert kept.ping()
    admin.config_set("tls-protocols", "TLSv1.2")
    context = ssl.create_default_context(cafile=certs["ca.crt"])
    context.load_cert_chain(certs["client.crt"], certs["client.key"])
    with socket.create_connection(("127.0.0.1", port)) as raw, \
            context.wrap_socket(raw, server_hostname="localhost") as secure:
        assert secure.version() == "TLSv1.2"
    admin.config_set("tls-protocols", "TLSv1.3", "tls-key-file", certs["server-pass.key"],
                     "tls-key-file-pass", "secret")
    with socket.create_connection(("127.0.0.1", port)) as raw, \
            context.wrap_socket(raw, server_hostname="localhost") as secure:
        assert secure.version() == "TLSv1.3"
    assert kept.ping()  # connections made before keep working
    new_port = free_port()
    admin.config_set("tls-port", str(new_port))
    assert wait_until(lambda: _tls_ping(new_port, certs))
    with pytest.raises(redis.ConnectionError):
        tls_client(port, certs).ping()
    kept.close()
    admin.close()


def _tls_ping(port: int, certs: dict[str, str]) -> bool:
    try:
        return tls_client(port, certs).ping()
    except redis.ConnectionError:
        return False


BAD_SETTINGS = [
    ("tls-cert-file", "/nonexistent/cert.pem"),
    ("tls-key-file", "/nonexistent/key.pem"),
    ("tls-ca-cert-file", "/nonexistent/ca.pem"),
    ("tls-protocols", "TLSv1.9"),
    ("tls-ciphers", "NO-SUCH-CIPHER"),
    ("tls-ciphersuites", "NO_SUCH_SUITE"),
    ("tls-key-file-pass", "wrong"),
    ("tls-session-cache-size", "-1"),
    ("tls-auth-clients", "maybe"),
]


def test_config_set_errors_match_redis(tls_server, certs, real_redis):
    theirs_tls = free_port()
    options = tls_options(certs)
    theirs = real_redis("--tls-port", str(theirs_tls), *(x for name, value in options.items()
                                                           for x in ("--" + name.replace("_", "-"), value)))
    ours_conn, theirs_conn = RawConnection(tls_server.port), RawConnection(theirs.port)
    for name, value in BAD_SETTINGS:
        if name == "tls-key-file-pass":
            args = ("CONFIG", "SET", "tls-key-file", certs["server-pass.key"], name, value)
        else:
            args = ("CONFIG", "SET", name, value)
        assert ours_conn.call(*args) == theirs_conn.call(*args), args
    for args in (("CONFIG", "GET", "tls-*"), ("CONFIG", "SET", "tls-session-cache-timeout", "60"),
                 ("CONFIG", "SET", "tls-session-caching", "no"), ("CONFIG", "SET", "tls-prefer-server-ciphers", "yes"),
                 ("CONFIG", "SET", "tls-ciphers", "ECDHE-RSA-AES128-GCM-SHA256"), ("PING",)):
        ours, expected = ours_conn.call(*args), theirs_conn.call(*args)
        if args[1:2] == ("GET",):
            ours = ours.replace(str(tls_server.config.tls_port).encode(), b"PORT")
            expected = expected.replace(str(theirs_tls).encode(), b"PORT")
            assert sorted(ours.split(b"\r\n")) == sorted(expected.split(b"\r\n"))
        else:
            assert ours == expected, args
    ours_conn.close()
    theirs_conn.close()
    assert tls_client(tls_server.config.tls_port, certs).ping()


def test_tls_only_server_from_the_command_line(certs, tmp_path):
    """port 0: no plain TCP listener, only TLS."""
    tls_port = free_port()
    options = tls_options(certs)
    args = ["--port", "0", "--tls-port", str(tls_port), "--save", "", "--dir", str(tmp_path),
            "--logfile", str(tmp_path / "v.log")]
    for name, value in options.items():
        args += ["--" + name.replace("_", "-"), value]
    proc = subprocess.Popen([sys.executable, "-m", "vermilion", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(tls_port, timeout=30)
        assert tls_client(tls_port, certs).ping()
        assert "Ready to accept connections" in (tmp_path / "v.log").read_text()
    finally:
        proc.terminate()
        proc.wait(10)


def test_bad_tls_setup_aborts_the_start(certs, tmp_path):
    args = ["--port", str(free_port()), "--tls-port", str(free_port()), "--tls-cert-file", certs["server.crt"],
            "--tls-key-file", "/nonexistent.key", "--tls-ca-cert-file", certs["ca.crt"]]
    done = subprocess.run([sys.executable, "-m", "vermilion", *args], capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert "Failed to load private key: /nonexistent.key" in done.stdout
    assert "Failed to configure TLS. Check logs for more info." in done.stdout


def test_config_set_bind_moves_the_tls_port_too(tls_server, certs):
    admin = redis.Redis(port=tls_server.port)
    assert admin.config_set("bind", "127.0.0.1")
    assert wait_until(lambda: _tls_ping(tls_server.config.tls_port, certs))
    assert redis.Redis(port=tls_server.port).ping()
    admin.close()
