// PEM blocks (RFC 7468, RFC 1421): parsed by scanner/detectors/pem.py.
// The match offset is the anchor: the first "-" of "-----BEGIN ".  `wide`
// finds the UTF-16LE form (Windows, Java and .NET strings); the parser tells
// the two apart and checks the label, the END line and the base64 body.

rule dumpguard_pem_begin
{
    meta:
        parser = "pem"
        description = "Start of a PEM block: key, public key or certificate"

    strings:
        $begin = "-----BEGIN " ascii wide

    condition:
        $begin
}
