/*
 * dumpguard: Windows key blobs (bcrypt.h CNG blobs, CryptoAPI key BLOBs).
 *
 * Every string matches at the first byte of the blob; the parser named in
 * `meta: parser` checks each length field against the others before it reads
 * a number.  Besides the magic, each pattern fixes the high bytes of the
 * little-endian length fields that follow it, so ASCII text such as "RSA2048"
 * does not reach a parser.
 */

rule dumpguard_cng_rsa_key_blob
{
    meta:
        parser = "cng-rsa"
        description = "BCRYPT_RSAKEY_BLOB: RSA1 public, RSA2 private, RSA3 full private"
    strings:
        // Magic "RSA1" | "RSA2" | "RSA3", BitLength < 2^16,
        // cbPublicExp 1..8 (Windows refuses exponents above 2^64 - 1), cbModulus < 2^16
        $rsa = { 52 53 41 (31 | 32 | 33) ?? ?? 00 00 (01 | 02 | 03 | 04 | 05 | 06 | 07 | 08) 00 00 00 ?? ?? 00 00 }
    condition:
        $rsa
}

rule dumpguard_cng_ecc_key_blob
{
    meta:
        parser = "cng-ecc"
        description = "BCRYPT_ECCKEY_BLOB: ECDSA ECS1..ECS6 and ECDH ECK1..ECK6 (P-256, P-384, P-521)"
    strings:
        // Magic "ECS<n>" | "ECK<n>", then cbKey 32, 48 or 66
        $ecdsa = { 45 43 53 (31 | 32 | 33 | 34 | 35 | 36) (20 | 30 | 42) 00 00 00 }
        $ecdh = { 45 43 4B (31 | 32 | 33 | 34 | 35 | 36) (20 | 30 | 42) 00 00 00 }
    condition:
        any of them
}

rule dumpguard_capi_rsa_key_blob
{
    meta:
        parser = "capi-rsa"
        description = "CryptoAPI PRIVATEKEYBLOB / PUBLICKEYBLOB with RSAPUBKEY (little-endian numbers)"
    strings:
        // BLOBHEADER { bType, bVersion 2, reserved 0, aiKeyAlg CALG_RSA_KEYX | CALG_RSA_SIGN }
        // then RSAPUBKEY.magic: PRIVATEKEYBLOB (07) with "RSA2", PUBLICKEYBLOB (06) with "RSA1"
        $private = { 07 02 00 00 00 (A4 | 24) 00 00 52 53 41 32 }
        $public = { 06 02 00 00 00 (A4 | 24) 00 00 52 53 41 31 }
    condition:
        any of them
}
