"""A key that ships inside a mapped program file is low, unless it is a known key.

The `openssl` binary carries RSA test keys (DER RSAPrivateKey) for its `speed`
command.  A gcore of a running `openssl` with file-backed mappings included
(coredump_filter 0x3f) holds them inside the mapping of /usr/bin/openssl: they
must be reported with that file as `module`, at severity low; the same key
given as a known key makes its finding critical.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from tests.clirun import scan_json
from tests.processes import gcore, require_gcore, stop

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def openssl_core(tmp_path_factory: pytest.TempPathFactory) -> Path:
    openssl = shutil.which("openssl")
    require_gcore()
    if openssl is None:
        pytest.skip("needs openssl")
    out = tmp_path_factory.mktemp("openssl-core")
    # `openssl enc` blocks reading its stdin: a live process to dump.
    process = subprocess.Popen(
        [openssl, "enc", "-aes128", "-pbkdf2", "-pass", "pass:x"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
    )
    try:
        # Bit 2 dumps file-backed private mappings (the binary's read-only data).
        Path(f"/proc/{process.pid}/coredump_filter").write_text("0x3f")
        return gcore(process.pid, out / "openssl")
    finally:
        stop(process)


def test_test_keys_inside_the_openssl_binary_are_low(openssl_core: Path) -> None:
    code, report = scan_json(openssl_core)
    assert code == 0  # nothing at or above high
    findings = report["findings"]
    assert len(findings) >= 3
    binary = os.path.realpath(shutil.which("openssl") or "")
    for finding in findings:
        assert finding["severity"] == "low"
        assert finding["kind"] == "private-key"
        assert os.path.realpath(finding["module"]) == binary
        assert finding["region"] == finding["module"]
        assert finding["address"] is not None


def test_a_known_test_key_becomes_critical(openssl_core: Path, tmp_path: Path) -> None:
    _, report = scan_json(openssl_core)
    target = report["findings"][0]
    # Cut the DER out of the dump to write its public half as a known key.
    with openssl_core.open("rb") as core:
        core.seek(target["offset"])
        der = core.read(target["length"])
    private = serialization.load_der_private_key(der, None)
    known = tmp_path / "known.pem"
    known.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    code, report = scan_json(openssl_core, "--known-keys", known)
    assert code == 1
    critical = [f for f in report["findings"] if f["severity"] == "critical"]
    assert [f["offset"] for f in critical] == [target["offset"]]
    assert critical[0]["known_key"] == {"id": f"{known}#1", "source": f"{known}:1"}
