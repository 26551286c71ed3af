package io.slipstream.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.AgentJars;
import io.slipstream.testing.NetNs;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP across a TAP device between unmodified JDK programs on Slipstream and the Linux kernel,
 * in a network namespace the test creates (198.18.9.0/24): curl fetches 10 MB from the JDK's
 * HttpServer running on Slipstream, and the JDK's HttpClient on Slipstream fetches 10 MB from
 * {@code python3 -m http.server}; bodies are checked by SHA-256.
 *
 * <p>The program runs in a child JVM with the agent, inside the namespace, so its TAP device is
 * created there. It brings its stack up first and says READY; only then does the test give the
 * kernel's side of the device its address, so nothing is sent into a link that is not up.
 */
@Timeout(240)
class TapHttpInteropTest {
    private static final String KERNEL_IP = "198.18.9.1";
    private static final String STACK_IP = "198.18.9.2";
    private static final long BODY = 10L * 1024 * 1024;
    private static final Duration STEP = Duration.ofSeconds(60);

    @TempDir
    Path dir;
    private NetNs ns;
    private String device;
    private Process child;
    private final BlockingQueue<String> childLines = new LinkedBlockingQueue<>();
    private final List<String> childOutput = new ArrayList<>();

    @BeforeEach
    void sandbox() {
        Assumptions.assumeTrue(NetNs.isRoot(), "TAP tests need root (CAP_NET_ADMIN): skipped");
        Assumptions.assumeTrue(NetNs.onPath("curl") && NetNs.onPath("python3"),
                "needs curl and python3 (bin/slipstream test installs them): skipped");
        ns = NetNs.create("sshttp");
        device = "ssh" + NetNs.randomHex(8);
    }

    @AfterEach
    void cleanUp() throws InterruptedException {
        if (child != null) {
            child.destroyForcibly();
            child.waitFor(10, TimeUnit.SECONDS);
        }
        if (ns != null) {
            ns.close();
        }
    }

    /** TapHttpProgram with the agent, inside the namespace, on the TAP device; {@code options} go to the JVM. */
    private List<String> childCommand(List<String> options, String... programArgs) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns.name(),
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-javaagent:" + AgentJars.premainOnly(dir),
                "-Dslipstream.driver=tap", "-Dslipstream.interface=" + device,
                "-Dslipstream.address=" + STACK_IP + "/24"));
        cmd.addAll(options);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), TapHttpProgram.class.getName()));
        cmd.addAll(List.of(programArgs));
        return cmd;
    }

    /** Runs a second program to its end; returns its exit status and output. */
    private NetNs.Result runOther(List<String> options, String... programArgs) throws Exception {
        Process other = new ProcessBuilder(childCommand(options, programArgs)).redirectErrorStream(true).start();
        other.getOutputStream().close();
        String out = new String(other.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(other.waitFor(STEP.toSeconds(), TimeUnit.SECONDS), "the second program did not finish: " + out);
        return new NetNs.Result(List.of("TapHttpProgram"), other.exitValue(), false, out, "");
    }

    /** Starts TapHttpProgram with the agent, inside the namespace, on the TAP device. */
    private void startChild(String... programArgs) throws IOException {
        child = new ProcessBuilder(childCommand(List.of(), programArgs)).redirectErrorStream(true).start();
        Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader r = new BufferedReader(
                    new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (childOutput) {
                        childOutput.add(line);
                    }
                    childLines.add(line);
                }
            } catch (IOException ignored) {
                // the child is gone; what it said is in childOutput
            }
        });
    }

    private String awaitLine(String prefix) throws InterruptedException {
        long deadline = System.nanoTime() + STEP.toNanos();
        while (System.nanoTime() < deadline) {
            String line = childLines.poll(1, TimeUnit.SECONDS);
            if (line != null && line.startsWith(prefix)) {
                return line;
            }
            if (line == null && !child.isAlive() && childLines.isEmpty()) {
                break;
            }
        }
        synchronized (childOutput) {
            throw new AssertionError("child never said " + prefix + "; it said:\n" + String.join("\n", childOutput));
        }
    }

    /** Gives the kernel's side of the TAP device (created by the child) its address. */
    private void configureKernelSide() {
        ns.exec("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1").orThrow();
        ns.exec("ip", "addr", "add", KERNEL_IP + "/24", "dev", device).orThrow();
        ns.exec("ip", "link", "set", device, "up").orThrow();
    }

    private List<String> finishChild() throws InterruptedException, IOException {
        child.getOutputStream().close();
        assertTrue(child.waitFor(STEP.toSeconds(), TimeUnit.SECONDS), "child did not finish");
        awaitLine("DONE");
        synchronized (childOutput) {
            assertEquals(0, child.exitValue(), String.join("\n", childOutput));
            return List.copyOf(childOutput);
        }
    }

    @Test
    void curlFetchesTenMegabytesFromTheJdkHttpServerOnSlipstream() throws Exception {
        startChild("serve", STACK_IP, "8080", Long.toString(BODY));
        awaitLine("READY");
        configureKernelSide();
        NetNs.Result r = ns.exec(STEP, "bash", "-c",
                "curl -sS --fail --max-time 50 http://" + STACK_IP + ":8080/data | sha256sum");
        assertTrue(r.ok(), () -> "curl: " + r);
        MessageDigest expected = MessageDigest.getInstance("SHA-256");
        TapHttpProgram.writeBody(new DigestSink(expected), BODY);
        assertEquals(HexFormat.of().formatHex(expected.digest()), r.stdout().split("\\s+")[0],
                "curl received the server's 10 MB intact");
        List<String> out = finishChild();
        assertTrue(out.contains("provider SlipstreamSelectorProvider"), out.toString());
        assertTrue(out.contains("fallbacks {}"), () -> "the server ran accelerated: " + out);
    }

    @Test
    void theJdkHttpClientOnSlipstreamFetchesTenMegabytesFromAKernelServer() throws Exception {
        byte[] file = new byte[(int) BODY];
        new SplittableRandom(7).nextBytes(file);
        Path served = Files.createDirectory(dir.resolve("served"));
        Files.write(served.resolve("file.bin"), file);
        String digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(file));

        startChild("fetch", STACK_IP, "http://" + KERNEL_IP + ":8000/file.bin");
        awaitLine("READY");
        configureKernelSide();
        NetNs.Background server = ns.start("python3", "-m", "http.server", "8000", "--bind", KERNEL_IP,
                "--directory", served.toString());
        try {
            // Wait (bounded) until the kernel's server listens.
            NetNs.Result listening = ns.exec(Duration.ofSeconds(20), "bash", "-c",
                    "for i in $(seq 1 100); do curl -s -o /dev/null http://" + KERNEL_IP
                            + ":8000/ && exit 0; sleep 0.2; done; exit 1");
            assertTrue(listening.ok(), () -> "python3 http.server did not start: " + server.output());
            try (PrintStream in = new PrintStream(child.getOutputStream(), true, StandardCharsets.US_ASCII)) {
                in.println("GO");
            }
            String fetched = awaitLine("FETCHED");
            assertEquals("FETCHED 200 " + BODY + " " + digest, fetched, "10 MB fetched intact");
            List<String> out = finishChild();
            assertTrue(out.contains("fallbacks {}"), () -> "the client ran accelerated: " + out);
        } finally {
            server.close();
        }
    }

    /**
     * Two programs on one TAP device: the first holds it, so the second cannot open it (EBUSY).
     * The second runs entirely on the kernel — HttpClient (SocketChannels) and HttpURLConnection
     * (a classic Socket) both fetch from a kernel server — and says why once; under
     * {@code slipstream.fallback=error} its connection is refused with that cause. The first
     * keeps serving on Slipstream throughout.
     */
    @Test
    void aSecondProgramOnTheSameTapRunsOnTheKernelAndSaysWhyOnce() throws Exception {
        startChild("serve", STACK_IP, "8080", "100000");
        awaitLine("READY");
        configureKernelSide();
        byte[] file = new byte[1 << 20];
        new SplittableRandom(11).nextBytes(file);
        Path served = Files.createDirectory(dir.resolve("served"));
        Files.write(served.resolve("file.bin"), file);
        String digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(file));
        NetNs.Background server = ns.start("python3", "-m", "http.server", "8000", "--bind", KERNEL_IP,
                "--directory", served.toString());
        try {
            String url = "http://" + KERNEL_IP + ":8000/file.bin";
            NetNs.Result listening = ns.exec(Duration.ofSeconds(20), "bash", "-c",
                    "for i in $(seq 1 100); do curl -s -o /dev/null " + url + " && exit 0; sleep 0.2; done; exit 1");
            assertTrue(listening.ok(), () -> "python3 http.server did not start: " + server.output());

            NetNs.Result second = runOther(List.of(), "fetch-now", url);
            String out = second.stdout();
            assertEquals(0, second.exitCode(), out);
            String fetched = "FETCHED 200 " + file.length + " " + digest;
            assertEquals(2, out.lines().filter(fetched::equals).count(), out);
            assertTrue(out.lines().anyMatch("fallbacks {NIC_BUSY=2}"::equals), out);
            assertEquals(1, out.lines().filter(l -> l.contains("cannot open the tap NIC " + device)).count(), out);
            assertTrue(out.contains("already attached"), out);

            NetNs.Result strict = runOther(List.of("-Dslipstream.fallback=error"), "fetch-now", url);
            assertTrue(strict.exitCode() != 0, strict.stdout());
            assertTrue(strict.stdout().contains("slipstream.fallback=error"), strict.stdout());
            assertTrue(strict.stdout().contains("held by another process"), strict.stdout());
            assertTrue(!strict.stdout().contains("NullPointerException"), strict.stdout());

            NetNs.Result first = ns.exec(STEP, "bash", "-c",
                    "curl -sS --fail --max-time 50 http://" + STACK_IP + ":8080/data | wc -c");
            assertEquals("100000", first.stdout().trim(), "the first program still serves on Slipstream: " + first);
        } finally {
            server.close();
        }
        List<String> out = finishChild();
        assertTrue(out.contains("fallbacks {}"), () -> "the first program ran accelerated: " + out);
    }

    /** Feeds what is written into a digest. */
    private static final class DigestSink extends OutputStream {
        private final MessageDigest digest;

        DigestSink(MessageDigest digest) {
            this.digest = digest;
        }

        @Override
        public void write(int b) {
            digest.update((byte) b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            digest.update(b, off, len);
        }
    }
}
