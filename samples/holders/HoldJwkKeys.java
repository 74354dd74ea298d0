/*
 * Holder for the JWK process tests: a JVM holding private keys as java.lang.String.
 *
 * Usage: java HoldJwkKeys KEY.pem KEY.jwk KEY.b64
 *
 *   KEY.pem  a PEM private key, kept as a String.
 *   KEY.jwk  a private JWK (JSON text), kept as a String.
 *   KEY.b64  a DER private key as one base64 line, kept as a String.
 *
 * With compact strings (the JDK 9+ default) a String of Latin-1 text keeps one
 * byte per character; started with -XX:-CompactStrings every String keeps UTF-16
 * in the machine's byte order (UTF-16LE on x86 and arm64).  Each file is read
 * with Files.readAllBytes and the byte[] is zeroed after the String is made, so
 * the only copy left reachable is the String's own.
 *
 * Prints "READY" once the keys are held and sleeps until killed.
 */

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

public final class HoldJwkKeys {
    private static final long SLEEP_MILLIS = 600_000L; // the test kills us after the dump

    // Static fields keep the keys reachable.
    static String pemString;
    static String jwkString;
    static String base64String;

    private HoldJwkKeys() {
    }

    static String readAndZero(String file) throws Exception {
        byte[] bytes = Files.readAllBytes(Path.of(file));
        String text = new String(bytes, StandardCharsets.US_ASCII);
        Arrays.fill(bytes, (byte) 0);
        return text;
    }

    public static void main(String[] args) throws Exception {
        pemString = readAndZero(args[0]);
        jwkString = readAndZero(args[1]);
        base64String = readAndZero(args[2]);
        System.gc();
        System.out.println("READY");
        System.out.flush();
        Thread.sleep(SLEEP_MILLIS);
        System.out.println(pemString.length() + jwkString.length() + base64String.length());
    }
}
