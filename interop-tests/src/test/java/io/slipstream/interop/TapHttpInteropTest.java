package io.slipstream.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.AgentJars;
import io.slipstream.testing.NetNs;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
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
    private ChildProgram child;

    @BeforeEach
    void sandbox() {
        NetNs.assumeRootWith("TAP tests need root (CAP_NET_ADMIN): skipped", "curl", "python3");
        ns = NetNs.create("sshttp");
        device = "ssh" + NetNs.randomHex(8);
    }

    @AfterEach
    void cleanUp() {
        if (child != null) {
            child.close();
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

    /** Runs a second program to its end. */
    private ChildProgram.Ended runOther(List<String> options, String... programArgs) throws IOException {
        return ChildProgram.run(childCommand(options, programArgs), Map.of(), STEP);
    }

    /** Starts TapHttpProgram with the agent, inside the namespace, on the TAP device. */
    private void startChild(String... programArgs) throws IOException {
        child = ChildProgram.start(childCommand(List.of(), programArgs), Map.of());
    }

    private String awaitLine(String prefix) throws InterruptedException {
        return child.awaitLine(prefix, STEP);
    }

    /** Gives the kernel's side of the TAP device (created by the child) its address. */
    private void configureKernelSide() {
        ns.exec("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1").orThrow();
        ns.exec("ip", "addr", "add", KERNEL_IP + "/24", "dev", device).orThrow();
        ns.exec("ip", "link", "set", device, "up").orThrow();
    }

    private List<String> finishChild() {
        ChildProgram.Ended ended = child.finish(STEP);
        assertEquals(0, ended.exitCode(), ended::all);
        assertTrue(ended.out().contains("DONE"), ended::all);
        return ended.out();
    }

    @Test
    void curlFetchesTenMegabytesFromTheJdkHttpServerOnSlipstream() throws Exception {
        startChild("serve", STACK_IP, "8080", Long.toString(BODY));
        awaitLine("READY");
        configureKernelSide();
        NetNs.Result r = ns.exec(STEP, "bash", "-c",
                "curl -sS --fail --max-time 50 http://" + STACK_IP + ":8080/data | sha256sum");
        assertTrue(r.ok(), () -> "curl: " + r);
        assertEquals(TapHttpProgram.bodySha256(BODY), r.stdout().split("\\s+")[0],
                "curl received the server's 10 MB intact");
        List<String> out = finishChild();
        assertTrue(out.contains("provider SlipstreamSelectorProvider"), out.toString());
        assertTrue(out.contains("fallbacks {}"), () -> "the server ran accelerated: " + out);
    }

    @Test
    void theJdkHttpClientOnSlipstreamFetchesTenMegabytesFromAKernelServer() throws Exception {
        startChild("fetch", STACK_IP, "http://" + KERNEL_IP + ":8000/file.bin");
        awaitLine("READY");
        configureKernelSide();
        try (KernelHttpServer server = KernelHttpServer.start(ns, KERNEL_IP, 8000, dir, (int) BODY, 7)) {
            child.say("GO");
            assertEquals(server.fetchedLine(), awaitLine("FETCHED"), "10 MB fetched intact");
            List<String> out = finishChild();
            assertTrue(out.contains("fallbacks {}"), () -> "the client ran accelerated: " + out);
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
        try (KernelHttpServer server = KernelHttpServer.start(ns, KERNEL_IP, 8000, dir, 1 << 20, 11)) {
            String url = server.url();
            ChildProgram.Ended second = runOther(List.of(), "fetch-now", url);
            List<String> out = second.out();
            assertEquals(0, second.exitCode(), second::all);
            assertEquals(2, out.stream().filter(server.fetchedLine()::equals).count(), second::all);
            assertTrue(out.contains("fallbacks {NIC_BUSY=2}"), second::all);
            List<String> told = second.err().stream().filter(l -> l.contains("cannot open the tap NIC " + device)).toList();
            assertEquals(1, told.size(), second::all);
            assertTrue(told.get(0).contains("already attached"), second::all);

            ChildProgram.Ended strict = runOther(List.of("-Dslipstream.fallback=error"), "fetch-now", url);
            assertTrue(strict.exitCode() != 0, strict::all);
            assertTrue(strict.all().contains("slipstream.fallback=error"), strict::all);
            assertTrue(strict.all().contains("held by another process"), strict::all);
            assertTrue(!strict.all().contains("NullPointerException"), strict::all);

            NetNs.Result first = ns.exec(STEP, "bash", "-c",
                    "curl -sS --fail --max-time 50 http://" + STACK_IP + ":8080/data | wc -c");
            assertEquals("100000", first.stdout().trim(), "the first program still serves on Slipstream: " + first);
        }
        List<String> out = finishChild();
        assertTrue(out.contains("fallbacks {}"), () -> "the first program ran accelerated: " + out);
    }
}
