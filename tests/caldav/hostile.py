"""Scripted HTTP(S) servers on loopback that play a hostile or misconfigured CalDAV server.

A :class:`Scripted` server answers every request with what its script returns and records
every request it receives (method, target, headers), so a test can assert what reached it: the
server the adapter is configured for plays the attacker (a 401 asking for the password, then a
redirect or an href to somewhere else), and a second one on another host (127.0.0.2) or another
port records whether anything, above all an ``Authorization`` header, ever arrived there.

TLS servers use a self-signed certificate made with ``cryptography`` for 127.0.0.1
(:func:`self_signed`); the adapter trusts it through its ``ca_file``, exactly as an athlete with
a private CA would.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import ssl
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.background_server import BackgroundServer

__all__ = [
    "Answer",
    "Request",
    "Scripted",
    "login_then",
    "multistatus",
    "not_found",
    "self_signed",
]


@dataclass(frozen=True)
class Request:
    """One request as the server read it."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


Script = Callable[[Request], Answer]


def not_found(_: Request) -> Answer:
    """The recorder's script: nothing here, for anyone."""
    return Answer(404)


def login_then(then: Script, *, challenge: str = 'Basic realm="hostile"') -> Script:
    """401 with ``challenge`` until a request carries ``Authorization``, then ``then``: the
    server gets the password first, as a real one asking for a login would."""

    def script(request: Request) -> Answer:
        if request.header("Authorization") is None:
            return Answer(401, (("WWW-Authenticate", challenge),))
        return then(request)

    return script


def multistatus(responses: Iterable[tuple[str, str]], *, sync_token: str | None = None) -> Answer:
    """A 207 of ``(href, props XML)`` responses, each prop found (200)."""
    parts = [
        f"<D:response><D:href>{escape(href)}</D:href><D:propstat><D:prop>{props}</D:prop>"
        "<D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"
        for href, props in responses
    ]
    token = f"<D:sync-token>{escape(sync_token)}</D:sync-token>" if sync_token else ""
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        f"{''.join(parts)}{token}</D:multistatus>"
    ).encode()
    return Answer(207, (("Content-Type", "application/xml; charset=utf-8"),), body)


def self_signed(directory: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A self-signed CA certificate for ``host`` (an IP address) and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: Scripted


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10  # a client that stalls does not hold a test

    def handle_one_request(self) -> None:
        # Any method (PROPFIND, REPORT, MKCALENDAR...), so no do_<METHOD> dispatch.
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline or len(self.raw_requestline) > 65536:
            self.close_connection = True
            return
        if not self.parse_request():
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, self.path, tuple(self.headers.items()), body)
        server = self.server
        assert isinstance(server, _Server)
        answer = server.owner.answer(request)
        # Written by hand: a hostile server sends whatever bytes it likes (UTF-8 in a Location).
        lines = [f"HTTP/1.1 {answer.status} Scripted"]
        lines += [f"{name}: {value}" for name, value in answer.headers]
        lines += [f"Content-Length: {len(answer.body)}", "", ""]
        head = "\r\n".join(lines).encode("utf-8", "surrogateescape")
        self.wfile.write(head + (answer.body if self.command != "HEAD" else b""))
        with contextlib.suppress(OSError):
            self.wfile.flush()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the server keeps :attr:`Scripted.seen`."""


class Scripted(BackgroundServer):
    """An HTTP server on ``host`` (a free port) answering with ``script``; ``tls`` (cert, key)
    makes it HTTPS. :attr:`seen` lists every request received, in order."""

    def __init__(
        self,
        script: Script = not_found,
        *,
        host: str = "127.0.0.1",
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        self.script = script
        self._lock = threading.Lock()
        self._seen: list[Request] = []
        self._server = _Server((host, 0), _Handler)
        self._server.owner = self
        self.scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.origin}/"

    @property
    def seen(self) -> list[Request]:
        with self._lock:
            return list(self._seen)

    def answer(self, request: Request) -> Answer:
        with self._lock:
            self._seen.append(request)
        return self.script(request)

    def _thread_name(self) -> str:
        return f"scripted-{self.origin}"
