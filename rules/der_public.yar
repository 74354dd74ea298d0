/*
 * dumpguard: DER-encoded public keys and certificates (inventory, never secret).
 *
 * Same conventions as der.yar: each string matches at the outer SEQUENCE tag,
 * the named parser reads the exact length from that header.
 */

rule dumpguard_der_spki_public_key
{
    meta:
        parser = "der-spki"
        description = "RFC 5280 SubjectPublicKeyInfo (RSA, RSASSA-PSS, EC, DSA, RFC 8410 keys)"
    strings:
        // AlgorithmIdentifier { rsaEncryption, NULL } then the BIT STRING
        $rsa = { 30 (?? | 81 ?? | 82 ?? ??) 30 0D 06 09 2A 86 48 86 F7 0D 01 01 01 05 00 03 }
        $rsa_pss = { 30 (81 ?? | 82 ?? ??) 30 ?? 06 09 2A 86 48 86 F7 0D 01 01 0A }
        $ec = { 30 (?? | 81 ??) 30 (13 | 10) 06 07 2A 86 48 CE 3D 02 01 06 }
        $dsa = { 30 82 ?? ?? 30 82 ?? ?? 06 07 2A 86 48 CE 38 04 01 }
        $edwards_montgomery = { 30 ?? 30 05 06 03 2B 65 (6E | 6F | 70 | 71) 03 }
    condition:
        any of them
}

rule dumpguard_der_pkcs1_rsa_public_key
{
    meta:
        parser = "der-pkcs1-public"
        description = "RFC 8017 A.1.1 RSAPublicKey, e = 65537, common modulus sizes"
    strings:
        // SEQUENCE { modulus INTEGER, publicExponent INTEGER 65537 (02 03 01 00 01) }:
        // the SEQUENCE is then 9 bytes longer than the modulus bytes, which ties the
        // low length bytes together.  A looser pattern (any length) has two-byte atoms
        // only and slows yara-python down.
        // 2048, 4096, 8192 bits: 30 82 NN 0A 02 82 NN 01 00; 3072: 30 82 01 8A 02 82 01 81 00
        $rsa_large = { 30 82 ?? (0A | 8A) 02 82 ?? (01 | 81) 00 }
        // 1024 and 1536 bits
        $rsa_small = { 30 81 (89 | C9) 02 81 (81 | C1) 00 }
    condition:
        any of them
}

rule dumpguard_der_x509_certificate
{
    meta:
        parser = "der-x509"
        description = "RFC 5280 Certificate with an explicit version (v2, v3)"
    strings:
        // Certificate SEQUENCE { tbsCertificate SEQUENCE { [0] { INTEGER 1 or 2 (v2, v3) },
        // serialNumber INTEGER ...  (v1 certificates omit the version and have no anchor here)
        $certificate = { 30 (81 ?? | 82 ?? ??) 30 (81 ?? | 82 ?? ??) A0 03 02 01 (01 | 02) 02 }
    condition:
        $certificate
}
