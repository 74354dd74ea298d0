/*
 * dumpguard: DER keys as bare base64 / base64url strings (no PEM armour), parsed by
 * scanner/detectors/base64_der.py.  The match offset is the anchor: the run's first
 * character, which is the first character of the DER's base64.
 *
 * How the prefixes are derived.  Base64 (RFC 4648 4) maps every 3 bytes to 4
 * characters, 6 bits each, and a DER structure's base64 starts at a 3-byte boundary
 * of the DER.  So the structure's fixed header bytes fix whole characters:
 *
 *     30 82 HH | LL 02 01 | 00 30 0D | 06 09 2A | 86 48 86 | F7 0D 01 | 01 01 05 | 00 04 82
 *     M I I ?  | ? [AQgw] I B | A D A N | B g k q | h k i G | 9 w 0 B | A Q E F | A A S C
 *
 * 0x30 0x82 then a length byte below 0x40 (every DER up to 16 KiB) gives "MII" and
 * one free character; 0x30 0x81 LL (LL >= 0x80) gives "MI" then G or H; a short
 * length 0x30 LL (LL < 0x80) gives "M", one of A..H, and a multiple of four.  The
 * length form moves every later byte to another place in its 3-byte group, so each
 * structure is listed once per length form it takes.  A character that mixes fixed
 * bits with free ones (length bytes, version 0 or 1, a choice of OIDs) becomes a
 * class of the values it can take; characters after the last fixed bit are left out.
 * Each string's comment is its DER template: hex bytes, "??" any byte, "<40" a byte
 * below 0x40, ">=80" one from 0x80, "(a|b)" a choice.
 * tests/detectors/test_base64_der.py derives every string below from its DER
 * template and checks that this file lists exactly those.
 *
 * Base64url (RFC 4648 5) writes "-" and "_" for "+" and "/": every class that holds
 * "+" or "/" holds its url twin too, and no fixed character is "+" or "/", so one
 * string finds both alphabets.  `wide` finds the UTF-16LE form (.NET and Java strings
 * in memory).  The parser reads the DER length out of the first 8 characters,
 * decodes exactly the characters that encode it, and hands the DER to the DER
 * structure readers; anything else gives no candidate.
 */

rule dumpguard_base64_der_private_key
{
    meta:
        parser = "base64-der"
        description = "Base64 or base64url of a PKCS#8, PKCS#1, SEC1, DSA or encrypted PKCS#8 key"

    strings:
        // 30 82 <40 ?? 02 01 (00|01) 30 0D 06 09 2A 86 48 86 F7 0D 01 01 01 05 00 04 82
        $pkcs8_rsa = /MII[A-Za-z0-9+\/_-][A-Za-z0-9+\/_-][AQgw]IBA[DT]ANBgkqhkiG9w0BAQEFAASC/ ascii wide
        // 30 81 >=80 02 01 (00|01) 30 0D 06 09 2A 86 48 86 F7 0D 01 01 01 05 00 04 81
        $pkcs8_rsa81 = /MI[GH][A-Za-z0-9+\/_-]AgE[AB]MA0GCSqGSIb3DQEBAQUABI[E-H]/ ascii wide
        // 30 82 <40 ?? 02 01 (00|01) 30 <80 06 09 2A 86 48 86 F7 0D 01 01 0A
        $pkcs8_rsapss = /MII[A-Za-z0-9+\/_-][A-Za-z0-9+\/_-][AQgw]IBA[DT][AB][A-Za-z0-9+\/_-]BgkqhkiG9w0BAQ[o-r]/ ascii wide
        // 30 <80 02 01 (00|01) 30 13 06 07 2A 86 48 CE 3D 02 01 06
        $pkcs8_ec_short = /M[A-H][AEIMQUYcgkosw048]CAQ[AE]wEwYHKoZIzj0CAQ[YZab]/ ascii wide
        // 30 81 >=80 02 01 (00|01) 30 (13|10) 06 07 2A 86 48 CE 3D 02 01 06
        $pkcs8_ec81 = /MI[GH][A-Za-z0-9+\/_-]AgE[AB]MB[AM]GByqGSM49AgEG/ ascii wide
        // 30 82 <40 ?? 02 01 (00|01) 30 (13|10) 06 07 2A 86 48 CE 3D 02 01 06
        $pkcs8_ec82 = /MII[A-Za-z0-9+\/_-][A-Za-z0-9+\/_-][AQgw]IBA[DT]A[QT]BgcqhkjOPQIBB[g-v]/ ascii wide
        // 30 <80 02 01 (00|01) 30 05 06 03 2B 65 (6E|6F|70|71) 04
        $pkcs8_ed_short = /M[A-H][AEIMQUYcgkosw048]CAQ[AE]wBQYDK2V[u-x]B[A-P]/ ascii wide
        // 30 81 >=80 02 01 (00|01) 30 05 06 03 2B 65 (6E|6F|70|71) 04
        $pkcs8_ed81 = /MI[GH][A-Za-z0-9+\/_-]AgE[AB]MAUGAytl[bc][AQgw][Q-T]/ ascii wide
        // 30 82 <40 ?? 02 01 (00|01) 30 82 ?? ?? 06 07 2A 86 48 CE 38 04 01
        $pkcs8_dsa = /MII[A-Za-z0-9+\/_-][A-Za-z0-9+\/_-][AQgw]IBA[DT]CC[A-Za-z0-9+\/_-][A-Za-z0-9+\/_-][AEIMQUYcgkosw048]GByqGSM44BA[E-H]/ ascii wide
        // 30 82 <40 ?? 02 01 00 02 (41|61|81|82)
        $pkcs1_rsa = /MII[A-Za-z0-9+\/_-][A-Za-z0-9+\/_-][AQgw]IBAA[JK][BCh]/ ascii wide
        // 30 <80 02 01 01 04 (1F|20|2F|30)
        $sec1_short = /M[A-H][AEIMQUYcgkosw048]CAQEE[HILM][A-Pw-z0-9+\/_-]/ ascii wide
        // 30 81 >=80 02 01 01 04 (2F|30|41|42)
        $sec1_81 = /MI[GH][A-Za-z0-9+\/_-]AgEBB[C-E][A-L89+\/_-]/ ascii wide
        // 30 82 <40 ?? 30 <80 06 09 2A 86 48 86 F7 0D 01 05 (01|03|04|06|0A|0B|0D) 30
        $enc_pkcs5 = /MII[A-Za-z0-9+\/_-][A-Za-z0-9+\/_-][DTjz][AB][A-Za-z0-9+\/_-]BgkqhkiG9w0BBQ[EMQYos0]w/ ascii wide
        // 30 81 >=80 30 <80 06 09 2A 86 48 86 F7 0D 01 05 (01|03|04|06|0A|0B|0D) 30
        $enc_pkcs5_81 = /MI[GH][A-Za-z0-9+\/_-]M[A-H][AEIMQUYcgkosw048]GCSqGSIb3DQEF[A-D][DTjz][A-D]/ ascii wide
        // 30 82 <40 ?? 30 <80 06 0A 2A 86 48 86 F7 0D 01 0C 01 (01|02|03|04|05|06) 30
        $enc_pkcs12 = /MII[A-Za-z0-9+\/_-][A-Za-z0-9+\/_-][DTjz][AB][A-Za-z0-9+\/_-]BgoqhkiG9w0BDAE[B-G]M[A-P]/ ascii wide
        // 30 81 >=80 30 <80 06 0A 2A 86 48 86 F7 0D 01 0C 01 (01|02|03|04|05|06) 30
        $enc_pkcs12_81 = /MI[GH][A-Za-z0-9+\/_-]M[A-H][AEIMQUYcgkosw048]GCiqGSIb3DQEMAQ[EIMQUY]w/ ascii wide
        // 30 <80 30 <80 06 0A 2A 86 48 86 F7 0D 01 0C 01 (01|02|03|04|05|06) 30
        $enc_pkcs12_short = /M[A-H][AEIMQUYcgkosw048]w[A-Za-f][AQgw]YKKoZIhvcNAQwB[AB][DTjz][A-D]/ ascii wide

    condition:
        any of them
}

rule dumpguard_base64_der_public_key
{
    meta:
        parser = "base64-der"
        description = "Base64 or base64url of a public key or certificate (inventory)"

    strings:
        // 30 82 <40 ?? 30 0D 06 09 2A 86 48 86 F7 0D 01 01 01 05 00 03
        $spki_rsa = /MII[A-Za-z0-9+\/_-][A-Za-z0-9+\/_-][DTjz]ANBgkqhkiG9w0BAQEFAA[M-P]/ ascii wide
        // 30 81 >=80 30 0D 06 09 2A 86 48 86 F7 0D 01 01 01 05 00 03
        $spki_rsa81 = /MI[GH][A-Za-z0-9+\/_-]MA0GCSqGSIb3DQEBAQUAA[w-z0-9+\/_-]/ ascii wide
        // 30 <80 30 (13|10) 06 07 2A 86 48 CE 3D 02 01 06
        $spki_ec_short = /M[A-H][AEIMQUYcgkosw048]wE[Aw]YHKoZIzj0CAQ[YZab]/ ascii wide
        // 30 81 >=80 30 (13|10) 06 07 2A 86 48 CE 3D 02 01 06
        $spki_ec81 = /MI[GH][A-Za-z0-9+\/_-]MB[AM]GByqGSM49AgEG/ ascii wide
        // 30 <80 30 05 06 03 2B 65 (6E|6F|70|71) 03
        $spki_ed = /M[A-H][AEIMQUYcgkosw048]wBQYDK2V[u-x]A[w-z0-9+\/_-]/ ascii wide
        // 30 82 <40 ?? 30 82 ?? ?? 06 07 2A 86 48 CE 38 04 01
        $spki_dsa = /MII[A-Za-z0-9+\/_-][A-Za-z0-9+\/_-][DTjz]CC[A-Za-z0-9+\/_-][A-Za-z0-9+\/_-][AEIMQUYcgkosw048]GByqGSM44BA[E-H]/ ascii wide
        // No PKCS#1 RSAPublicKey: its fixed header is 02 82 ?? ?? 00 after the outer one,
        // which leaves two-character atoms ("KC", "Ao") that fire all over text; the two
        // strings cost 0.7 ms per MB each (the whole rule set costs about 0.5).  Public
        // keys are an inventory, and their usual base64 form, SPKI, is listed above.
        // 30 82 <40 ?? 30 82 ?? ?? A0 03 02 01 (01|02) 02
        $cert = /MII[A-Za-z0-9+\/_-][A-Za-z0-9+\/_-][DTjz]CC[A-Za-z0-9+\/_-][A-Za-z0-9+\/_-][CGKOSWaeimquy26+-]gAwIBA[Qg][I-L]/ ascii wide
        // 30 82 <40 ?? 30 81 >=80 A0 03 02 01 (01|02) 02
        $cert82_81 = /MII[A-Za-z0-9+\/_-][A-Za-z0-9+\/_-][DTjz]CB[g-z0-9+\/_-][Kaq6]ADAgE[BC]A[g-v]/ ascii wide
        // 30 81 >=80 30 81 >=80 A0 03 02 01 (01|02) 02
        $cert81 = /MI[GH][A-Za-z0-9+\/_-]MI[GH][A-Za-z0-9+\/_-]oAMCAQ[EI]C/ ascii wide

    condition:
        any of them
}
