"""gcore dumps of real processes that hold a key only as raw numbers (dumps-raw/).

    openssl-s-server-rsa.core     openssl s_server, RSA-2048 key made by openssl req -x509
    openssl-s-server-ec.core      the same with an EC P-256 key
    python-dropped-pem.core       Python: loaded a PEM with cryptography, zeroed and dropped it
    jvm-keyfactory.core           JVM: KeyFactory RSA key from PKCS#8 DER, DER zeroed
    openssl-s-client-clean.core   clean control: s_client after a handshake with the RSA server

Every holder is started at once (their start-ups overlap; the JVM right after
javac), dumped once ready, and all are killed in a `finally`.  Each core is
checked (raw_checks.py): no DER of its key, no PEM text (s_server may keep its
key file's PEM in a freed stdio buffer: recorded, not refused), and a prime or
the EC scalar in at least one byte layout; what was found where goes into the
manifest.  The public halves go to known-keys-raw/.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from samplegen import keys
from samplegen.dumps import (
    HOLDERS_DIR,
    Holder,
    check_clean,
    check_elf_core,
    gcore,
    read_until_line,
    stop,
)
from samplegen.errors import SampleError
from samplegen.keys import SampleKey
from samplegen.known_keys import KnownKeyEntry, write_raw_known_keys
from samplegen.manifest import GCORE_RAW, KNOWN_KEYS_RAW, Made, Placement, RawEvidence
from samplegen.raw_checks import check_no_der, check_no_pem, check_raw_core
from samplegen.raw_numbers import find_layouts
from samplegen.tools import run

RAW_DUMPS = "dumps-raw"
JVM_KID = "jvm-keyfactory"
LOOPBACK = "127.0.0.1"
# No CA store: s_server and s_client would otherwise load the system bundle, whose
# CA public keys only slow every scan of these dumps.
NO_CA_STORE = ["-no-CAfile", "-no-CApath", "-no-CAstore"]
SERVER_KEY_OPTIONS = {
    "rsa": ["-newkey", "rsa:2048"],
    "ec": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
}
SERVER_KEY_NAMES = {"rsa": "RSA-2048", "ec": "EC P-256"}
ACCEPT_LINE = b"ACCEPT"  # s_server, once listening (stdout, flushed)
HANDSHAKE_DONE_LINE = b"Verify return code"  # s_client's summary, after the handshake
READY_LINE = b"READY"
# glibc fills freed heap chunks with this byte (mallopt(3) M_PERTURB), so the DER
# cryptography's PEM parser frees leaves no copy (see holders/hold_dropped_pem.py).
MALLOC_PERTURB = "165"
JAVA_CLASS = "HoldKeyFactory"
JAVA_EXPORTS = [
    "--add-exports=java.base/jdk.internal.access=ALL-UNNAMED",
    "--add-exports=java.base/sun.security.pkcs=ALL-UNNAMED",
]
# A small fixed heap and no JIT: gcore writes every reserved range, committed or
# not (PROT_NONE reservations come out as zeros), so each reservation is core size.
JVM_FLAGS = [
    "-Xint",
    "-Xms8m",
    "-Xmx8m",
    "-XX:+UseSerialGC",
    "-Xss512k",
    "-XX:-UsePerfData",
    "-Xshare:off",
    "-XX:ReservedCodeCacheSize=4m",
    "-XX:MaxMetaspaceSize=16m",
    "-XX:-UseCompressedClassPointers",  # no separate 16 MiB class-space reservation
]
# One malloc arena: glibc reserves 64 MiB for each further arena, one per JVM thread.
JVM_ENV = {"MALLOC_ARENA_MAX": "1"}
# core(5) coredump_filter with bit 0 only: anonymous private memory (malloc heap,
# stacks, the Java heap), which gdb's gcore honours; leaves out file-backed
# mappings (libjvm, the modules image, the memory-mapped DER file).
ANONYMOUS_PRIVATE_ONLY = "0x01"


@dataclass(frozen=True)
class RawDumps:
    made: list[Made]
    known_entries: list[KnownKeyEntry]


@dataclass(frozen=True)
class ServerKey:
    """A key and its self-signed certificate, made by openssl req for one s_server."""

    algorithm: str
    key: SampleKey
    key_file: Path
    certificate_file: Path


@dataclass(frozen=True)
class RawKeys:
    rsa_server: ServerKey
    ec_server: ServerKey
    python: SampleKey
    jvm: SampleKey


def make_raw_dumps(out_dir: Path, keys_dir: Path) -> RawDumps:
    """Make dumps-raw/ and known-keys-raw/; the build area for javac is deleted after."""
    (out_dir / RAW_DUMPS).mkdir()
    known_dir = out_dir / KNOWN_KEYS_RAW
    known_dir.mkdir()
    raw_keys = RawKeys(
        openssl_server_key(keys_dir, known_dir, "rsa"),
        openssl_server_key(keys_dir, known_dir, "ec"),
        keys.generate("python-dropped", "RSA-2048", keys_dir),
        keys.generate("jvm-keyfactory", "RSA-2048", keys_dir),
    )
    with tempfile.TemporaryDirectory(prefix=".build-", dir=out_dir) as build_area:
        made = dump_all(DumpTarget(out_dir, out_dir / RAW_DUMPS), raw_keys, Path(build_area))
    servers = (raw_keys.rsa_server, raw_keys.ec_server)
    known_entries = write_raw_known_keys(
        out_dir,
        [(server.certificate_file.name, server.key) for server in servers],
        raw_keys.python,
        [(raw_keys.jvm, JVM_KID)],
    )
    return RawDumps(made, known_entries)


def openssl_server_key(keys_dir: Path, known_dir: Path, algorithm: str) -> ServerKey:
    """`openssl req -x509 -newkey`: the key into keys/, its certificate into known-keys-raw/."""
    key_file = keys_dir / f"openssl-s-server-{algorithm}.pem"
    certificate_file = known_dir / f"openssl-{algorithm}-cert.pem"
    run(
        [
            "openssl", "req", "-x509", *SERVER_KEY_OPTIONS[algorithm], "-nodes",
            "-keyout", str(key_file), "-out", str(certificate_file),
            "-subj", f"/CN=dumpguard raw s_server {algorithm}", "-days", "365",
        ]
    )  # fmt: skip
    key_file.chmod(0o600)
    return ServerKey(algorithm, keys.load(key_file), key_file, certificate_file)


def dump_all(target: DumpTarget, raw_keys: RawKeys, build_area: Path) -> list[Made]:
    rsa_port, ec_port = free_ports(2)
    starter = Starter(build_area)
    try:
        rsa_server = starter.server(raw_keys.rsa_server, rsa_port)
        ec_server = starter.server(raw_keys.ec_server, ec_port)
        python = starter.python(raw_keys.python.file_in(target.out_dir / "keys"))
        jvm = starter.jvm(compile_java(build_area), write_der(raw_keys.jvm, build_area))
        made = [
            dump_server(target, rsa_server, raw_keys.rsa_server),
            dump_server(target, ec_server, raw_keys.ec_server),
            dump_python(target, python, raw_keys.python),
            dump_jvm(target, jvm, raw_keys.jvm),
        ]
        # The client connects only now, so the RSA server was dumped before any handshake.
        client = starter.client(rsa_port)
        made.append(dump_control(target, client, raw_keys.rsa_server))
        return made
    finally:
        starter.stop_all()


def free_ports(count: int) -> list[int]:
    """Ports the kernel hands out now, held open together so they differ."""
    listeners = [socket.socket() for _ in range(count)]
    try:
        for listener in listeners:
            listener.bind((LOOPBACK, 0))
        return [int(listener.getsockname()[1]) for listener in listeners]
    finally:
        for listener in listeners:
            listener.close()


class Starter:
    """Starts the holders (stderr into the build area) and kills every one it started."""

    def __init__(self, build_area: Path) -> None:
        self.build_area = build_area
        self.holders: list[Holder] = []

    def start(
        self, name: str, description: str, argv: list[str], env: dict[str, str] | None = None
    ) -> Holder:
        stderr_path = self.build_area / f"{name}.stderr"
        try:
            with stderr_path.open("wb") as stderr:
                process = subprocess.Popen(
                    argv,
                    stdout=subprocess.PIPE,
                    stdin=subprocess.PIPE,  # kept open, never written: s_client waits on it
                    stderr=stderr,
                    env=None if env is None else {**os.environ, **env},
                )
        except OSError as error:
            raise SampleError(f"{name}: cannot start {argv[0]}: {error.strerror}") from None
        holder = Holder(name, description, process, prints_ready_line=True, stderr_path=stderr_path)
        self.holders.append(holder)
        return holder

    def server(self, server: ServerKey, port: int) -> Holder:
        argv = ["openssl", "s_server", "-accept", f"{LOOPBACK}:{port}", "-www", *NO_CA_STORE]
        argv += ["-key", str(server.key_file), "-cert", str(server.certificate_file)]
        description = (
            f"openssl s_server with an {SERVER_KEY_NAMES[server.algorithm]} key and "
            "self-signed certificate (openssl req -x509), listening: the key as BIGNUMs"
        )
        return self.start(f"openssl-s-server-{server.algorithm}", description, argv)

    def client(self, port: int) -> Holder:
        argv = ["openssl", "s_client", "-connect", f"{LOOPBACK}:{port}", *NO_CA_STORE]
        description = (
            "clean control: openssl s_client after a TLS handshake with the RSA s_server; "
            "holds that server's public key (a known key's public half), no private key"
        )
        return self.start("openssl-s-client-clean", description, argv)

    def python(self, key_file: Path) -> Holder:
        argv = [sys.executable, str(HOLDERS_DIR / "hold_dropped_pem.py"), str(key_file)]
        description = (
            "Python process that loaded an RSA-2048 PEM with cryptography from a "
            "bytearray, zeroed the bytearray and keeps only the key object (BIGNUMs)"
        )
        env = {"MALLOC_PERTURB_": MALLOC_PERTURB}
        return self.start("python-dropped-pem", description, argv, env)

    def jvm(self, classes: Path, der_file: Path) -> Holder:
        argv = ["java", *JVM_FLAGS, *JAVA_EXPORTS, "-cp", str(classes), JAVA_CLASS]
        description = (
            "JVM (java 17) holding an RSA-2048 RSAPrivateCrtKey from KeyFactory and "
            "PKCS8EncodedKeySpec, DER zeroed: the key as BigInteger int[] words"
        )
        return self.start("jvm-keyfactory", description, [*argv, str(der_file)], JVM_ENV)

    def stop_all(self) -> None:
        for holder in self.holders:
            stop(holder)


def compile_java(build_area: Path) -> Path:
    classes = build_area / "classes"
    source = HOLDERS_DIR / f"{JAVA_CLASS}.java"
    run(["javac", *JAVA_EXPORTS, "-d", str(classes), str(source)])
    return classes


def write_der(key: SampleKey, build_area: Path) -> Path:
    """The PKCS#8 DER the JVM reads, in the build area the build deletes."""
    der_file = build_area / f"{key.name}.der"
    descriptor = os.open(der_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(key.encode(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8))
    return der_file


@dataclass(frozen=True)
class DumpTarget:
    """Where the cores go, and their paths as the manifest names them."""

    out_dir: Path
    dumps_dir: Path

    def dump(self, holder: Holder) -> tuple[Path, bytes]:
        core_path = gcore(holder, self.dumps_dir)
        core = core_path.read_bytes()
        check_elf_core(holder.name, core)
        return core_path, core

    def made(
        self, holder: Holder, core_path: Path, key: SampleKey | None, raw: RawEvidence
    ) -> Made:
        display_path = core_path.relative_to(self.out_dir).as_posix()
        facts = () if key is None else (key.fact(),)
        placements = tuple(Placement(display_path, None, fact) for fact in facts)
        return Made(display_path, GCORE_RAW, holder.description, placements, raw)


def dump_keyed(
    target: DumpTarget, holder: Holder, key: SampleKey, key_pem: bytes, pem_may_remain: bool
) -> Made:
    """Dump a holder that is ready and check the core against its key."""
    core_path, core = target.dump(holder)
    evidence = check_raw_core(holder.name, core, key, key_pem, pem_may_remain)
    return target.made(holder, core_path, key, evidence)


def dump_server(target: DumpTarget, holder: Holder, server: ServerKey) -> Made:
    read_until_line(holder, ACCEPT_LINE)
    key_pem = server.key_file.read_bytes()
    return dump_keyed(target, holder, server.key, key_pem, pem_may_remain=True)


def dump_python(target: DumpTarget, holder: Holder, key: SampleKey) -> Made:
    read_until_line(holder, READY_LINE, first_line_only=True)
    key_pem = key.file_in(target.out_dir / "keys").read_bytes()
    # cryptography's PEM parser copies the text into buffers it frees; a body
    # line sometimes survives there (seen in about one build in ten).  A freed
    # remnant is what real processes leave too: record it, refuse only DER.
    return dump_keyed(target, holder, key, key_pem, pem_may_remain=True)


def dump_jvm(target: DumpTarget, holder: Holder, key: SampleKey) -> Made:
    read_until_line(holder, READY_LINE, first_line_only=True)
    filter_path = Path(f"/proc/{holder.process.pid}/coredump_filter")
    try:
        filter_path.write_text(ANONYMOUS_PRIVATE_ONLY)
    except OSError as error:
        raise SampleError(f"{holder.name}: cannot set {filter_path}: {error.strerror}") from None
    key_pem = key.file_in(target.out_dir / "keys").read_bytes()
    return dump_keyed(target, holder, key, key_pem, pem_may_remain=False)


def dump_control(target: DumpTarget, holder: Holder, server: ServerKey) -> Made:
    """The client holds the server's public key and no number of its private key."""
    read_until_line(holder, HANDSHAKE_DONE_LINE)
    core_path, core = target.dump(holder)
    check_clean(holder.name, core)
    check_no_der(holder.name, core, server.key)
    check_no_pem(holder.name, core, server.key_file.read_bytes())
    if find_layouts(core, server.key):
        raise SampleError(f"{holder.name}: a private number of the server's key is in the core")
    spki_der = server.key.public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if spki_der not in core:
        raise SampleError(f"{holder.name}: the server's public key (SPKI DER) is not in the core")
    return target.made(holder, core_path, None, RawEvidence(False, ()))
