"""Detectors, registered explicitly: the parsers YARA rules name in their `parser` metadata.

A new key encoding is one new file with a Parser subclass, one line here, and
a rule in rules/ that names it.
"""

from __future__ import annotations

from collections.abc import Mapping

from scanner.detectors.base import Parser
from scanner.detectors.base64_der import Base64DerParser
from scanner.detectors.capi import CapiRsaParser
from scanner.detectors.cng import CngEccParser, CngRsaParser
from scanner.detectors.der_dsa import DerDsaParser
from scanner.detectors.der_encrypted import DerEncryptedParser
from scanner.detectors.der_pkcs1 import DerPkcs1Parser
from scanner.detectors.der_pkcs1_public import DerPkcs1PublicParser
from scanner.detectors.der_pkcs8 import DerPkcs8Parser
from scanner.detectors.der_sec1 import DerSec1Parser
from scanner.detectors.der_spki import DerSpkiParser
from scanner.detectors.der_x509 import DerX509Parser
from scanner.detectors.dotnet_xml import DotnetXmlParser
from scanner.detectors.jwk import JwkParser
from scanner.detectors.keystore_jks import JceksParser, JksParser
from scanner.detectors.keystore_pkcs12 import Pkcs12Parser
from scanner.detectors.openpgp import OpenPgpArmoredParser, OpenPgpBinaryParser
from scanner.detectors.openssh import OpenSshBase64Parser, OpenSshBinaryParser
from scanner.detectors.pem import PemParser
from scanner.detectors.ppk import PpkParser

_PARSERS: tuple[Parser, ...] = (
    PemParser(),
    Base64DerParser(),
    JwkParser(),
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
    CngRsaParser(),
    CngEccParser(),
    CapiRsaParser(),
    DotnetXmlParser(),
    PpkParser(),
    OpenPgpArmoredParser(),
    OpenPgpBinaryParser(),
    Pkcs12Parser(),
    JksParser(),
    JceksParser(),
)

PARSERS: Mapping[str, Parser] = {parser.name: parser for parser in _PARSERS}

__all__ = ["PARSERS", "Parser"]
