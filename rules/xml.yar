// .NET RSAKeyValue XML (RSA.ToXmlString, XML-DSig KeyValue): parsed by
// scanner/detectors/dotnet_xml.py.  The match offset is the anchor: the "<" of
// "<RSAKeyValue".  `wide` finds the UTF-16LE form (.NET strings in memory);
// the parser tells the two apart and reads up to "</RSAKeyValue>".

rule dumpguard_dotnet_rsa_key_value
{
    meta:
        parser = "dotnet-xml"
        description = ".NET RSAKeyValue XML: Modulus, Exponent and the private P, Q, DP, DQ, InverseQ, D"

    strings:
        $start = "<RSAKeyValue" ascii wide

    condition:
        $start
}
