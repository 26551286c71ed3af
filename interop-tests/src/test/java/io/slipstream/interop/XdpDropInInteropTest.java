package io.slipstream.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.NetNs;
import io.slipstream.testing.VethPair;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Unmodified JDK programs started with {@code bin/slipstream run --driver xdp --interface IF}
 * and no other option on one end of a veth pair, whose address the kernel keeps using (the
 * stack takes it, and the peer's MAC, from the kernel); their peer is the kernel in
 * another network namespace. curl there fetches 10 MB from the JDK's HttpServer, and the JDK's
 * HttpClient and HttpURLConnection fetch 10 MB from {@code python3 -m http.server} there, and a
 * Python client there echoes 1 MiB through a classic ServerSocket and a Netty server: bodies
 * checked by SHA-256 (or byte for byte), nothing fallen back to the kernel, and the interface as
 * it was once the program has ended.
 */
@Timeout(300)
class XdpDropInInteropTest {
    private static final long BODY = 10L * 1024 * 1024;
    private static final Duration STEP = Duration.ofSeconds(90);

    @TempDir
    Path dir;
    private VethPair veth;
    private ChildProgram child;

    @BeforeEach
    void sandbox() {
        Assumptions.assumeTrue(NetNs.isRoot(), "XDP tests need root (CAP_NET_ADMIN, CAP_NET_RAW, CAP_BPF): skipped");
        Assumptions.assumeTrue(NetNs.onPath("curl") && NetNs.onPath("python3") && NetNs.onPath("ethtool"),
                "needs curl, python3 and ethtool (bin/slipstream test installs them): skipped");
        veth = VethPair.create(1);
    }

    @AfterEach
    void cleanUp() {
        try {
            if (child != null) {
                child.close();
            }
        } finally {
            veth.close();
        }
    }

    private List<String> onXdp() {
        return onXdp(veth.local());
    }

    /** What a user types to run on {@code iface}: the driver and the interface, nothing else. */
    static List<String> onXdp(String iface) {
        return List.of("--driver", "xdp", "--interface", iface);
    }

    @Test
    void curlInTheOtherNamespaceFetchesFromTheJdkHttpServerLaunchedOnXdp() throws Exception {
        child = ChildProgram.start(TapHttpProgram.launched(onXdp(), "serve", veth.localAddress(), "8080",
                Long.toString(BODY)), TapHttpProgram.PACKAGED);
        child.awaitLine("READY", STEP);
        NetNs.Result r = veth.ns().exec(STEP, "bash", "-c",
                "set -o pipefail; curl -sS --fail --max-time 80 http://" + veth.localAddress() + ":8080/data | sha256sum");
        assertTrue(r.ok(), () -> "curl: " + r);
        assertEquals(TapHttpProgram.bodySha256(BODY), r.stdout().split("\\s+")[0], "curl received 10 MB intact");
        assertTrue(veth.showLocal().contains("prog/xdp"), "the program runs on XDP: " + veth.showLocal());
        ChildProgram.Ended ended = child.finish(STEP);
        assertEquals(0, ended.exitCode(), ended::all);
        assertTrue(ended.out().contains("provider SlipstreamSelectorProvider"), ended::all);
        assertTrue(ended.out().contains("fallbacks {}"), () -> "the server ran accelerated: " + ended.all());
        assertDetached();
    }

    @Test
    void theJdkHttpClientsLaunchedOnXdpFetchFromAKernelServerInTheOtherNamespace() throws Exception {
        try (KernelHttpServer server = KernelHttpServer.start(veth.ns(), veth.peerAddress(), 8000, dir, (int) BODY, 7)) {
            ChildProgram.Ended ended = ChildProgram.run(TapHttpProgram.launched(onXdp(), "fetch-now", server.url()),
                    TapHttpProgram.PACKAGED, STEP);
            assertEquals(0, ended.exitCode(), ended::all);
            assertEquals(2, ended.out().stream().filter(server.fetchedLine()::equals).count(),
                    () -> "HttpClient and HttpURLConnection each fetched 10 MB intact: " + ended.all());
            assertTrue(ended.out().contains("fallbacks {}"), () -> "the clients ran accelerated: " + ended.all());
        }
        assertDetached();
    }

    /**
     * A kernel client in the other namespace sends 1 MiB to a classic ServerSocket and to a Netty
     * NIO server, both in the launched program, and gets it back intact from each.
     */
    @Test
    void kernelClientsEchoThroughAClassicServerSocketAndANettyServerLaunchedOnXdp() throws Exception {
        child = ChildProgram.start(TapHttpProgram.launched(onXdp(), "echo-serve", veth.localAddress(), "9000"),
                TapHttpProgram.PACKAGED);
        child.awaitLine("READY", STEP);
        for (int port : new int[] {9000, 9001}) {
            NetNs.Result echo = veth.ns().exec(STEP, "python3", "-c", ECHO_CLIENT, veth.localAddress(),
                    Integer.toString(port), Integer.toString(1 << 20));
            assertEquals("echoed " + (1 << 20) + " intact", echo.stdout().strip(), () -> "port " + port + ": " + echo);
        }
        ChildProgram.Ended ended = child.finish(STEP);
        assertEquals(0, ended.exitCode(), ended::all);
        assertTrue(ended.out().contains("fallbacks {}"), () -> "the servers ran accelerated: " + ended.all());
        assertDetached();
    }

    /** Sends N random bytes (from a thread, so neither side's buffers can stall the other) and reads them back. */
    private static final String ECHO_CLIENT = String.join("\n",
            "import os, socket, sys, threading",
            "host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])",
            "data = os.urandom(n)",
            "s = socket.create_connection((host, port), timeout=30)",
            "sender = threading.Thread(target=s.sendall, args=(data,))",
            "sender.start()",
            "got = bytearray()",
            "while len(got) < n:",
            "    d = s.recv(65536)",
            "    if not d: break",
            "    got += d",
            "sender.join()",
            "s.close()",
            "print('echoed', len(got), 'intact' if got == data else 'corrupt')");

    /** The program has ended: its XDP program is gone with it (the kernel may take a moment to release the link). */
    private void assertDetached() throws InterruptedException {
        for (int i = 0; i < 250 && veth.showLocal().contains("prog/xdp"); i++) {
            Thread.sleep(20);
        }
        assertFalse(veth.showLocal().contains("prog/xdp"), "the interface is as it was: " + veth.showLocal());
    }
}
