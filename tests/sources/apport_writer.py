"""A writer of apport .crash reports, byte for byte as apport's problem_report.py writes them.

apport is not installed here; this follows ProblemReport.write and
_write_key_and_ascii_value_to_file (canonical/apport, problem_report.py):
"ProblemType" first, then the other text keys sorted, multi-line values as
continuation lines (" " + line); then the binary keys sorted, each as
"Key: base64", a line with the base64 of a 10-byte gzip header (FLG=FNAME,
MTIME=0, XFL=2, OS=255) and the key as the name, one line per deflate output
block of each 1 MiB of input, and a last line with the final block and the
CRC-32 and ISIZE trailer.  `legacy_zlib` writes the pre-gzip form: the same
lines holding one zlib (RFC 1950) stream and no gzip header.
"""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Mapping
from typing import BinaryIO

GZIP_HEADER_START = b"\037\213\010"
BLOCK = 1048576


def write_report(
    out: BinaryIO,
    text: Mapping[str, str],
    binary: Mapping[str, BinaryIO],
    problem_type: str = "Crash",
    legacy_zlib: bool = False,
) -> None:
    out.write(f"ProblemType: {problem_type}\n".encode())
    for key in sorted(text):
        value = text[key].encode()
        if b"\n" in value:
            out.write(key.encode() + b":\n " + value.replace(b"\n", b"\n ") + b"\n")
        else:
            out.write(key.encode() + b": " + value + b"\n")
    for key in sorted(binary):
        write_binary(out, key, binary[key], legacy_zlib)


def write_binary(out: BinaryIO, key: str, value: BinaryIO, legacy_zlib: bool) -> None:
    out.write(key.encode("ascii") + b": base64\n ")
    if legacy_zlib:
        compressor = zlib.compressobj()
    else:
        header = GZIP_HEADER_START + b"\010\000\000\000\000\002\377" + key.encode() + b"\000"
        out.write(base64.b64encode(header) + b"\n ")
        compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS, zlib.DEF_MEM_LEVEL, 0)
    crc, size = zlib.crc32(b""), 0
    while block := value.read(BLOCK):
        size += len(block)
        crc = zlib.crc32(block, crc)
        compressed = compressor.compress(block)
        if compressed:
            out.write(base64.b64encode(compressed) + b"\n ")
    last = compressor.flush()
    if not legacy_zlib and crc:
        last += struct.pack("<L", crc & 0xFFFFFFFF) + struct.pack("<L", size & 0xFFFFFFFF)
    out.write(base64.b64encode(last) + b"\n")
