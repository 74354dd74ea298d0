/*
 * dumpguard: JSON Web Keys (RFC 7517, 7518, 8037), parsed by scanner/detectors/jwk.py.
 *
 * The match offset is the anchor: the "{" that opens a JSON object whose first
 * member is one a JWK starts with (RFC 7517 4, RFC 7518 6.2 and 6.3, WebCrypto's
 * "ext"): writers put "kty" first (node, most libraries) or sort the members
 * (WebCrypto, RFC 7638 thumbprint order), and then the first member is "alg",
 * "crv", "d", "e", "ext", "key_ops", "kid", "kty", "use" or an "x5*" member.
 * The other one- and two-letter members ("n", "x", "y", "p", "q", "dp", "dq",
 * "qi") come first in neither order, only in a hash map's; they are left out
 * because their three-byte atoms ("n" in quotes) made the whole rule set scan
 * several times slower with yara-x (measured: the ASCII string alone took the
 * rule set from 3,000 to 465 MB/s).  A JWK written in hash-map order that
 * starts with one of them is missed.
 * "k" and "oth" are left out: symmetric and multi-prime keys cannot be proven.
 * The parser reads forward to the object's first "}" (a JWK has no nested object) and decides from the members whether
 * this is a private or public RSA, EC or OKP key.  Anchoring on the private "d"
 * member would need reading back to the object's start, which parsers never do.
 * Each key of a JWKS {"keys": [...]} is an object with its own anchor.
 *
 * $raw: the JSON text itself (a file, a config, a request body).
 * $escaped: the same object inside a JSON string, quotes written \" (a config
 * value or a log line); whitespace may be escaped too (\n, \r, \t).
 * `wide` finds both in UTF-16LE (.NET and Java strings).
 */

rule dumpguard_jwk_object
{
    meta:
        parser = "jwk"
        description = "Start of a JSON Web Key object, raw or escaped in a JSON string"

    strings:
        $raw = /\{[ \t\r\n]{0,64}"(kty|use|key_ops|alg|kid|x5u|x5c|x5t|x5t#S256|crv|d|e|ext)"[ \t\r\n]{0,16}:/ ascii wide
        $escaped = /\{([ \t\r\n]|\\[nrt]){0,64}\\"(kty|use|key_ops|alg|kid|x5u|x5c|x5t|x5t#S256|crv|d|e|ext)\\"[ \t]{0,16}:/ ascii wide

    condition:
        any of them
}
