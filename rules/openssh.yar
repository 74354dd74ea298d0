// OpenSSH private keys (openssh-key-v1, OpenSSH PROTOCOL.key): parsed by
// scanner/detectors/openssh.py.  Each match offset is the first byte of the blob
// or of its base64 run.

rule dumpguard_openssh_binary
{
    meta:
        parser = "openssh-binary"
        description = "Raw openssh-key-v1 blob, as OpenSSH holds a key it read or writes"

    strings:
        $magic = "openssh-key-v1\x00"

    condition:
        $magic
}

rule dumpguard_openssh_base64
{
    meta:
        parser = "openssh-base64"
        description = "Base64 openssh-key-v1 blob, e.g. a key file body pasted into a config"

    strings:
        // base64("openssh-key-v1\0") is "b3BlbnNzaC1rZXktdjEA"; the last
        // character also holds bits of the next byte, so the anchor stops before it.
        $magic = "b3BlbnNzaC1rZXktdjE"

    condition:
        $magic
}
