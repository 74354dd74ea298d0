/*
 * dumpguard: DER-encoded private keys (binary, as libraries keep them in memory).
 *
 * Every string matches at the first byte of the structure: the outer SEQUENCE
 * tag 0x30.  The parser named in `meta: parser` reads the exact length from
 * that header and rejects anything that is not the whole structure.  Patterns
 * are hex strings with short alternatives only; each holds a run of at least
 * four fixed bytes (the version INTEGER and the next tag, or an OID), so none
 * fires on zero pages and random data rarely reaches a parser.
 */

rule dumpguard_der_pkcs1_rsa_private_key
{
    meta:
        parser = "der-pkcs1"
        description = "RFC 8017 A.1.2 RSAPrivateKey, two-prime (version 0)"
    strings:
        // 30 82 LL LL  SEQUENCE (a 512-bit key is already > 255 bytes)
        // 02 01 00     version 0 (two-prime)
        // 02 41 | 02 61 | 02 81 | 02 82   modulus of 512, 768, 1016..2040, 2048..16384 bits
        $rsa = { 30 82 ?? ?? 02 01 00 02 (41 | 61 | 81 | 82) }
    condition:
        $rsa
}

rule dumpguard_der_dsa_private_key
{
    meta:
        parser = "der-dsa"
        description = "OpenSSL traditional DSAPrivateKey SEQUENCE { 0, p, q, g, y, x }"
    strings:
        // Same prefix as RSAPrivateKey: version 0 then p (512, 1024, 2048, 3072 bits).
        // Both rules fire at such an offset; each parser rejects the other's structure.
        $dsa = { 30 82 ?? ?? 02 01 00 02 (41 | 81 | 82) }
    condition:
        $dsa
}

rule dumpguard_der_pkcs8_private_key
{
    meta:
        parser = "der-pkcs8"
        description = "RFC 5208 PrivateKeyInfo / RFC 5958 OneAsymmetricKey (v1 and v2)"
    strings:
        // version 0|1, AlgorithmIdentifier { rsaEncryption 1.2.840.113549.1.1.1, NULL },
        // privateKey OCTET STRING with a two-byte length
        $rsa = { 30 82 ?? ?? 02 01 (00 | 01) 30 0D 06 09 2A 86 48 86 F7 0D 01 01 01 05 00 04 82 }
        // RSASSA-PSS 1.2.840.113549.1.1.10, parameters absent or a SEQUENCE
        $rsa_pss = { 30 82 ?? ?? 02 01 (00 | 01) 30 ?? 06 09 2A 86 48 86 F7 0D 01 01 0A }
        // id-ecPublicKey 1.2.840.10045.2.1 then the namedCurve OID
        // (AlgorithmIdentifier is 0x13 long for P-256, 0x10 for the 5-byte curve OIDs)
        $ec = { 30 (?? | 81 ?? | 82 ?? ??) 02 01 (00 | 01) 30 (13 | 10) 06 07 2A 86 48 CE 3D 02 01 06 }
        // id-dsa 1.2.840.10040.4.1 with its p, q, g parameters
        $dsa = { 30 82 ?? ?? 02 01 (00 | 01) 30 82 ?? ?? 06 07 2A 86 48 CE 38 04 01 }
        // RFC 8410: X25519 1.3.101.110, X448 .111, Ed25519 .112, Ed448 .113
        $edwards_montgomery = { 30 (?? | 81 ??) 02 01 (00 | 01) 30 05 06 03 2B 65 (6E | 6F | 70 | 71) 04 }
    condition:
        any of them
}

rule dumpguard_der_sec1_ec_private_key
{
    meta:
        parser = "der-sec1"
        description = "RFC 5915 ECPrivateKey (version 1)"
    strings:
        // 02 01 01: version 1; 04 LL: privateKey of 32, 48 or 66 bytes, or one byte
        // shorter (encoders that strip a leading zero byte)
        $ec = { 30 (?? | 81 ??) 02 01 01 04 (1F | 20 | 2F | 30 | 41 | 42) }
    condition:
        $ec
}

rule dumpguard_der_encrypted_pkcs8
{
    meta:
        parser = "der-encrypted-pkcs8"
        description = "RFC 5208 EncryptedPrivateKeyInfo (PBES2, PBES1, PKCS#12 PBE)"
    strings:
        // AlgorithmIdentifier { PBES2 1.2.840.113549.1.5.13 or PBES1 .5.1/.3/.4/.6/.10/.11, SEQUENCE }
        $pkcs5 = { 30 (?? | 81 ?? | 82 ?? ??) 30 (?? | 81 ??) 06 09 2A 86 48 86 F7 0D 01 05 (01 | 03 | 04 | 06 | 0A | 0B | 0D) 30 }
        // PKCS#12 PBE 1.2.840.113549.1.12.1.1 .. .6
        $pkcs12 = { 30 (?? | 81 ?? | 82 ?? ??) 30 (?? | 81 ??) 06 0A 2A 86 48 86 F7 0D 01 0C 01 (01 | 02 | 03 | 04 | 05 | 06) 30 }
    condition:
        any of them
}
