/*
 * Holder 2b: a JVM holding an RSA private key only as BigInteger magnitudes.
 *
 * Usage: java ... HoldKeyFactory KEY.der   (PKCS#8 DER, RSA-2048)
 *
 * Reads the DER through a read-only memory mapping (a file-backed mapping the
 * dump leaves out; Files.readAllBytes reads through a native buffer that keeps
 * a whole copy), loads it with KeyFactory.getInstance("RSA").generatePrivate(new
 * PKCS8EncodedKeySpec(der)), zeroes the byte[] with Arrays.fill and keeps the
 * RSAPrivateCrtKey.  JDK 17 keeps two more copies the program cannot reach
 * through the public API: the spec's clone of the DER, and the key's own
 * PKCS#1 encoding (PKCS8Key.key).  Both are cleared with the JDK's own methods
 * (the ones it calls itself in PKCS8Key.parseKey), reached with --add-exports:
 * EncodedKeySpec.clear via SharedSecrets, and PKCS8Key.clear, which zeroes the
 * encoding but not the BigInteger fields the key signs with.  What remains is
 * n, e, d, p, q, ... as BigInteger: int[] mag, most significant int first,
 * each int little-endian in memory.
 *
 * Prints "READY <modulus bits>" and sleeps until killed.
 */

import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.KeyFactory;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;

public final class HoldKeyFactory {
    private static final long SLEEP_MILLIS = 600_000L; // the builder kills us after the dump

    private HoldKeyFactory() {
    }

    static byte[] readMapped(String path) throws Exception {
        try (FileChannel channel = FileChannel.open(Path.of(path), StandardOpenOption.READ)) {
            MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size());
            byte[] der = new byte[mapped.remaining()];
            mapped.get(der);
            return der;
        }
    }

    static RSAPrivateCrtKey loadAndDrop(String path) throws Exception {
        byte[] der = readMapped(path);
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        RSAPrivateCrtKey key =
                (RSAPrivateCrtKey) KeyFactory.getInstance("RSA").generatePrivate(spec);
        Arrays.fill(der, (byte) 0);
        jdk.internal.access.SharedSecrets.getJavaSecuritySpecAccess().clearEncodedKeySpec(spec);
        ((sun.security.pkcs.PKCS8Key) key).clear();
        return key;
    }

    public static void main(String[] args) throws Exception {
        RSAPrivateCrtKey key = loadAndDrop(args[0]);
        System.gc(); // the dropped arrays are garbage; collect before the dump
        System.out.println("READY " + key.getModulus().bitLength());
        System.out.flush();
        Thread.sleep(SLEEP_MILLIS);
        System.out.println(key.getAlgorithm()); // keeps the key referenced past the sleep
    }
}
