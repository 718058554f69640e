"""A throwaway certificate authority with a server and a client certificate, made with the
openssl command line (as Redis's own gen-test-certs.sh does) for the TLS tests."""

from __future__ import annotations

import pathlib
import subprocess


def _openssl(*args: str, cwd: pathlib.Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certs(directory: pathlib.Path) -> dict[str, str]:
    """ca.crt, server.crt/.key (CN localhost, SAN 127.0.0.1), client.crt/.key, and a key
    protected by the passphrase "secret" (server-pass.key); returns their paths by name."""
    d = directory
    d.mkdir(parents=True, exist_ok=True)
    _openssl("genrsa", "-out", "ca.key", "2048", cwd=d)
    _openssl("req", "-x509", "-new", "-nodes", "-sha256", "-key", "ca.key", "-days", "2",
             "-subj", "/O=Vermilion Test/CN=Certificate Authority", "-out", "ca.crt", cwd=d)
    (d / "ext.cnf").write_text(
        "keyUsage = digitalSignature, keyEncipherment\n"
        "subjectAltName = DNS:localhost, IP:127.0.0.1\n")
    for name, usage in (("server", "serverAuth"), ("client", "clientAuth")):
        _openssl("genrsa", "-out", f"{name}.key", "2048", cwd=d)
        _openssl("req", "-new", "-sha256", "-key", f"{name}.key", "-subj",
                 f"/O=Vermilion Test/CN={'localhost' if name == 'server' else 'client'}",
                 "-out", f"{name}.csr", cwd=d)
        (d / f"{name}.cnf").write_text((d / "ext.cnf").read_text() + f"extendedKeyUsage = {usage}\n")
        _openssl("x509", "-req", "-sha256", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                 "-days", "2", "-in", f"{name}.csr", "-extfile", f"{name}.cnf", "-out", f"{name}.crt", cwd=d)
    _openssl("rsa", "-aes256", "-in", "server.key", "-passout", "pass:secret", "-out", "server-pass.key", cwd=d)
    names = ("ca.crt", "server.crt", "server.key", "client.crt", "client.key", "server-pass.key")
    return {name: str(d / name) for name in names}
