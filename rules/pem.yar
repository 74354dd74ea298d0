// PEM blocks (RFC 7468, RFC 1421): parsed by scanner/detectors/pem.py.
// The match offset is the anchor: the first byte of "-----BEGIN ".  `wide`
// finds the UTF-16LE form (Windows, Java and .NET strings in memory); YARA has
// no big-endian `wide`, so $begin_utf16be spells the UTF-16BE form (Java char[]
// in HPROF heap dumps, big-endian machines) byte by byte, anchored on the 0x00
// before the first "-".  The parser tells the forms apart and checks the label,
// the END line and the base64 body; where one text reads both as UTF-16BE and,
// one byte on, as UTF-16LE, it keeps one reading (see pem.py).

rule dumpguard_pem_begin
{
    meta:
        parser = "pem"
        description = "Start of a PEM block: key, public key or certificate"

    strings:
        $begin = "-----BEGIN " ascii wide
        // "-----BEGIN " in UTF-16BE: 00 2D x5, 00 42 00 45 00 47 00 49 00 4E, 00 20
        $begin_utf16be = { 00 2D 00 2D 00 2D 00 2D 00 2D 00 42 00 45 00 47 00 49 00 4E 00 20 }

    condition:
        any of them
}
