"""The prefilters of the RSA factor search never drop a real prime, and agree with plain Python.

Real keys from every generator on this machine: OpenSSL 3's CLI (`openssl
genpkey`), `cryptography`, Java's KeyPairGenerator (`java File.java`), Node.js
(generateKeyPairSync, JWK export), Go when `go` is installed; RSA-1024, 2048
(20 keys per generator), 3072 and 4096.  Each prime must pass every condition
(admissible top bytes, odd, sieve, zero words) and be found where it is planted
in every layout by the vectorised code.  The generic functions are checked
against plain-Python references on random inputs (hypothesis).
"""

from __future__ import annotations

import base64
import math
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.detectors.base import Window
from scanner.detectors.components.base import AddressSpace, KnownPublicKey, SearchConfig
from scanner.detectors.components.prefilter import (
    Layout,
    NumberShape,
    Screen,
    SmallFactorSieve,
    aligned_range,
    canonical_rows,
    max_zero_words,
    odd_primes,
    screen_aligned,
    stored_rows,
    top_table_for_ranges,
    zero_word_counts,
)
from scanner.detectors.components.rsa_factor import FactorGroup, RsaFactorSearch
from scanner.keys.base import KnownKey
from scanner.keys.fingerprint import fingerprint_public_key

# Keys per generator and size: 20 at 2048 bits (the size that matters most),
# fewer of the slow large sizes (an RSA-4096 key takes a second or more).
KEY_COUNTS = {1024: 3, 2048: 20, 3072: 2, 4096: 1}
GENERATOR_TIMEOUT = 300

JAVA_SOURCE = """\
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPrivateCrtKey;

public class GenRsa {
    public static void main(String[] args) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        for (String arg : args) {
            String[] parts = arg.split(":");
            int bits = Integer.parseInt(parts[0]);
            generator.initialize(bits);
            for (int i = 0; i < Integer.parseInt(parts[1]); i++) {
                RSAPrivateCrtKey key =
                    (RSAPrivateCrtKey) generator.generateKeyPair().getPrivate();
                System.out.println(
                    key.getPrimeP().toString(16) + " " + key.getPrimeQ().toString(16));
            }
        }
    }
}
"""

NODE_SOURCE = """\
const crypto = require('crypto');
for (const arg of process.argv.slice(1)) {
  const [bits, count] = arg.split(':').map(Number);
  for (let i = 0; i < count; i++) {
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: bits });
    const jwk = privateKey.export({ format: 'jwk' });
    console.log(jwk.p + ' ' + jwk.q);
  }
}
"""

GO_SOURCE = """\
package main

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"os"
	"strconv"
	"strings"
)

func main() {
	for _, arg := range os.Args[1:] {
		parts := strings.Split(arg, ":")
		bits, _ := strconv.Atoi(parts[0])
		count, _ := strconv.Atoi(parts[1])
		for i := 0; i < count; i++ {
			key, err := rsa.GenerateKey(rand.Reader, bits)
			if err != nil {
				panic(err)
			}
			fmt.Printf("%x %x\\n", key.Primes[0], key.Primes[1])
		}
	}
}
"""


@dataclass(frozen=True)
class RealKey:
    """The primes of one generated key (e = 65537 for every generator here)."""

    generator: str
    p: int = field(repr=False)
    q: int = field(repr=False)

    @property
    def modulus(self) -> int:
        return self.p * self.q

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return rsa.RSAPublicNumbers(65537, self.modulus).public_key()

    @property
    def label(self) -> str:
        return f"{self.generator} RSA-{self.modulus.bit_length()}"


def count_arguments() -> list[str]:
    return [f"{bits}:{count}" for bits, count in KEY_COUNTS.items()]


def openssl_script() -> str:
    """One shell running `openssl genpkey` per key, each key written as DER."""
    return "\n".join(
        f"for i in $(seq {count}); do openssl genpkey -algorithm RSA "
        f"-pkeyopt rsa_keygen_bits:{bits} 2>/dev/null | openssl pkey -outform DER; done"
        for bits, count in KEY_COUNTS.items()
    )


def hex_primes(generator: str, output: bytes) -> list[RealKey]:
    """Lines of "p q" in hex (Java's BigInteger.toString(16), Go's %x)."""
    pairs = (line.split() for line in output.decode().splitlines() if line.strip())
    return [RealKey(generator, int(p, 16), int(q, 16)) for p, q in pairs]


def jwk_primes(generator: str, output: bytes) -> list[RealKey]:
    """Lines of "p q" as JWK base64url (RFC 7518 6.3.2)."""

    def number(text: str) -> int:
        return int.from_bytes(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), "big")

    pairs = (line.split() for line in output.decode().splitlines() if line.strip())
    return [RealKey(generator, number(p), number(q)) for p, q in pairs]


def der_primes(generator: str, output: bytes) -> list[RealKey]:
    """Back-to-back DER private keys (`openssl pkey -outform DER`)."""
    keys = []
    position = 0
    while position < len(output):
        length_bytes = output[position + 1] & 0x7F  # a key is a long-form SEQUENCE
        end = position + 2 + length_bytes
        end += int.from_bytes(output[position + 2 : position + 2 + length_bytes], "big")
        key = serialization.load_der_private_key(output[position:end], None)
        assert isinstance(key, rsa.RSAPrivateKey)
        numbers = key.private_numbers()
        keys.append(RealKey(generator, numbers.p, numbers.q))
        position = end
    return keys


Parser = Callable[[str, bytes], list[RealKey]]


def generator_commands(work: Path) -> dict[str, tuple[list[str], Parser]]:
    (work / "GenRsa.java").write_text(JAVA_SOURCE)
    (work / "genrsa.go").write_text(GO_SOURCE)
    return {
        "openssl": (["sh", "-c", openssl_script()], der_primes),
        "java": (["java", str(work / "GenRsa.java"), *count_arguments()], hex_primes),
        "node": (["node", "-e", NODE_SOURCE, *count_arguments()], jwk_primes),
        "go": (["go", "run", str(work / "genrsa.go"), *count_arguments()], hex_primes),
    }


def cryptography_keys() -> list[RealKey]:
    keys = []
    for bits, count in KEY_COUNTS.items():
        for _ in range(count):
            numbers = rsa.generate_private_key(65537, bits).private_numbers()
            keys.append(RealKey("cryptography", numbers.p, numbers.q))
    return keys


@pytest.fixture(scope="module")
def real_keys(tmp_path_factory: pytest.TempPathFactory) -> list[RealKey]:
    """Every generator at once, in parallel processes (about 5 s of CPU each)."""
    work = tmp_path_factory.mktemp("generators")
    running = {}
    for name, (argv, parser) in generator_commands(work).items():
        if shutil.which(argv[0]) is None:
            if name == "go":  # optional: the other tools are part of the test set-up
                continue
            pytest.fail(f"{argv[0]} is not installed")
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=work)
        running[name] = (process, parser)
    keys = cryptography_keys()
    for name, (process, parser) in running.items():
        output, errors = process.communicate(timeout=GENERATOR_TIMEOUT)
        assert process.returncode == 0, f"{name} failed: {errors.decode()[-500:]}"
        keys.extend(parser(name, output))
    return keys


def known_public(key: RealKey, index: int) -> KnownPublicKey:
    public_key = key.public_key
    spki = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    fingerprint = fingerprint_public_key(public_key)
    known = KnownKey(f"key{index}", key.label, fingerprint, "RSA", public_key.key_size)
    return KnownPublicKey(known, public_key, spki)


def group_for(key: RealKey, length: int) -> FactorGroup:
    search = RsaFactorSearch.for_keys([known_public(key, 0)], SearchConfig())
    assert search is not None
    (group,) = [g for g in search.groups if g.length == length]
    return group


def stored(number: int, layout: Layout, length: int) -> bytes:
    """Reference encodings, written out independently of NumberShape."""
    big = number.to_bytes(length, "big")
    if layout is Layout.BE:
        return big
    if layout is Layout.LE:
        return big[::-1]
    padded = big.rjust(-(-length // 4) * 4, b"\0")
    return b"".join(padded[i : i + 4][::-1] for i in range(0, len(padded), 4))


def prefilter_failures(key: RealKey) -> Iterator[str]:
    """Every prefilter condition a prime of `key` fails (none, for a real key)."""
    for name, prime in (("p", key.p), ("q", key.q)):
        length = -(-prime.bit_length() // 8)
        group = group_for(key, length)
        big = prime.to_bytes(length, "big")
        if not group.screen.top_table[int.from_bytes(big[:2], "big")]:
            yield f"{key.label} {name}: top bytes outside the admissible range"
        if not prime & 1:
            yield f"{key.label} {name}: even"
        for layout in Layout:
            shape = NumberShape(layout, length)
            rows = np.frombuffer(stored(prime, layout, length), dtype=np.uint8).reshape(1, -1)
            if not group.sieve.passes(rows, shape, group.sieve.weights(shape))[0]:
                yield f"{key.label} {name}: rejected by the sieve as {layout.value}"
            if zero_word_counts(rows)[0] > group.max_zero_words:
                yield f"{key.label} {name}: too many zero words as {layout.value}"


def test_every_generator_is_represented_with_20_keys_at_2048_bits(real_keys: list[RealKey]) -> None:
    generators = {"openssl", "cryptography", "java", "node"} | (
        {"go"} if shutil.which("go") else set()
    )
    for generator in generators:
        sizes = sorted(k.modulus.bit_length() for k in real_keys if k.generator == generator)
        assert sizes.count(2048) == 20, generator
        assert {1024, 3072, 4096} <= set(sizes), generator


def test_every_prefilter_condition_holds_on_every_real_prime(real_keys: list[RealKey]) -> None:
    failures = [failure for key in real_keys for failure in prefilter_failures(key)]
    assert failures == []


def test_real_primes_planted_in_every_layout_pass_the_vectorised_filters(
    real_keys: list[RealKey],
) -> None:
    """All keys at once (groups of up to 80 moduli), each prime at aligned places."""
    known = [known_public(key, index) for index, key in enumerate(real_keys)]
    search = RsaFactorSearch.for_keys(known, SearchConfig())
    assert search is not None
    data = bytearray(os.urandom(len(real_keys) * 2 * 5 * 600))
    planted: set[tuple[str, int, int]] = set()
    position = 64
    for index, key in enumerate(real_keys):
        for prime in (key.p, key.q):
            length = -(-prime.bit_length() // 8)
            # be at 0 mod 8, le at 4 mod 8, le at 0 mod 8, words at 4 and at 0 mod 8
            for layout, residue in (
                (Layout.BE, 0),
                (Layout.LE, 4),
                (Layout.LE, 0),
                (Layout.BE32_WORDS_LE, 4),
                (Layout.BE32_WORDS_LE, 0),
            ):
                position += (residue - position) % 8
                blob = stored(prime, layout, length)
                data[position : position + len(blob)] = blob
                planted.add((layout.value, position, index))
                position += len(blob) + 8
    window = Window(bytes(data), 0, len(data))
    found = {
        (c.encoding, c.offset, [k.spki for k in known].index(c.payload.public_spki))
        for c in search.search(window, AddressSpace(-1, []))
    }
    assert planted - found == set()
    assert found - planted == set()


# ---------------------------------------------------------------- generic functions

LAYOUTS = st.sampled_from(list(Layout))


@settings(max_examples=200, deadline=None)
@given(layout=LAYOUTS, length=st.integers(2, 70), seed=st.integers(0, 2**32 - 1))
def test_shape_order_maps_canonical_bytes_to_the_reference_layout(
    layout: Layout, length: int, seed: int
) -> None:
    number = int.from_bytes(np.random.default_rng(seed).bytes(length), "big") | 1 << (
        8 * length - 1
    )
    shape = NumberShape(layout, length)
    blob = np.frombuffer(stored(number, layout, length), dtype=np.uint8)
    assert len(blob) == shape.span
    assert canonical_rows(blob.reshape(1, -1), shape)[0].tobytes() == number.to_bytes(length, "big")
    assert (blob[shape.padding] == 0).all()


def multiples_and_primes() -> st.SearchStrategy[int]:
    """Numbers with and without small factors: random, times a small prime, or prime-like."""
    small = st.sampled_from(odd_primes(600))
    random_number = st.integers(2**100, 2**1023)
    return st.one_of(random_number, st.builds(lambda a, b: a * b, random_number, small))


@settings(max_examples=300, deadline=None)
@given(number=multiples_and_primes(), layout=LAYOUTS, limit=st.sampled_from([13, 64, 192, 512]))
def test_sieve_agrees_with_trial_division(number: int, layout: Layout, limit: int) -> None:
    length = -(-number.bit_length() // 8)
    shape = NumberShape(layout, length)
    sieve = SmallFactorSieve.for_primes(odd_primes(limit))
    rows = np.frombuffer(stored(number, layout, length), dtype=np.uint8).reshape(1, -1)
    expected = all(number % prime for prime in sieve.primes)
    assert bool(sieve.passes(rows, shape, sieve.weights(shape))[0]) == expected


def test_sieve_moduli_stay_below_16_bits_and_cover_every_prime() -> None:
    sieve = SmallFactorSieve.for_primes(odd_primes(512))
    assert sieve.primes == odd_primes(512)
    assert all(math.prod(group) < 1 << 16 for group in sieve.groups)


def test_sieve_is_exact_on_the_largest_numbers_it_serves() -> None:
    """1024-byte numbers (RSA-16384 factors): 512 digits, sums up to 2**41, still exact."""
    rng = np.random.default_rng(7)
    sieve = SmallFactorSieve.for_primes(odd_primes(512))
    numbers = [int.from_bytes(rng.bytes(1024), "big") | 1 << 8191 for _ in range(40)]
    numbers += [(2**8192 - 1) // 3 * 3, 0xFF * (2**8184 - 1) // 255 * 255]
    for layout in Layout:
        shape = NumberShape(layout, 1024)
        rows = np.array([np.frombuffer(stored(n, layout, 1024), np.uint8) for n in numbers])
        expected = [all(n % prime for prime in sieve.primes) for n in numbers]
        assert sieve.passes(rows, shape, sieve.weights(shape)).tolist() == expected


def test_zero_word_bound_and_its_false_negative_probability() -> None:
    """One zero word is allowed at every size; two among 256 words have probability < 2**-48."""
    for length in (32, 64, 128, 192, 256, 512, 1024):
        assert max_zero_words(length) == 1
    assert math.comb(256, 2) * 2.0**-64 < 2.0**-48


@dataclass(frozen=True)
class ScreenCase:
    data: bytes
    layout: Layout
    alignment: int
    first: int
    top_range: tuple[int, int]
    odd: bool


SCREEN_CASES = st.builds(
    ScreenCase,
    data=st.binary(min_size=40, max_size=400),
    layout=LAYOUTS,
    alignment=st.sampled_from([4, 8]),
    first=st.integers(0, 7),
    top_range=st.tuples(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF)).map(
        lambda pair: (min(pair), max(pair))
    ),
    odd=st.booleans(),
)


def reference_screen(case: ScreenCase, shape: NumberShape, start: int) -> list[int]:
    expected = []
    for position in range(start, len(case.data) - shape.span + 1, case.alignment):
        row = np.frombuffer(case.data[position : position + shape.span], dtype=np.uint8)
        canonical = canonical_rows(row.reshape(1, -1), shape)[0].tobytes()
        top = int.from_bytes(canonical[:2], "big")
        padding_zero = all(case.data[position + int(o)] == 0 for o in shape.padding)
        in_range = case.top_range[0] <= top <= case.top_range[1]
        if in_range and (not case.odd or canonical[-1] & 1) and padding_zero:
            expected.append(position)
    return expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=SCREEN_CASES, length=st.sampled_from([16, 17, 18, 19]))
def test_screen_agrees_with_a_plain_python_reference(case: ScreenCase, length: int) -> None:
    shape = NumberShape(case.layout, length, case.alignment)
    screen = Screen(top_table_for_ranges([case.top_range]), case.odd)
    array = np.frombuffer(case.data, dtype=np.uint8)
    start, count = aligned_range(case.first, case.alignment, len(case.data) - shape.span + 1)
    got = screen_aligned(array, shape, start, count, screen).tolist()
    assert got == reference_screen(case, shape, start)


@given(rows=st.lists(st.binary(min_size=24, max_size=24), min_size=1, max_size=20))
def test_zero_word_counts_agree_with_a_plain_python_reference(rows: list[bytes]) -> None:
    array = stored_rows(
        np.frombuffer(b"".join(rows), np.uint8),
        NumberShape(Layout.BE, 24),
        np.arange(0, 24 * len(rows), 24),
    )
    expected = [sum(row[i : i + 4] == b"\0" * 4 for i in range(0, 24, 4)) for row in rows]
    assert zero_word_counts(array).tolist() == expected


@pytest.mark.parametrize("layout", list(Layout))
def test_no_rows_give_no_canonical_rows(layout: Layout) -> None:
    """A window where nothing passes the screen (the bug: reshaping zero rows)."""
    shape = NumberShape(layout, 128, 4)
    empty = stored_rows(np.zeros(4096, dtype=np.uint8), shape, np.zeros(0, dtype=np.intp))
    assert canonical_rows(empty, shape).shape == (0, 128)
