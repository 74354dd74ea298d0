/*
 * Holder for the HPROF tests: a JVM holding three private keys, each in one Java heap shape.
 *
 * Usage: java HoldHprofKeys STRING.pem DER.der CHARS.pem
 *
 *   STRING.pem  a PEM private key, kept as a java.lang.String.  With compact
 *               strings (JDK 9+) its value is a Latin-1 byte[]: ASCII PEM text.
 *   DER.der     a DER private key (PKCS#8), kept as the byte[] it was read into.
 *   CHARS.pem   a PEM private key, kept only as a char[]: HPROF writes char[]
 *               elements as big-endian u2, so the dump holds UTF-16BE PEM text.
 *
 * Every file is read with Files.readAllBytes.  The bytes of CHARS.pem are widened
 * into the char[] one by one (no String is ever made of them) and the byte[] is
 * zeroed, so no ASCII copy of that key stays reachable; the test dumps with
 * `jmap -dump:live,...`, which collects garbage first and writes live objects only.
 *
 * Prints "READY" once the keys are held and sleeps until killed.
 */

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

public final class HoldHprofKeys {
    private static final long SLEEP_MILLIS = 600_000L; // the test kills us after the dump

    // Static fields keep the three keys reachable (live) for the dump.
    static String pemString;
    static byte[] derBytes;
    static char[] pemChars;

    private HoldHprofKeys() {
    }

    static char[] widenAndZero(byte[] ascii) {
        char[] chars = new char[ascii.length];
        for (int i = 0; i < ascii.length; i++) {
            chars[i] = (char) (ascii[i] & 0xff);
        }
        Arrays.fill(ascii, (byte) 0);
        return chars;
    }

    public static void main(String[] args) throws Exception {
        pemString = new String(Files.readAllBytes(Path.of(args[0])), StandardCharsets.US_ASCII);
        derBytes = Files.readAllBytes(Path.of(args[1]));
        pemChars = widenAndZero(Files.readAllBytes(Path.of(args[2])));
        System.gc();
        System.out.println("READY");
        System.out.flush();
        Thread.sleep(SLEEP_MILLIS);
        // Keeps all three referenced past the sleep.
        System.out.println(pemString.length() + derBytes.length + pemChars.length);
    }
}
