package io.slipstream.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.NetNs;
import io.slipstream.testing.VethPair;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/slipstream run --driver packet --interface IF --address CIDR}: an unmodified JDK
 * HttpServer on the stack's own address on one end of a veth pair, whose other address the
 * kernel keeps, serves curl in the other namespace 10 MB intact, and the JDK's HttpClient and
 * HttpURLConnection fetch 10 MB from {@code python3 -m http.server} there, nothing fallen back
 * to the kernel; and where the driver cannot open (a missing interface, a process without
 * CAP_NET_RAW), the launcher says so in one line before the program starts.
 */
@Timeout(300)
class PacketLaunchInteropTest {
    private static final long BODY = 10L * 1024 * 1024;
    private static final Duration STEP = Duration.ofSeconds(90);
    private static final List<String> NO_CAPABILITIES = List.of("setpriv", "--inh-caps=-all", "--bounding-set=-all");

    @TempDir
    Path dir;
    private VethPair veth;
    private String stackAddress;
    private ChildProgram child;

    @BeforeEach
    void sandbox() {
        Assumptions.assumeTrue(NetNs.isRoot(), "packet driver tests need root (CAP_NET_RAW, netns): skipped");
        Assumptions.assumeTrue(NetNs.onPath("curl") && NetNs.onPath("python3") && NetNs.onPath("ethtool")
                && NetNs.onPath("setpriv"), "needs curl, python3, ethtool and setpriv: skipped");
        veth = VethPair.create(1);
        String local = veth.localAddress();
        stackAddress = local.substring(0, local.lastIndexOf('.')) + ".3";
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

    private List<String> onPacket(String iface, String... more) {
        List<String> options = new ArrayList<>(List.of("--driver", "packet", "--interface", iface, "--address",
                stackAddress + "/24"));
        options.addAll(List.of(more));
        return options;
    }

    @Test
    void curlInTheOtherNamespaceFetchesFromTheJdkHttpServerLaunchedOnPacket() throws Exception {
        child = ChildProgram.start(TapHttpProgram.launched(onPacket(veth.local()), "serve", stackAddress, "8080",
                Long.toString(BODY)), TapHttpProgram.PACKAGED);
        child.awaitLine("READY", STEP);
        NetNs.Result r = veth.ns().exec(STEP, "bash", "-c",
                "set -o pipefail; curl -sS --fail --max-time 80 http://" + stackAddress + ":8080/data | sha256sum");
        assertTrue(r.ok(), () -> "curl: " + r);
        assertEquals(TapHttpProgram.bodySha256(BODY), r.stdout().split("\\s+")[0], "curl received 10 MB intact");
        ChildProgram.Ended ended = child.finish(STEP);
        assertEquals(0, ended.exitCode(), ended::all);
        assertTrue(ended.out().contains("provider SlipstreamSelectorProvider"), ended::all);
        assertTrue(ended.out().contains("fallbacks {}"), () -> "the server ran accelerated: " + ended.all());
    }

    @Test
    void theJdkHttpClientsLaunchedOnPacketFetchFromAKernelServerInTheOtherNamespace() throws Exception {
        try (KernelHttpServer server = KernelHttpServer.start(veth.ns(), veth.peerAddress(), 8000, dir, (int) BODY, 7)) {
            ChildProgram.Ended ended = ChildProgram.run(TapHttpProgram.launched(onPacket(veth.local()), "fetch-now",
                    server.url()), TapHttpProgram.PACKAGED, STEP);
            assertEquals(0, ended.exitCode(), ended::all);
            assertEquals(2, ended.out().stream().filter(server.fetchedLine()::equals).count(),
                    () -> "HttpClient and HttpURLConnection each fetched 10 MB intact: " + ended.all());
            assertTrue(ended.out().contains("fallbacks {}"), () -> "the clients ran accelerated: " + ended.all());
        }
    }

    @Test
    void aMissingInterfaceIsNamedInOneLine() {
        String missing = "sx" + NetNs.randomHex(8) + "z";
        XdpLaunchFailureInteropTest.refusedInOneLine(launch(List.of(), missing),
                "slipstream: packet " + missing + ": no such interface");
    }

    @Test
    void aProcessWithoutCapNetRawIsToldSoInOneLine() {
        XdpLaunchFailureInteropTest.refusedInOneLine(launch(NO_CAPABILITIES, veth.local()),
                "slipstream: packet " + veth.local() + ": this process lacks CAP_NET_RAW");
    }

    /** A fetch through {@code bin/slipstream run --fallback error} on {@code iface}, started under {@code prefix}. */
    private ChildProgram.Ended launch(List<String> prefix, String iface) {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(TapHttpProgram.launched(onPacket(iface, "--fallback", "error"), "fetch-now",
                "http://" + veth.peerAddress() + ":8000/data"));
        return ChildProgram.run(cmd, TapHttpProgram.PACKAGED, STEP);
    }
}
