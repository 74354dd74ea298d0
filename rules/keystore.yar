/*
 * dumpguard: keystores (PKCS#12 / PFX, Java JKS and JCEKS), as files read into
 * memory or held in a process's buffers.
 *
 * Each string matches at the store's first byte.  The parsers (scanner/
 * detectors/keystore_pkcs12.py, keystore_jks.py) read every stated length and
 * cut out exactly the whole store; scanner/keys/keystore.py opens it.
 */

rule dumpguard_keystore_pkcs12
{
    meta:
        parser = "keystore-pkcs12"
        description = "RFC 7292 PFX: SEQUENCE { version 3, ContentInfo { data | signedData, ... } }"
    strings:
        // 30 LL            PFX SEQUENCE: indefinite (BER), or a two- or three-byte length
        // 02 01 03         version v3
        // 30 LL            authSafe ContentInfo
        // 06 09 2A..07 0x  id-data 1.2.840.113549.1.7.1 or id-signedData 1.2.840.113549.1.7.2
        $pfx = { 30 (80 | 82 ?? ?? | 83 ?? ?? ??) 02 01 03 30 (80 | 82 ?? ?? | 83 ?? ?? ??) 06 09 2A 86 48 86 F7 0D 01 07 (01 | 02) }
    condition:
        $pfx
}

rule dumpguard_keystore_jks
{
    meta:
        parser = "keystore-jks"
        description = "Sun JavaKeyStore: magic 0xFEEDFEED, version 1 or 2"
    strings:
        $jks = { FE ED FE ED 00 00 00 (01 | 02) }
    condition:
        $jks
}

rule dumpguard_keystore_jceks
{
    meta:
        parser = "keystore-jceks"
        description = "SunJCE JceKeyStore: magic 0xCECECECE, version 1 or 2"
    strings:
        $jceks = { CE CE CE CE 00 00 00 (01 | 02) }
    condition:
        $jceks
}
