"""Detectors, registered explicitly: the parsers YARA rules name in their `parser` metadata.

A new key encoding is one new file with a Parser subclass, one line here, and
a rule in rules/ that names it.
"""

from __future__ import annotations

from collections.abc import Mapping

from scanner.detectors.base import Parser
from scanner.detectors.der_dsa import DerDsaParser
from scanner.detectors.der_encrypted import DerEncryptedParser
from scanner.detectors.der_pkcs1 import DerPkcs1Parser
from scanner.detectors.der_pkcs1_public import DerPkcs1PublicParser
from scanner.detectors.der_pkcs8 import DerPkcs8Parser
from scanner.detectors.der_sec1 import DerSec1Parser
from scanner.detectors.der_spki import DerSpkiParser
from scanner.detectors.der_x509 import DerX509Parser
from scanner.detectors.openssh import OpenSshBase64Parser, OpenSshBinaryParser
from scanner.detectors.pem import PemParser

_PARSERS: tuple[Parser, ...] = (
    PemParser(),
    OpenSshBinaryParser(),
    OpenSshBase64Parser(),
    DerPkcs1Parser(),
    DerPkcs8Parser(),
    DerSec1Parser(),
    DerDsaParser(),
    DerEncryptedParser(),
    DerSpkiParser(),
    DerPkcs1PublicParser(),
    DerX509Parser(),
)

PARSERS: Mapping[str, Parser] = {parser.name: parser for parser in _PARSERS}

__all__ = ["PARSERS", "Parser"]
