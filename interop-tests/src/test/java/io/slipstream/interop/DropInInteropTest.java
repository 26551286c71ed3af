package io.slipstream.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Unmodified JDK programs started with {@code bin/slipstream run} on one end of a veth pair,
 * with the options a user types for each driver that runs beside the kernel on an existing
 * interface: {@code --driver xdp --interface IF} and no other (the stack takes the kernel's
 * address, and the peer's MAC, from the kernel, which keeps using the address), then
 * {@code --driver packet --interface IF --address CIDR} (an address of the stack's own beside
 * the kernel's). Their peer is the kernel in the other network namespace: curl there fetches
 * 10 MB from the JDK's HttpServer, and the JDK's HttpClient and HttpURLConnection fetch 10 MB
 * from {@code python3 -m http.server} there, and a Python client there echoes 1 MiB through a
 * classic ServerSocket and a Netty server: bodies checked by SHA-256 (or byte for byte), nothing
 * fallen back to the kernel, and the interface as it was once the program has ended (no XDP
 * program attached; not promiscuous).
 */
@Timeout(300)
@ParameterizedClass(name = "{0}")
@ValueSource(strings = {"xdp", "packet"})
class DropInInteropTest {
    private static final long BODY = 10L * 1024 * 1024;
    private static final Duration STEP = Duration.ofSeconds(90);

    @Parameter
    String driver;
    @TempDir
    Path dir;
    private VethPair veth;
    /** Where the program's servers listen: the kernel's address on xdp, the stack's own on packet. */
    private String serverAddress;
    private ChildProgram child;

    @BeforeEach
    void sandbox() {
        Assumptions.assumeTrue(NetNs.isRoot(),
                driver + " tests need root (CAP_NET_ADMIN, CAP_NET_RAW, CAP_BPF): skipped");
        Assumptions.assumeTrue(NetNs.onPath("curl") && NetNs.onPath("python3") && NetNs.onPath("ethtool"),
                "needs curl, python3 and ethtool (bin/slipstream test installs them): skipped");
        veth = VethPair.create(1);
        String local = veth.localAddress();
        serverAddress = driver.equals("xdp") ? local : local.substring(0, local.lastIndexOf('.')) + ".3";
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

    /** What a user types to run on this run's driver on the pair's local end. */
    private List<String> onDriver() {
        return driver.equals("xdp") ? onXdp(veth.local())
                : List.of("--driver", "packet", "--interface", veth.local(), "--address", serverAddress + "/24");
    }

    /** What a user types to run on {@code iface} over xdp: the driver and the interface, nothing else. */
    static List<String> onXdp(String iface) {
        return List.of("--driver", "xdp", "--interface", iface);
    }

    @Test
    void curlInTheOtherNamespaceFetchesFromTheJdkHttpServerLaunchedOnTheDriver() throws Exception {
        child = ChildProgram.start(TapHttpProgram.launched(onDriver(), "serve", serverAddress, "8080",
                Long.toString(BODY)), TapHttpProgram.PACKAGED);
        child.awaitLine("READY", STEP);
        NetNs.Result r = veth.ns().exec(STEP, "bash", "-c",
                "set -o pipefail; curl -sS --fail --max-time 80 http://" + serverAddress + ":8080/data | sha256sum");
        assertTrue(r.ok(), () -> "curl: " + r);
        assertEquals(TapHttpProgram.bodySha256(BODY), r.stdout().split("\\s+")[0], "curl received 10 MB intact");
        if (driver.equals("xdp")) {
            assertTrue(veth.showLocal().contains("prog/xdp"), "the program runs on XDP: " + veth.showLocal());
        }
        ChildProgram.Ended ended = child.finish(STEP);
        assertEquals(0, ended.exitCode(), ended::all);
        assertTrue(ended.out().contains("provider SlipstreamSelectorProvider"), ended::all);
        assertTrue(ended.out().contains("fallbacks {}"), () -> "the server ran accelerated: " + ended.all());
        assertInterfaceAsItWas();
    }

    @Test
    void theJdkHttpClientsLaunchedOnTheDriverFetchFromAKernelServerInTheOtherNamespace() throws Exception {
        try (KernelHttpServer server = KernelHttpServer.start(veth.ns(), veth.peerAddress(), 8000, dir, (int) BODY, 7)) {
            ChildProgram.Ended ended = ChildProgram.run(TapHttpProgram.launched(onDriver(), "fetch-now", server.url()),
                    TapHttpProgram.PACKAGED, STEP);
            assertEquals(0, ended.exitCode(), ended::all);
            assertEquals(2, ended.out().stream().filter(server.fetchedLine()::equals).count(),
                    () -> "HttpClient and HttpURLConnection each fetched 10 MB intact: " + ended.all());
            assertTrue(ended.out().contains("fallbacks {}"), () -> "the clients ran accelerated: " + ended.all());
        }
        assertInterfaceAsItWas();
    }

    /**
     * A kernel client in the other namespace sends 1 MiB to a classic ServerSocket and to a Netty
     * NIO server, both in the launched program, and gets it back intact from each.
     */
    @Test
    void kernelClientsEchoThroughAClassicServerSocketAndANettyServerLaunchedOnTheDriver() throws Exception {
        child = ChildProgram.start(TapHttpProgram.launched(onDriver(), "echo-serve", serverAddress, "9000"),
                TapHttpProgram.PACKAGED);
        child.awaitLine("READY", STEP);
        for (int port : new int[] {9000, 9001}) {
            NetNs.Result echo = veth.ns().exec(STEP, "python3", "-c", ECHO_CLIENT, serverAddress,
                    Integer.toString(port), Integer.toString(1 << 20));
            assertEquals("echoed " + (1 << 20) + " intact", echo.stdout().strip(), () -> "port " + port + ": " + echo);
        }
        ChildProgram.Ended ended = child.finish(STEP);
        assertEquals(0, ended.exitCode(), ended::all);
        assertTrue(ended.out().contains("fallbacks {}"), () -> "the servers ran accelerated: " + ended.all());
        assertInterfaceAsItWas();
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

    /**
     * The program has ended: its XDP program is gone with it (the kernel may take a moment to
     * release the link), and the interface is not promiscuous (the packet driver's MAC filter).
     */
    private void assertInterfaceAsItWas() throws InterruptedException {
        for (int i = 0; i < 250 && !asItWas(veth.showLocal()); i++) {
            Thread.sleep(20);
        }
        assertTrue(asItWas(veth.showLocal()), () -> "the interface is as it was: " + veth.showLocal());
    }

    private static boolean asItWas(String show) {
        return !show.contains("prog/xdp") && show.contains("promiscuity 0");
    }
}
