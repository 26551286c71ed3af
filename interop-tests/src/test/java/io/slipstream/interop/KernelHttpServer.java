package io.slipstream.interop;

import static org.junit.jupiter.api.Assertions.fail;

import io.slipstream.testing.NetNs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.SplittableRandom;

/**
 * A kernel HTTP server in a test's network namespace ({@code python3 -m http.server}), serving
 * one file of seeded random bytes, started and answering before {@link #start} returns. Closing
 * stops it.
 */
final class KernelHttpServer implements AutoCloseable {
    private final NetNs.Background process;
    private final String url;
    private final int length;
    private final String sha256;

    private KernelHttpServer(NetNs.Background process, String url, int length, String sha256) {
        this.process = process;
        this.url = url;
        this.length = length;
        this.sha256 = sha256;
    }

    /** Serves {@code length} bytes drawn from {@code seed} as {@code /file.bin} on {@code address:port} inside {@code ns}. */
    static KernelHttpServer start(NetNs ns, String address, int port, Path dir, int length, long seed)
            throws IOException, NoSuchAlgorithmException {
        byte[] file = new byte[length];
        new SplittableRandom(seed).nextBytes(file);
        Path served = Files.createDirectories(dir.resolve("served-" + port));
        Files.write(served.resolve("file.bin"), file);
        String sha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(file));
        String url = "http://" + address + ":" + port + "/file.bin";
        NetNs.Background server = ns.start("python3", "-m", "http.server", Integer.toString(port), "--bind", address,
                "--directory", served.toString());
        // Wait (bounded) until it answers.
        NetNs.Result listening = ns.exec(Duration.ofSeconds(20), "bash", "-c",
                "for i in $(seq 1 100); do curl -s -o /dev/null " + url + " && exit 0; sleep 0.2; done; exit 1");
        if (!listening.ok()) {
            String output = server.output();
            server.close();
            fail("python3 http.server did not start: " + output);
        }
        return new KernelHttpServer(server, url, length, sha256);
    }

    String url() {
        return url;
    }

    /** What TapHttpProgram prints for a fetch of the file that arrived intact. */
    String fetchedLine() {
        return "FETCHED 200 " + length + " " + sha256;
    }

    @Override
    public void close() {
        process.close();
    }
}
