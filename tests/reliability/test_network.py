"""Network safety, through the CLI in a real process: HTTPS only unless allowed, TLS
certificates verified, and a timeout on every call that names what to raise."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from cli_runner import clean_env, wasync_process
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from wasync.sandbox.cams import create_app
from wasync.sandbox.common import DropConnections

from .support import (
    CAMS_KEY_ID,
    CAMS_SECRET,
    CREDENTIAL_ENV,
    FAST_RETRIES,
    Folder,
    assert_clean_failure,
    cams_account,
    nx_account,
    qr_spec,
    template_spec,
)


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no trust store knows, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@contextlib.contextmanager
def serving_tls(cert: Path, key: Path) -> Iterator[str]:
    """The CAMS emulator (distinctive keys) over HTTPS with ``cert``; yields its base URL."""
    import uvicorn

    app = create_app(access_key_id=CAMS_KEY_ID, access_key_secret=CAMS_SECRET, qps=0)
    sock = socket.create_server(("127.0.0.1", 0))
    config = uvicorn.Config(
        DropConnections(app),
        log_level="critical",
        lifespan="off",
        ssl_certfile=str(cert),
        ssl_keyfile=str(key),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the TLS server did not start"
        time.sleep(0.01)
    try:
        yield f"https://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextlib.contextmanager
def silent_server() -> Iterator[str]:
    """Accepts connections (the kernel does, into the backlog) and never answers."""
    with socket.create_server(("127.0.0.1", 0), backlog=64) as server:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


def test_http_without_the_flag_is_refused_before_any_call(tmp_path: Path) -> None:
    with silent_server() as url:
        account = cams_account(url).replace("    allow_insecure_http: true\n", "")
        root = Folder(tmp_path, [account]).write(qr_codes=[qr_spec("live-cams", "p", "Hi")])
        for command in ("validate", "plan"):
            result = wasync_process(command, root, env=clean_env(CREDENTIAL_ENV), timeout=20)
            assert_clean_failure(
                result,
                "wasync.yaml:4:15: accounts.live-cams.endpoint: http:// sends credentials "
                "unencrypted; use https://, or set allow_insecure_http: true",
            )


def test_a_self_signed_certificate_is_refused_with_a_tls_message(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    with serving_tls(cert, key) as url:
        root = Folder(tmp_path / "specs", [cams_account(url)]).write(
            qr_codes=[qr_spec("live-cams", "p", "Hi")]
        )
        result = wasync_process("--debug", "plan", root, env=clean_env(CREDENTIAL_ENV))
        assert_clean_failure(
            result,
            f"cams ListPhoneMessageQrdl failed: TLSError: refused {url}: its TLS certificate "
            "could not be verified (self-signed certificate)",
            "check that the endpoint of account live-cams is the provider's https:// URL",
        )
        # A TLS refusal is final: the call was made once, not retried for a minute.
        attempts = [
            line
            for line in result.stderr.splitlines()
            if " wasync.http: cams live-cams ListPhoneMessageQrdl: " in line
        ]
        assert len(attempts) == 1, result

        # The hint works: trusting the certificate lets the same plan through, over TLS.
        trusted = clean_env({**CREDENTIAL_ENV, "SSL_CERT_FILE": str(cert)})
        result = wasync_process("plan", root, env=trusted, timeout=60)
        assert result.exit_code == 0, result
        assert "qr.live-cams.8615800001111.p will be created" in result.stdout


def test_a_server_that_never_answers_times_out_naming_account_and_setting(
    tmp_path: Path,
) -> None:
    with silent_server() as url:
        root = Folder(
            tmp_path,
            [cams_account(url, timeout=0.3), nx_account(url, name="live-nx", timeout=0.4)],
        ).write(templates=[template_spec("live-nx", "note", "Order")])
        result = wasync_process("plan", root, env=clean_env(CREDENTIAL_ENV), setup=FAST_RETRIES)
    assert_clean_failure(result, "failed: ReadTimeout")
    # Either account may be the first to give up; each names its own timeout.
    assert (
        f"cams ListChatappTemplate failed: ReadTimeout: no reply within 0.3 s from {url}; "
        "a read: nothing was changed"
        in result.stderr
        and "raise `timeout:` (now 0.3 s) of account live-cams in wasync.yaml" in result.stderr
    ) or (
        f"nxcloud getTemplate failed: ReadTimeout: no reply within 0.4 s from {url}; "
        "a read: nothing was changed"
        in result.stderr
        and "raise `timeout:` (now 0.4 s) of account live-nx in wasync.yaml" in result.stderr
    ), result
