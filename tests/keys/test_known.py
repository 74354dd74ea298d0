"""--known-keys loading: every input format, directories, and every way an entry can be bad.

Keys are made at test time (cryptography, openssl, ssh-keygen); each loaded
fingerprint is checked against the one computed from the private key.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import re
import shutil
import subprocess
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x448, x25519
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.errors import KnownKeyError
from scanner.keys.fingerprint import fingerprint_public_key
from scanner.keys.known import KnownKeyIndex, LoadedKey, load_bytes, load_known_keys

PRIVATE_REFUSAL = "private key in known-keys file; give the public key"
needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl missing")
needs_ssh_keygen = pytest.mark.skipif(
    shutil.which("ssh-keygen") is None, reason="ssh-keygen missing"
)


def fingerprint_of(private_key: PrivateKeyTypes) -> str:
    public_key: PublicKeyTypes = private_key.public_key()
    return fingerprint_public_key(public_key)


def spki_pem(private_key: PrivateKeyTypes) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def assert_no_key_text(message: str, *paths: Path) -> None:
    """No run of base64 long enough to be key material, once the file paths are taken out."""
    for path in paths:
        message = message.replace(str(path), "<file>")
    assert re.search(r"[A-Za-z0-9+/_=-]{16,}", message) is None, message
    assert "\n" not in message


def error_of(paths: list[Path]) -> str:
    with pytest.raises(KnownKeyError) as caught:
        load_known_keys(paths)
    return str(caught.value)


def run(*argv: str | Path) -> bytes:
    return subprocess.run([str(arg) for arg in argv], check=True, capture_output=True).stdout


# --- keys and certificates -------------------------------------------------------------


@dataclass(frozen=True)
class KeySet:
    rsa: rsa.RSAPrivateKey
    ec_p256: ec.EllipticCurvePrivateKey
    ec_p384: ec.EllipticCurvePrivateKey
    ec_p521: ec.EllipticCurvePrivateKey
    ec_k256: ec.EllipticCurvePrivateKey
    ed25519: ed25519.Ed25519PrivateKey
    ed448: ed448.Ed448PrivateKey
    x25519: x25519.X25519PrivateKey
    x448: x448.X448PrivateKey


@pytest.fixture(scope="session")
def keys() -> KeySet:
    return KeySet(
        rsa=rsa.generate_private_key(65537, 2048),
        ec_p256=ec.generate_private_key(ec.SECP256R1()),
        ec_p384=ec.generate_private_key(ec.SECP384R1()),
        ec_p521=ec.generate_private_key(ec.SECP521R1()),
        ec_k256=ec.generate_private_key(ec.SECP256K1()),
        ed25519=ed25519.Ed25519PrivateKey.generate(),
        ed448=ed448.Ed448PrivateKey.generate(),
        x25519=x25519.X25519PrivateKey.generate(),
        x448=x448.X448PrivateKey.generate(),
    )


CHAIN_SUBJECTS = (
    "CN=Dumpguard Test Root,O=Dumpguard Test,C=DE",
    "CN=Dumpguard Test Intermediate,O=Dumpguard Test,C=DE",
    "CN=leaf.example,O=Dumpguard Test,C=DE",
)


@dataclass(frozen=True)
class Chain:
    private_keys: tuple[ec.EllipticCurvePrivateKey, ...]
    certificates: tuple[x509.Certificate, ...]  # root, intermediate, leaf

    def pem(self) -> bytes:
        return b"".join(
            cert.public_bytes(serialization.Encoding.PEM) for cert in reversed(self.certificates)
        )


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Dumpguard Test"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


@pytest.fixture(scope="session")
def chain() -> Chain:
    names = ("Dumpguard Test Root", "Dumpguard Test Intermediate", "leaf.example")
    private_keys = tuple(ec.generate_private_key(ec.SECP256R1()) for _ in names)
    now = datetime.datetime.now(datetime.UTC)
    certificates: list[x509.Certificate] = []
    for position, common_name in enumerate(names):
        issuer_position = max(position - 1, 0)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(_name(names[issuer_position]))
            .public_key(private_keys[position].public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
        )
        certificates.append(builder.sign(private_keys[issuer_position], hashes.SHA256()))
    return Chain(private_keys, tuple(certificates))


@dataclass(frozen=True)
class OpensslRsa:
    private_pem: Path
    fingerprint: str


@pytest.fixture(scope="session")
def openssl_rsa(tmp_path_factory: pytest.TempPathFactory) -> OpensslRsa:
    if shutil.which("openssl") is None:
        pytest.skip("openssl missing")
    private_pem = tmp_path_factory.mktemp("openssl") / "rsa.key"
    run("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
        "-out", private_pem)  # fmt: skip
    private_key = serialization.load_pem_private_key(private_pem.read_bytes(), None)
    return OpensslRsa(private_pem, fingerprint_of(private_key))


@dataclass(frozen=True)
class SshKey:
    private_path: Path
    public_line: str  # "<type> <base64> <comment>"
    fingerprint: str


@pytest.fixture(scope="session")
def ssh_keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SshKey]:
    """One ssh-keygen key per OpenSSH type, comment "<type>@test"."""
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen missing")
    directory = tmp_path_factory.mktemp("ssh")
    made: dict[str, SshKey] = {}
    kinds = {"ed25519": [], "rsa": ["-b", "2048"], "dsa": [], "ecdsa256": ["-t", "ecdsa",
             "-b", "256"], "ecdsa384": ["-t", "ecdsa", "-b", "384"],
             "ecdsa521": ["-t", "ecdsa", "-b", "521"]}  # fmt: skip
    for kind, options in kinds.items():
        path = directory / f"id_{kind}"
        type_option = [] if options[:1] == ["-t"] else ["-t", kind]
        run("ssh-keygen", "-q", *type_option, *options, "-N", "", "-C", f"{kind}@test",
            "-f", path)  # fmt: skip
        with warnings.catch_warnings():  # cryptography deprecates ssh-dss
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            private_key = serialization.load_ssh_private_key(path.read_bytes(), None)
        public_line = path.with_suffix(".pub").read_text().strip()
        made[kind] = SshKey(path, public_line, fingerprint_of(private_key))
    return made


# --- JWK built from public numbers (RFC 7517, RFC 7518 section 6, RFC 8037) -------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_int(value: int, length: int | None = None) -> str:
    return b64url(value.to_bytes(length or (value.bit_length() + 7) // 8, "big"))


JWK_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521",
              "secp256k1": "secp256k1"}  # fmt: skip


def jwk_of(public_key: PublicKeyTypes) -> dict[str, object]:
    if isinstance(public_key, rsa.RSAPublicKey):
        numbers = public_key.public_numbers()
        return {"kty": "RSA", "n": b64url_int(numbers.n), "e": b64url_int(numbers.e)}
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        point = public_key.public_numbers()
        size = (public_key.curve.key_size + 7) // 8
        crv = JWK_CURVES[public_key.curve.name]
        return {"kty": "EC", "crv": crv, "x": b64url_int(point.x, size),
                "y": b64url_int(point.y, size)}  # fmt: skip
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    okp_curves = {ed25519.Ed25519PublicKey: "Ed25519", ed448.Ed448PublicKey: "Ed448",
                  x25519.X25519PublicKey: "X25519", x448.X448PublicKey: "X448"}  # fmt: skip
    name = next(crv for cls, crv in okp_curves.items() if isinstance(public_key, cls))
    return {"kty": "OKP", "crv": name, "x": b64url(raw)}


def all_private_keys(keys: KeySet) -> list[PrivateKeyTypes]:
    return [keys.rsa, keys.ec_p256, keys.ec_p384, keys.ec_p521, keys.ec_k256, keys.ed25519,
            keys.ed448, keys.x25519, keys.x448]  # fmt: skip


def jwks_text(entries: Sequence[Mapping[str, object]]) -> str:
    """One entry per line, so entry i (0-based) is on line i + 2."""
    return '{"keys": [\n' + ",\n".join(json.dumps(entry) for entry in entries) + "\n]}\n"


# --- PEM ---------------------------------------------------------------------------------


def test_pem_file_with_several_public_key_blocks_and_text(tmp_path: Path, keys: KeySet) -> None:
    pem_file = tmp_path / "team.pem"
    pem_file.write_bytes(
        b"# deploy keys\n" + spki_pem(keys.rsa) + b"\nsecond one:\n"
        + spki_pem(keys.ec_p384) + spki_pem(keys.ed25519)
    )  # fmt: skip

    index = load_known_keys([pem_file])

    assert [key.fingerprint for key in index.keys] == [
        fingerprint_of(keys.rsa), fingerprint_of(keys.ec_p384), fingerprint_of(keys.ed25519)
    ]  # fmt: skip
    assert [key.id for key in index.keys] == [f"{pem_file}#{n}" for n in (1, 2, 3)]
    second_line = 2 + spki_pem(keys.rsa).count(b"\n") + 2
    third_line = second_line + spki_pem(keys.ec_p384).count(b"\n")
    assert [key.source for key in index.keys] == [
        f"{pem_file}:2", f"{pem_file}:{second_line}", f"{pem_file}:{third_line}"
    ]  # fmt: skip
    assert [(key.algorithm, key.bits) for key in index.keys] == [
        ("RSA", 2048), ("EC", 384), ("Ed25519", 255)
    ]  # fmt: skip


@needs_openssl
def test_pem_pkcs1_rsa_public_key_from_openssl(tmp_path: Path, openssl_rsa: OpensslRsa) -> None:
    pkcs1_file = tmp_path / "rsa-pkcs1.pem"
    run("openssl", "rsa", "-in", openssl_rsa.private_pem, "-RSAPublicKey_out", "-out", pkcs1_file)
    assert pkcs1_file.read_bytes().startswith(b"-----BEGIN RSA PUBLIC KEY-----")

    (known,) = load_known_keys([pkcs1_file]).keys

    assert known.fingerprint == openssl_rsa.fingerprint
    assert known.id == f"{pkcs1_file}#1"


def test_certificate_chain_gives_one_key_per_certificate_named_by_subject(
    tmp_path: Path, chain: Chain
) -> None:
    chain_file = tmp_path / "chain.pem"
    chain_file.write_bytes(chain.pem())  # leaf first, as servers send it

    index = load_known_keys([chain_file])

    assert [key.id for key in index.keys] == list(reversed(CHAIN_SUBJECTS))
    assert [key.fingerprint for key in index.keys] == [
        fingerprint_of(private_key) for private_key in reversed(chain.private_keys)
    ]


@needs_openssl
def test_openssl_x509_text_output_between_blocks_is_ignored(tmp_path: Path, chain: Chain) -> None:
    text_outputs = []
    for number, certificate in enumerate(chain.certificates):
        cert_file = tmp_path / f"cert{number}.pem"
        cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        text_outputs.append(run("openssl", "x509", "-in", cert_file, "-text"))
    annotated = tmp_path / "annotated-chain.txt"
    annotated.write_bytes(b"".join(text_outputs))
    assert b"Subject Public Key Info" in annotated.read_bytes()

    index = load_known_keys([annotated])

    assert [key.id for key in index.keys] == list(CHAIN_SUBJECTS)
    assert [key.fingerprint for key in index.keys] == [
        fingerprint_of(private_key) for private_key in chain.private_keys
    ]


# --- DER ---------------------------------------------------------------------------------


@needs_openssl
@pytest.mark.parametrize(
    "openssl_argv",
    [["pkey", "-pubout"], ["rsa", "-RSAPublicKey_out"]],
    ids=["spki", "pkcs1"],
)
def test_der_public_key_from_openssl(
    tmp_path: Path, openssl_rsa: OpensslRsa, openssl_argv: list[str]
) -> None:
    der_file = tmp_path / "key.bin"  # no telling extension: detection is by content
    run("openssl", *openssl_argv, "-in", openssl_rsa.private_pem, "-outform", "DER",
        "-out", der_file)  # fmt: skip

    (known,) = load_known_keys([der_file]).keys

    assert (known.fingerprint, known.id, known.source) == (
        openssl_rsa.fingerprint, f"{der_file}#1", str(der_file)
    )  # fmt: skip


def test_der_certificate_named_by_subject(tmp_path: Path, chain: Chain) -> None:
    der_file = tmp_path / "leaf.cer"
    der_file.write_bytes(chain.certificates[2].public_bytes(serialization.Encoding.DER))

    (known,) = load_known_keys([der_file]).keys

    assert known.id == CHAIN_SUBJECTS[2]
    assert known.fingerprint == fingerprint_of(chain.private_keys[2])


# --- JWK ---------------------------------------------------------------------------------


def test_jwks_with_every_key_type(tmp_path: Path, keys: KeySet) -> None:
    private_keys = all_private_keys(keys)
    entries: list[dict[str, object]] = [jwk_of(k.public_key()) for k in private_keys]
    entries[0]["kid"] = "rsa-2024"
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps({"keys": entries}, indent=2))

    index = load_known_keys([jwks_file])

    assert [key.fingerprint for key in index.keys] == [fingerprint_of(k) for k in private_keys]
    assert [key.id for key in index.keys] == ["rsa-2024"] + [
        f"{jwks_file}#{number}" for number in range(2, len(private_keys) + 1)
    ]
    assert [key.algorithm for key in index.keys] == [
        "RSA", "EC", "EC", "EC", "EC", "Ed25519", "Ed448", "X25519", "X448"
    ]  # fmt: skip
    assert {key.source for key in index.keys} == {str(jwks_file)}


def test_single_jwk_object(tmp_path: Path, keys: KeySet) -> None:
    jwk_file = tmp_path / "signing.jwk"
    jwk_file.write_text(json.dumps({**jwk_of(keys.ec_p521.public_key()), "kid": "p521"}))

    (known,) = load_known_keys([jwk_file]).keys

    assert (known.id, known.fingerprint, known.bits) == ("p521", fingerprint_of(keys.ec_p521), 521)


def test_private_jwk_loads_its_public_half(tmp_path: Path, keys: KeySet) -> None:
    numbers = keys.rsa.private_numbers()
    private_jwk = {**jwk_of(keys.rsa.public_key()), "d": b64url_int(numbers.d),
                   "p": b64url_int(numbers.p), "q": b64url_int(numbers.q),
                   "dp": b64url_int(numbers.dmp1), "dq": b64url_int(numbers.dmq1),
                   "qi": b64url_int(numbers.iqmp)}  # fmt: skip
    okp_private = {**jwk_of(keys.ed25519.public_key()),
                   "d": b64url(keys.ed25519.private_bytes_raw())}  # fmt: skip
    jwk_file = tmp_path / "private.json"
    jwk_file.write_text(jwks_text([private_jwk, okp_private]))

    index = load_known_keys([jwk_file])

    assert [key.fingerprint for key in index.keys] == [
        fingerprint_of(keys.rsa), fingerprint_of(keys.ed25519)
    ]  # fmt: skip


def test_jwk_with_only_x5c_loads_the_certificate_key(tmp_path: Path, chain: Chain) -> None:
    der = chain.certificates[2].public_bytes(serialization.Encoding.DER)
    jwk_file = tmp_path / "x5c.json"
    jwk_file.write_text(json.dumps({"keys": [{"kid": "leaf", "x5c": [base64.b64encode(der)
                                                                        .decode()]}]}))  # fmt: skip

    (known,) = load_known_keys([jwk_file]).keys

    assert (known.id, known.fingerprint) == ("leaf", fingerprint_of(chain.private_keys[2]))


def test_jwk_whose_x5c_names_another_key_is_refused(
    tmp_path: Path, chain: Chain, keys: KeySet
) -> None:
    der = chain.certificates[2].public_bytes(serialization.Encoding.DER)
    entry = {**jwk_of(keys.ec_p256.public_key()), "x5c": [base64.b64encode(der).decode()]}
    jwk_file = tmp_path / "mismatch.json"
    jwk_file.write_text(jwks_text([entry]))

    message = error_of([jwk_file])

    assert message.startswith(f"{jwk_file}:2: JWK #1 (keys[0]) ")
    assert "x5c" in message


# --- OpenSSH -----------------------------------------------------------------------------


@needs_ssh_keygen
@pytest.mark.filterwarnings("error")  # cryptography's ssh-dss deprecation must not reach users
def test_ssh_keygen_public_key_files(tmp_path: Path, ssh_keys: dict[str, SshKey]) -> None:
    for kind, ssh_key in ssh_keys.items():
        (known,) = load_known_keys([ssh_key.private_path.with_suffix(".pub")]).keys

        assert (known.id, known.fingerprint) == (f"{kind}@test", ssh_key.fingerprint)
    assert load_known_keys([ssh_keys["dsa"].private_path.with_suffix(".pub")]).keys[0].algorithm \
        == "DSA"  # fmt: skip


@needs_ssh_keygen
def test_authorized_keys_with_options_comments_and_blank_lines(
    tmp_path: Path, ssh_keys: dict[str, SshKey]
) -> None:
    ed25519_type, ed25519_blob, _ = ssh_keys["ed25519"].public_line.split(" ", 2)
    authorized_keys = tmp_path / "authorized_keys"
    authorized_keys.write_text(
        "# production access\n"
        "\n"
        f'from="10.0.0.1",no-pty,command="echo hello \\"world\\" there" '
        f"{ssh_keys['rsa'].public_line}\n"
        f"   {ssh_keys['ecdsa384'].public_line}\n"
        f"restrict\t{ed25519_type} {ed25519_blob}\n"
        f'environment="A=b c" {ssh_keys["ecdsa521"].public_line.rsplit(" ", 1)[0]}'
        " backup key  (offline)\n"
    )

    index = load_known_keys([authorized_keys])

    assert [(key.id, key.source) for key in index.keys] == [
        ("rsa@test", f"{authorized_keys}:3"),
        ("ecdsa384@test", f"{authorized_keys}:4"),
        (f"{authorized_keys}#5", f"{authorized_keys}:5"),
        ("backup key  (offline)", f"{authorized_keys}:6"),
    ]
    assert [key.fingerprint for key in index.keys] == [
        ssh_keys[kind].fingerprint for kind in ("rsa", "ecdsa384", "ed25519", "ecdsa521")
    ]


@needs_ssh_keygen
def test_known_hosts_lines(tmp_path: Path, ssh_keys: dict[str, SshKey]) -> None:
    key_type, blob, _ = ssh_keys["ecdsa256"].public_line.split(" ", 2)
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(
        f"git.example,10.0.0.2 {key_type} {blob}\n"
        f"ssh-gw {ssh_keys['ecdsa521'].public_line}\n"  # a host shaped like a key type
        f"@cert-authority *.example {ssh_keys['ed25519'].public_line}\n"
    )

    index = load_known_keys([known_hosts])

    assert [key.fingerprint for key in index.keys] == [
        ssh_keys[kind].fingerprint for kind in ("ecdsa256", "ecdsa521", "ed25519")
    ]
    assert [key.source for key in index.keys] == [f"{known_hosts}:{n}" for n in (1, 2, 3)]


@needs_ssh_keygen
def test_openssh_certificate_loads_the_certified_key(
    tmp_path: Path, ssh_keys: dict[str, SshKey]
) -> None:
    user_key = tmp_path / "user"
    shutil.copy(ssh_keys["ecdsa256"].private_path.with_suffix(".pub"), user_key.with_suffix(".pub"))
    run("ssh-keygen", "-q", "-s", ssh_keys["ed25519"].private_path, "-I", "cert-id", "-n", "me",
        user_key.with_suffix(".pub"))  # fmt: skip
    certificate_file = tmp_path / "user-cert.pub"

    (known,) = load_known_keys([certificate_file]).keys

    assert known.fingerprint == ssh_keys["ecdsa256"].fingerprint


@needs_ssh_keygen
def test_rfc4716_export_from_ssh_keygen(tmp_path: Path, ssh_keys: dict[str, SshKey]) -> None:
    exported = tmp_path / "rsa.ssh2"
    exported.write_bytes(
        run("ssh-keygen", "-e", "-f", ssh_keys["rsa"].private_path.with_suffix(".pub"))
        + run("ssh-keygen", "-e", "-f", ssh_keys["ed25519"].private_path.with_suffix(".pub"))
    )
    assert exported.read_text().startswith("---- BEGIN SSH2 PUBLIC KEY ----")

    index = load_known_keys([exported])

    assert [key.fingerprint for key in index.keys] == [
        ssh_keys["rsa"].fingerprint, ssh_keys["ed25519"].fingerprint
    ]  # fmt: skip
    assert index.keys[0].source == f"{exported}:1"


# --- directories -------------------------------------------------------------------------


def test_directory_mixing_formats_loads_everything_in_sorted_order(
    tmp_path: Path, keys: KeySet, chain: Chain
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "b-spki.der").write_bytes(
        keys.rsa.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    (tmp_path / "a.pem").write_bytes(spki_pem(keys.ec_p256))
    (tmp_path / "sub" / "jwks").write_text(json.dumps({"keys": [jwk_of(keys.ed448.public_key())]}))
    (tmp_path / "sub" / "id.pub").write_bytes(
        keys.ed25519.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        ) + b" me@host\n"
    )  # fmt: skip
    (tmp_path / "sub" / "leaf.crt").write_bytes(
        chain.certificates[2].public_bytes(serialization.Encoding.PEM)
    )
    (tmp_path / ".notes").write_bytes(b"hidden files are not key files\n")

    index = load_known_keys([tmp_path])

    assert [key.source.split(":")[0] for key in index.keys] == [
        str(tmp_path / name) for name in ("a.pem", "b-spki.der", "sub/id.pub", "sub/jwks",
                                          "sub/leaf.crt")
    ]  # fmt: skip
    assert [key.fingerprint for key in index.keys] == [
        fingerprint_of(keys.ec_p256), fingerprint_of(keys.rsa), fingerprint_of(keys.ed25519),
        fingerprint_of(keys.ed448), fingerprint_of(chain.private_keys[2])
    ]  # fmt: skip


def test_symlink_loop_in_directory_ends(tmp_path: Path, keys: KeySet) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "k.pem").write_bytes(spki_pem(keys.ed25519))
    (tmp_path / "keys" / "loop").symlink_to(tmp_path / "keys")
    (tmp_path / "keys" / "up").symlink_to(tmp_path)

    index = load_known_keys([tmp_path])

    assert [key.source for key in index.keys] == [f"{tmp_path / 'keys' / 'k.pem'}:1"]


@pytest.fixture
def deep_directory(tmp_path: Path) -> Iterator[Path]:
    """1200 nested directories (2400 characters, inside PATH_MAX), removed deepest first.

    Built and removed by loops: mkdir(parents=True) and shutil.rmtree (pytest's
    own tmp_path cleanup) recurse and would hit the recursion limit themselves.
    """
    chain = [tmp_path]
    for _ in range(1200):
        chain.append(chain[-1] / "d")
        chain[-1].mkdir()
    yield chain[-1]
    for file_path in chain[-1].iterdir():
        file_path.unlink()
    for directory in reversed(chain[1:]):
        directory.rmdir()


def test_directory_deeper_than_the_recursion_limit(
    tmp_path: Path, deep_directory: Path, keys: KeySet
) -> None:
    (deep_directory / "k.pem").write_bytes(spki_pem(keys.ed25519))

    (known,) = load_known_keys([tmp_path]).keys

    assert known.fingerprint == fingerprint_of(keys.ed25519)


def test_several_paths_are_all_loaded(tmp_path: Path, keys: KeySet) -> None:
    first, second = tmp_path / "one.pem", tmp_path / "two.pem"
    first.write_bytes(spki_pem(keys.x25519))
    second.write_bytes(spki_pem(keys.x448))

    index = load_known_keys([second, first])

    assert [key.fingerprint for key in index.keys] == [
        fingerprint_of(keys.x448), fingerprint_of(keys.x25519)
    ]  # fmt: skip


# --- duplicates and the index ------------------------------------------------------------


def test_same_key_twice_keeps_its_first_id(tmp_path: Path, keys: KeySet) -> None:
    jwks_file = tmp_path / "a.json"
    jwks_file.write_text(json.dumps({"keys": [{**jwk_of(keys.ec_p256.public_key()),
                                               "kid": "first"}]}))  # fmt: skip
    pem_file = tmp_path / "b.pem"
    pem_file.write_bytes(spki_pem(keys.ec_p256) + spki_pem(keys.rsa) + spki_pem(keys.ec_p256))

    index = load_known_keys([tmp_path, pem_file])

    assert len(index) == 2
    assert [key.id for key in index.keys] == ["first", f"{pem_file}#2"]
    found = index.lookup(fingerprint_of(keys.ec_p256))
    assert found is not None
    assert (found.id, found.source) == ("first", str(jwks_file))


def test_index_lookup_and_public_keys(tmp_path: Path, keys: KeySet) -> None:
    pem_file = tmp_path / "k.pem"
    pem_file.write_bytes(spki_pem(keys.rsa) + spki_pem(keys.ed25519))

    index = load_known_keys([pem_file])

    assert index.lookup(fingerprint_of(keys.ec_p384)) is None
    assert index.lookup(fingerprint_of(keys.ed25519)) == index.keys[1]
    pairs = list(index.public_keys())
    assert [known for known, _ in pairs] == list(index.keys)
    assert all(fingerprint_public_key(public) == known.fingerprint for known, public in pairs)
    assert isinstance(pairs[0][1], rsa.RSAPublicKey)
    assert repr(index) == "KnownKeyIndex(2 keys)"
    with pytest.raises(AttributeError):
        index.extra = 1  # type: ignore[attr-defined]
    assert len(KnownKeyIndex()) == 0


# --- bad entries -------------------------------------------------------------------------


@needs_ssh_keygen
def test_bad_openssh_line_names_file_and_line(tmp_path: Path, ssh_keys: dict[str, SshKey]) -> None:
    key_type, blob, comment = ssh_keys["ed25519"].public_line.split(" ", 2)
    authorized_keys = tmp_path / "authorized_keys"
    authorized_keys.write_text(
        f"{ssh_keys['rsa'].public_line}\n# cut while copying:\n{key_type} {blob[:-8]} {comment}\n"
    )

    message = error_of([authorized_keys])

    assert message == f"{authorized_keys}:3: ssh-ed25519 key data does not parse"
    assert_no_key_text(message, authorized_keys)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("ssh-ed25519", "key type ssh-ed25519 without key data"),
        ('command="unterminated ssh-ed25519 AAAAC3Nz', "unterminated quote in key options"),
        ("hello world", "no OpenSSH key type (ssh-ed25519, ssh-rsa, ...)"),
        ("ssh-foo AAAAB3NzaC1mb28AAAA", "unsupported key type ssh-foo"),
    ],
)
def test_malformed_openssh_lines(tmp_path: Path, keys: KeySet, line: str, reason: str) -> None:
    good_line = keys.ed25519.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    key_file = tmp_path / "keys.pub"
    key_file.write_bytes(good_line + b"\n" + line.encode() + b"\n")

    assert error_of([key_file]) == f"{key_file}:2: {reason}"


def ssh_string(value: bytes) -> bytes:
    return len(value).to_bytes(4, "big") + value  # RFC 4251 section 5


def test_compressed_ecdsa_point_in_openssh_line_is_an_error(tmp_path: Path, keys: KeySet) -> None:
    # Found by the mutation test: cryptography raises NotImplementedError for it.
    compressed_point = keys.ec_p256.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    blob = ssh_string(b"ecdsa-sha2-nistp256") + ssh_string(b"nistp256")
    blob += ssh_string(compressed_point)
    key_file = tmp_path / "compressed.pub"
    key_file.write_bytes(b"ecdsa-sha2-nistp256 " + base64.b64encode(blob) + b" c\n")

    assert error_of([key_file]) == f"{key_file}:1: ecdsa-sha2-nistp256 key data does not parse"


def test_non_ascii_in_ssh2_body_is_an_error(tmp_path: Path, keys: KeySet) -> None:
    # Found by the mutation test: base64 of a str with non-ASCII raises ValueError.
    blob = (
        keys.ed25519.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .split(b" ")[1]
    )
    ssh2_file = tmp_path / "key.ssh2"
    ssh2_file.write_bytes(b"---- BEGIN SSH2 PUBLIC KEY ----\n\xc3\xa9" + blob
                          + b"\n---- END SSH2 PUBLIC KEY ----\n")  # fmt: skip

    assert error_of([ssh2_file]) == f"{ssh2_file}:1: SSH2 public key body is not valid base64"


def test_corrupt_pem_block_names_its_begin_line(tmp_path: Path, keys: KeySet) -> None:
    good = spki_pem(keys.ec_p256)
    body_lines = spki_pem(keys.rsa).split(b"\n")
    body_lines[3] = body_lines[3][:20] + b"!" + body_lines[3][21:]
    pem_file = tmp_path / "keys.pem"
    pem_file.write_bytes(good + b"\n" + b"\n".join(body_lines))

    message = error_of([pem_file])

    begin_line = good.count(b"\n") + 2
    assert message == f"{pem_file}:{begin_line}: PEM block 'PUBLIC KEY' is not valid base64"


def test_pem_block_with_wrong_content_is_refused(tmp_path: Path, keys: KeySet) -> None:
    der = keys.rsa.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pem_file = tmp_path / "cut.pem"
    body = base64.encodebytes(der[:-40])
    pem_file.write_bytes(b"\n\n-----BEGIN PUBLIC KEY-----\n" + body + b"-----END PUBLIC KEY-----\n")

    message = error_of([pem_file])

    assert message == f"{pem_file}:3: PEM block 'PUBLIC KEY' does not hold a valid public key"


def test_unterminated_and_unsupported_pem_blocks(tmp_path: Path, keys: KeySet) -> None:
    unterminated = tmp_path / "unterminated.pem"
    unterminated.write_bytes(spki_pem(keys.ed25519).replace(b"-----END PUBLIC KEY-----", b""))
    request = tmp_path / "request.pem"
    request.write_bytes(b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"
                        b"-----END CERTIFICATE REQUEST-----\n")  # fmt: skip

    assert error_of([unterminated]) == f"{unterminated}:1: PEM block 'PUBLIC KEY' has no END line"
    assert error_of([request]).startswith(
        f"{request}:1: PEM block 'CERTIFICATE REQUEST' holds no public key"
    )


def test_bad_jwk_entry_names_file_line_and_index(tmp_path: Path, keys: KeySet) -> None:
    bad_entry = {**jwk_of(keys.ec_p256.public_key()), "kid": "bad"}
    point = keys.ec_p384.public_key().public_numbers()
    bad_entry["y"] = b64url_int(point.y, 48)  # right length for P-384, wrong curve
    entries = [jwk_of(keys.rsa.public_key()), jwk_of(keys.ed25519.public_key()), bad_entry]
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(jwks_text(entries))

    message = error_of([jwks_file])

    assert message == (
        f"{jwks_file}:4: JWK #3 (keys[2]) EC members 'x', 'y' must be 32 bytes for secp256r1"
    )
    assert_no_key_text(message, jwks_file)


def test_bad_jwk_entry_line_in_pretty_printed_jwks(tmp_path: Path, keys: KeySet) -> None:
    bad_entry = {**jwk_of(keys.rsa.public_key()), "n": "not*base64"}
    entries = [jwk_of(keys.ed25519.public_key()), jwk_of(keys.ec_p256.public_key()), bad_entry]
    text = json.dumps({"issuer": "x", "keys": entries, "other": [1]}, indent=2)
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(text)
    third_entry_line = [n for n, line in enumerate(text.split("\n"), 1) if line == "    {"][2]

    message = error_of([jwks_file])

    reason = "JWK #3 (keys[2]) member 'n' is not base64url"
    assert message == f"{jwks_file}:{third_entry_line}: {reason}"


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (
            '{"keys": [\n  {"kty": "RSA", "n": "AQAB"\n  ]}',
            ":3: invalid JSON: Expecting ',' delimiter",
        ),
        ('{"keys": {"kty": "OKP"}}', ": JWK Set member 'keys' is not an array"),
        ('{"kid": "k"}', ": JSON holds neither a JWK ('kty') nor a JWK Set ('keys')"),
        (
            '{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}',
            ":1: JWK #1 (keys[0]) is a symmetric key (kty 'oct'), not a public key",
        ),
        (
            '{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}]}',
            ":1: JWK #1 (keys[0]) OKP member 'x' is not a valid Ed25519 public key",
        ),
        (
            '{"keys": [{"kty": "EC", "crv": "P-192", "x": "", "y": ""}]}',
            ":1: JWK #1 (keys[0]) has unsupported EC crv 'P-192'",
        ),
        (
            '{"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]}',
            ":1: JWK #1 (keys[0]) RSA members 'n', 'e' do not form a valid public key",
        ),
        ('{"keys": [7]}', ":1: JWK #1 (keys[0]) is not a JSON object"),
        ('{"keys": []}', ": no public key found (empty jwk file)"),
        ('{"keys": ' + "[" * 100_000, ": invalid JSON: too deeply nested or too large"),
    ],
)
def test_malformed_jwk_files(tmp_path: Path, document: str, reason: str) -> None:
    jwk_file = tmp_path / "bad.json"
    jwk_file.write_text(document)

    assert error_of([jwk_file]) == f"{jwk_file}{reason}"


@needs_openssl
@pytest.mark.parametrize(
    "openssl_argv",
    [
        ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        ["genpkey", "-algorithm", "ED25519"],
        ["ecparam", "-genkey", "-name", "prime256v1"],  # EC PARAMETERS + EC PRIVATE KEY
        ["genpkey", "-algorithm", "ED25519", "-aes256", "-pass", "pass:secret"],
    ],
    ids=["pkcs8", "ed25519", "sec1", "encrypted"],
)
def test_private_pem_in_known_keys_dir_is_refused_without_its_content(
    tmp_path: Path, keys: KeySet, openssl_argv: list[str]
) -> None:
    (tmp_path / "a-public.pem").write_bytes(spki_pem(keys.ed25519))
    private_file = tmp_path / "b-private.pem"
    private_file.write_bytes(run("openssl", *openssl_argv))
    begin_line = next(
        number for number, line in enumerate(private_file.read_text().split("\n"), 1)
        if "PRIVATE KEY-----" in line
    )  # fmt: skip

    message = error_of([tmp_path])

    assert message == f"{private_file}:{begin_line}: {PRIVATE_REFUSAL}"


@needs_ssh_keygen
def test_openssh_private_key_is_refused(tmp_path: Path, ssh_keys: dict[str, SshKey]) -> None:
    message = error_of([ssh_keys["ed25519"].private_path])

    assert message == f"{ssh_keys['ed25519'].private_path}:1: {PRIVATE_REFUSAL}"


def test_private_der_is_refused(tmp_path: Path, keys: KeySet) -> None:
    der_file = tmp_path / "key.der"
    der_file.write_bytes(
        keys.ec_p256.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )

    assert error_of([der_file]) == f"{der_file}: {PRIVATE_REFUSAL}"


def test_certificate_with_unsupported_version_is_an_error(tmp_path: Path, chain: Chain) -> None:
    # Found by the mutation test: cryptography raises InvalidVersion, not ValueError.
    der = chain.certificates[0].public_bytes(serialization.Encoding.DER)
    version_v3 = bytes.fromhex("a003020102")  # RFC 5280 4.1: [0] EXPLICIT Version v3(2)
    assert version_v3 in der
    der_file = tmp_path / "v2.cer"
    der_file.write_bytes(der.replace(version_v3, version_v3[:-1] + b"\x01", 1))

    assert error_of([der_file]) == (
        f"{der_file}: DER data is not a SubjectPublicKeyInfo, PKCS#1 RSA public key "
        "or X.509 certificate"
    )


def test_certificate_with_unparsable_subject_is_an_error(tmp_path: Path, chain: Chain) -> None:
    # Found by the mutation test: a CN re-tagged as BIT STRING makes cryptography raise TypeError.
    der = chain.certificates[2].public_bytes(serialization.Encoding.DER)
    common_name = b"\x0c\x0cleaf.example"  # UTF8String, length 12
    assert der.count(common_name) == 1
    pem_file = tmp_path / "odd-subject.pem"
    pem_file.write_bytes(
        x509.load_der_x509_certificate(
            der.replace(common_name, b"\x03\x0c\x00eaf.example")
        ).public_bytes(serialization.Encoding.PEM)
    )

    assert error_of([pem_file]) == (
        f"{pem_file}:1: PEM block 'CERTIFICATE': certificate subject does not parse"
    )


def test_der_that_is_no_key_is_refused(tmp_path: Path) -> None:
    der_file = tmp_path / "int.der"
    der_file.write_bytes(bytes.fromhex("3003020101"))

    assert error_of([der_file]) == (
        f"{der_file}: DER data is not a SubjectPublicKeyInfo, PKCS#1 RSA public key "
        "or X.509 certificate"
    )


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "no public key found (empty file)"),
        (b"\n  \n", "no public key found (empty file)"),
        (bytes(range(256)) * 8, "no public key found (no recognised key format)"),
        (b"just some notes about keys\n", "no public key found (no recognised key format)"),
    ],
    ids=["empty", "blank", "binary", "text"],
)
def test_files_without_keys_are_errors(tmp_path: Path, content: bytes, reason: str) -> None:
    key_file = tmp_path / "keys"
    key_file.write_bytes(content)

    assert error_of([key_file]) == f"{key_file}: {reason}"


def test_missing_path_and_fifo(tmp_path: Path, keys: KeySet) -> None:
    missing = tmp_path / "nope.pem"
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "k.pem").write_bytes(spki_pem(keys.ed25519))
    os.mkfifo(tmp_path / "dir" / "pipe")

    assert error_of([missing]) == f"{missing}: cannot open (No such file or directory)"
    assert error_of([tmp_path / "dir"]) == f"{tmp_path / 'dir' / 'pipe'}: not a regular file"


# --- hostile input -----------------------------------------------------------------------


def _valid_files(keys: KeySet, chain: Chain) -> list[bytes]:
    der = keys.rsa.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    openssh = keys.ec_p256.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return [
        spki_pem(keys.ec_p256) + chain.pem(),
        der,
        chain.certificates[0].public_bytes(serialization.Encoding.DER),
        jwks_text([jwk_of(k.public_key()) for k in all_private_keys(keys)]).encode(),
        b'from="a b" ' + openssh + b" c\n# x\n" + openssh + b"\n",
        b"---- BEGIN SSH2 PUBLIC KEY ----\nComment: x\n"
        + openssh.split(b" ")[1] + b"\n---- END SSH2 PUBLIC KEY ----\n",
    ]  # fmt: skip


def _keys_or_error(data: bytes) -> list[LoadedKey] | str:
    try:
        return load_bytes(data, Path("fuzz.key"))
    except KnownKeyError as error:
        return str(error)


def _never_crashes(data: bytes) -> None:
    outcome = _keys_or_error(data)
    if isinstance(outcome, str):
        assert outcome.startswith("fuzz.key")
        assert "\n" not in outcome
    else:
        assert outcome


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=2048))
def test_random_bytes_give_only_known_key_errors(data: bytes) -> None:
    _never_crashes(data)


@pytest.fixture(scope="session")
def valid_files(keys: KeySet, chain: Chain) -> list[bytes]:
    return _valid_files(keys, chain)


def _mutations() -> st.SearchStrategy[Callable[[bytes], bytes]]:
    def truncate(cut: int) -> Callable[[bytes], bytes]:
        return lambda data: data[: cut % (len(data) + 1)]

    def flip(position: int, value: int) -> Callable[[bytes], bytes]:
        def apply(data: bytes) -> bytes:
            at = position % len(data)
            return data[:at] + bytes([value]) + data[at + 1 :]

        return apply

    return st.one_of(
        st.builds(truncate, st.integers(min_value=0)),
        st.builds(flip, st.integers(min_value=0), st.integers(0, 255)),
    )


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(choice=st.integers(min_value=0), mutations=st.lists(_mutations(), max_size=4))
def test_mutated_valid_files_give_only_known_key_errors(
    valid_files: list[bytes], choice: int, mutations: list[Callable[[bytes], bytes]]
) -> None:
    data = valid_files[choice % len(valid_files)]
    for mutate in mutations:
        data = mutate(data) if data else data
    _never_crashes(data)


JWK_MEMBER_NAMES = ["kty", "crv", "n", "e", "x", "y", "kid", "x5c", "keys"]
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(JWK_MEMBER_NAMES), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    entries=st.lists(_json_values, max_size=4),
    extra=st.dictionaries(st.text(max_size=4), _json_values, max_size=2),
    indent=st.sampled_from([None, 0, 2, "\t"]),
)
def test_random_jwks_documents_give_only_known_key_errors(
    entries: list[object], extra: dict[str, object], indent: int | str | None
) -> None:
    document = json.dumps({**extra, "keys": entries}, indent=indent)
    outcome = _keys_or_error(document.encode())
    if isinstance(outcome, str):
        line = re.match(r"fuzz\.key:(\d+): JWK #(\d+)", outcome)
        if line is not None:  # the line named is where that entry starts
            entry_start = json.dumps(entries[int(line[2]) - 1], indent=indent).split("\n")[0]
            assert entry_start.strip() in document.split("\n")[int(line[1]) - 1]
