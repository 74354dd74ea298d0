// OpenPGP private keys (RFC 9580, RFC 4880): parsed by scanner/detectors/openpgp.py.

rule dumpguard_openpgp_armored
{
    meta:
        parser = "openpgp-armored"
        description = "ASCII-armored OpenPGP private key block (PGP 2 and 5 said SECRET)"

    strings:
        // The match offset is the first "-" of the BEGIN line; `wide` finds UTF-16LE.
        $private = "-----BEGIN PGP PRIVATE KEY BLOCK-----" ascii wide
        $secret = "-----BEGIN PGP SECRET KEY BLOCK-----" ascii wide

    condition:
        any of them
}

/*
 * Binary Secret-Key (tag 5) and Secret-Subkey (tag 7) packets.  The match
 * offset is the packet's tag octet (RFC 9580 4.2):
 *
 *   94 9C / 95 9D / 96 9E   legacy format with a 1-, 2- or 4-octet length
 *   C5 C7                   OpenPGP format with a 1-, 2- or 5-octet (FF + 4) length
 *
 * then version 4, four octets of creation time, and an algorithm octet whose
 * next octets are fixed: for RSA (1) and DSA (17) the MPI bit count of n or p
 * at a common key size (n and p have exactly that many bits), for ECDSA (19),
 * ECDH (18) and EdDSALegacy (22) the curve OID.  RSA and DSA packets are longer
 * than 255 octets, so never have a 1-octet length; 4-octet lengths start 00 00
 * (packets are below 16 KiB).  Version 6 (RFC 9580 5.5.2) has a 4-octet count
 * of key material after the algorithm; only the OpenPGP format is allowed there.
 *
 * Each string has one fixed run of at least three octets and no alternatives
 * inside it, so both engines get a good atom: rules with alternatives inside
 * that run made yara-python 2-3 times slower on random data.
 *
 * Selectivity on random bytes: a string needs its tag octet (at most 4 of 256
 * values), the version octet (1/256) and its fixed run of 3 octets (RSA, DSA)
 * or 6 to 12 octets: under 2^-32 per position for RSA and DSA, about one false
 * anchor per 4 GiB of random bytes per string, and none in zero pages.  The
 * parser rejects those after reading at most the header and a few fields.
 */
rule dumpguard_openpgp_binary
{
    meta:
        parser = "openpgp-binary"
        description = "OpenPGP Secret-Key or Secret-Subkey packet, version 4 or 6"

    strings:
        // RSA, n of 1024, 1536, 2048, 3072, 4096, 6144, 8192 or 16384 bits
        $rsa_1024 = { (95 | 9D | C5 | C7 | 96 00 00 | 9E 00 00 | C5 FF 00 00 | C7 FF 00 00) ?? ?? 04 [4] 01 04 00 }
        $rsa_1536 = { (95 | 9D | C5 | C7 | 96 00 00 | 9E 00 00 | C5 FF 00 00 | C7 FF 00 00) ?? ?? 04 [4] 01 06 00 }
        $rsa_2048 = { (95 | 9D | C5 | C7 | 96 00 00 | 9E 00 00 | C5 FF 00 00 | C7 FF 00 00) ?? ?? 04 [4] 01 08 00 }
        $rsa_3072 = { (95 | 9D | C5 | C7 | 96 00 00 | 9E 00 00 | C5 FF 00 00 | C7 FF 00 00) ?? ?? 04 [4] 01 0C 00 }
        $rsa_4096 = { (95 | 9D | C5 | C7 | 96 00 00 | 9E 00 00 | C5 FF 00 00 | C7 FF 00 00) ?? ?? 04 [4] 01 10 00 }
        $rsa_6144 = { (95 | 9D | C5 | C7 | 96 00 00 | 9E 00 00 | C5 FF 00 00 | C7 FF 00 00) ?? ?? 04 [4] 01 18 00 }
        $rsa_8192 = { (95 | 9D | C5 | C7 | 96 00 00 | 9E 00 00 | C5 FF 00 00 | C7 FF 00 00) ?? ?? 04 [4] 01 20 00 }
        $rsa_16384 = { (95 | 9D | C5 | C7 | 96 00 00 | 9E 00 00 | C5 FF 00 00 | C7 FF 00 00) ?? ?? 04 [4] 01 40 00 }
        // DSA, p of 1024, 2048 or 3072 bits
        $dsa_1024 = { (95 | 9D | C5 | C7 | 96 00 00 | 9E 00 00 | C5 FF 00 00 | C7 FF 00 00) ?? ?? 04 [4] 11 04 00 }
        $dsa_2048 = { (95 | 9D | C5 | C7 | 96 00 00 | 9E 00 00 | C5 FF 00 00 | C7 FF 00 00) ?? ?? 04 [4] 11 08 00 }
        $dsa_3072 = { (95 | 9D | C5 | C7 | 96 00 00 | 9E 00 00 | C5 FF 00 00 | C7 FF 00 00) ?? ?? 04 [4] 11 0C 00 }
        // ECDSA (13) and ECDH (12): P-256 1.2.840.10045.3.1.7, P-384 1.3.132.0.34,
        // P-521 1.3.132.0.35, secp256k1 1.3.132.0.10
        $ec_p256 = { (94 | 9C | C5 | C7 | 95 ?? | 9D ?? | C5 ?? | C7 ??) ?? 04 [4] (12 | 13) 08 2A 86 48 CE 3D 03 01 07 }
        $ec_p384 = { (94 | 9C | C5 | C7 | 95 ?? | 9D ?? | C5 ?? | C7 ??) ?? 04 [4] (12 | 13) 05 2B 81 04 00 22 }
        $ec_p521 = { (94 | 9C | C5 | C7 | 95 ?? | 9D ?? | C5 ?? | C7 ??) ?? 04 [4] (12 | 13) 05 2B 81 04 00 23 }
        $ec_k256 = { (94 | 9C | C5 | C7 | 95 ?? | 9D ?? | C5 ?? | C7 ??) ?? 04 [4] (12 | 13) 05 2B 81 04 00 0A }
        // ECDH Curve25519Legacy 1.3.6.1.4.1.3029.1.5.1; EdDSALegacy (16) Ed25519Legacy
        // 1.3.6.1.4.1.11591.15.1 and Ed448 1.3.101.113
        $cv25519 = { (94 | 9C | C5 | C7 | 95 ?? | 9D ?? | C5 ?? | C7 ??) ?? 04 [4] 12 0A 2B 06 01 04 01 97 55 01 05 01 }
        $ed25519 = { (94 | 9C | C5 | C7 | 95 ?? | 9D ?? | C5 ?? | C7 ??) ?? 04 [4] 16 09 2B 06 01 04 01 DA 47 0F 01 }
        $ed448 = { (94 | 9C | C5 | C7 | 95 ?? | 9D ?? | C5 ?? | C7 ??) ?? 04 [4] 16 03 2B 65 71 }
        // Version 6: X25519 (19), X448 (1A), Ed25519 (1B), Ed448 (1C) with 32, 56,
        // 32 and 57 octets of key material; ECDSA and ECDH on the NIST curves
        $v6_x25519 = { (C5 | C7) [1-5] 06 [4] 19 00 00 00 20 }
        $v6_x448 = { (C5 | C7) [1-5] 06 [4] 1A 00 00 00 38 }
        $v6_ed25519 = { (C5 | C7) [1-5] 06 [4] 1B 00 00 00 20 }
        $v6_ed448 = { (C5 | C7) [1-5] 06 [4] 1C 00 00 00 39 }
        $v6_p256 = { (C5 | C7) [1-5] 06 [4] (12 | 13) 00 00 00 ?? 08 2A 86 48 CE 3D 03 01 07 }
        $v6_p384_p521 = { (C5 | C7) [1-5] 06 [4] (12 | 13) 00 00 00 ?? 05 2B 81 04 00 }

    condition:
        any of them
}
