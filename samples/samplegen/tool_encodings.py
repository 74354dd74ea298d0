"""Issue #4's key files made by the real tools: puttygen, gpg, openssl pkcs12, keytool.

Every output is checked for the marker that makes it what the sample says
(the PPK header and version, the OpenPGP armour or packet tag, the keystore
magic), and the public half each tool stores is read back with `cryptography`
(the key itself, or the OpenSSH public key the tool exports), so the manifest's
fingerprints never come from dumpguard.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from samplegen import encodings as enc
from samplegen.errors import SampleError
from samplegen.keys import PASSPHRASE, SampleKey
from samplegen.tools import run

PPK_MAGIC = b"PuTTY-User-Key-File-"
PGP_ARMOR = b"-----BEGIN PGP PRIVATE KEY BLOCK-----"
# RFC 9580 4.2: GnuPG writes a secret-key packet (tag 5) with an old-format header,
# 0x94 | length-type: 0x94 one length octet, 0x95 two.
PGP_SECRET_KEY_TAGS = (0x94, 0x95)
KEYSTORE_PASSWORD = "changeit"  # the JDK's default, in dumpguard's built-in list
JKS_MAGIC = b"\xfe\xed\xfe\xed"
PKCS12_FIRST_BYTE = b"\x30"
# The agent's minimum: gpg-agent otherwise calibrates S2K iterations to 100 ms per
# derivation, which cost seconds per protected key here.
GPG_AGENT_CONF = "allow-loopback-pinentry\ns2k-count 65536\n"
# Argon2id with fixed passes: puttygen's default tunes passes to 100 ms of CPU time.
PPK_ARGON2 = "kdf=argon2id,memory=8192,passes=2,parallelism=1"


def puttygen_ppk(key: SampleKey, work_dir: Path, version: int, encrypted: bool) -> bytes:
    """puttygen converts the key (given as an OpenSSH private key file) to a PPK file."""
    source = work_dir / f"{key.name}.openssh"
    source.write_bytes(enc.openssh_pem(key))
    source.chmod(0o600)
    target = work_dir / f"{key.name}.ppk"
    parameters = f"version={version}" + (f",{PPK_ARGON2}" if encrypted and version == 3 else "")
    argv = ["puttygen", str(source), "-O", "private", "-o", str(target)]
    argv += ["--ppk-param", parameters]
    if encrypted:
        passphrase_file = work_dir / "ppk-passphrase"
        passphrase_file.write_text(PASSPHRASE + "\n")
        argv += ["--new-passphrase", str(passphrase_file)]
    run(argv)
    ppk = target.read_bytes()
    header = PPK_MAGIC + str(version).encode() + b": "
    encryption = b"Encryption: aes256-cbc" if encrypted else b"Encryption: none"
    if not ppk.startswith(header) or encryption not in ppk:
        raise SampleError(f"puttygen on {key.name}: not a PPK v{version} file as asked")
    return ppk


@dataclass(frozen=True)
class GpgKey:
    """One exported OpenPGP secret key and the public key gpg exports for it."""

    exported: bytes = field(repr=False)
    public_key: PublicKeyTypes


class Gpg:
    """gpg in a throw-away GNUPGHOME (short path: the agent's socket name has a length limit)."""

    def __init__(self, home: Path) -> None:
        self.home = home

    def run(self, *args: str, passphrase: str = "") -> bytes:
        argv = ["gpg", "--homedir", str(self.home), "--batch", "--quiet"]
        argv += ["--pinentry-mode", "loopback", "--passphrase", passphrase, *args]
        return run(argv)

    def make(self, name: str, algorithm: str, armored: bool, protected: bool) -> GpgKey:
        """A primary key only (no subkey), exported armored or binary."""
        passphrase = PASSPHRASE if protected else ""
        uid = f"{name} <{name}@dumpguard.test>"
        self.run("--quick-gen-key", uid, algorithm, "default", "never", passphrase=passphrase)
        fingerprint = self.fingerprint(uid)
        armor = ("--armor",) if armored else ()
        exported = self.run(*armor, "--export-secret-keys", fingerprint, passphrase=passphrase)
        marker_found = (
            exported.startswith(PGP_ARMOR) if armored else exported[0] in PGP_SECRET_KEY_TAGS
        )
        if not marker_found:
            raise SampleError(f"gpg --export-secret-keys of {name}: unexpected output")
        # "!": export this very key although it has no authentication capability.
        ssh_line = self.run("--export-ssh-key", fingerprint + "!")
        return GpgKey(exported, serialization.load_ssh_public_key(ssh_line.split(b"\n")[0]))

    def fingerprint(self, uid: str) -> str:
        listing = self.run("--with-colons", "--list-keys", uid).decode()
        return next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr"))


@contextlib.contextmanager
def gpg_home() -> Iterator[Gpg]:
    home = Path(tempfile.mkdtemp(prefix="dumpguard-gpg-"))
    (home / "gpg-agent.conf").write_text(GPG_AGENT_CONF)
    try:
        yield Gpg(home)
    finally:
        with contextlib.suppress(SampleError):
            run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"])
        shutil.rmtree(home, ignore_errors=True)


def openssl_pkcs12(key_path: Path, certificate: x509.Certificate, work_dir: Path) -> Path:
    """openssl pkcs12 -export (PBES2, AES-256) of a key file and its certificate, password
    changeit; returns the store's path in `work_dir`."""
    certificate_path = work_dir / f"{key_path.stem}.crt"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    target = work_dir / f"{key_path.stem}.p12"
    argv = ["openssl", "pkcs12", "-export", "-inkey", str(key_path), "-in", str(certificate_path)]
    run(
        [
            *argv,
            "-passout",
            f"pass:{KEYSTORE_PASSWORD}",
            "-name",
            key_path.stem,
            "-out",
            str(target),
        ]
    )
    if not target.read_bytes().startswith(PKCS12_FIRST_BYTE):
        raise SampleError(f"openssl pkcs12 -export of {key_path.name}: not a DER PFX")
    return target


def keytool_jks(pkcs12_path: Path, work_dir: Path) -> bytes:
    """keytool -importkeystore: the PKCS#12's key entry into a JKS store, password changeit."""
    target = work_dir / f"{pkcs12_path.stem}.jks"
    argv = ["keytool", "-importkeystore", "-noprompt", "-srckeystore", str(pkcs12_path)]
    argv += ["-srcstoretype", "PKCS12", "-srcstorepass", KEYSTORE_PASSWORD]
    argv += ["-destkeystore", str(target), "-deststoretype", "JKS"]
    run([*argv, "-deststorepass", KEYSTORE_PASSWORD, "-destkeypass", KEYSTORE_PASSWORD])
    store = target.read_bytes()
    if not store.startswith(JKS_MAGIC):
        raise SampleError(f"keytool -importkeystore of {pkcs12_path.name}: not a JKS store")
    return store
