// PuTTY private key files (PPK versions 2 and 3, PuTTY manual appendix C):
// parsed by scanner/detectors/ppk.py.  The match offset is the "P" of the first
// line; `wide` finds the UTF-16LE form (Windows strings).  The parser checks the
// version, the key type and every header line after it.

rule dumpguard_ppk
{
    meta:
        parser = "ppk"
        description = "PuTTY private key file (PPK v2 or v3), plain or encrypted"

    strings:
        $magic = "PuTTY-User-Key-File-" ascii wide

    condition:
        $magic
}
