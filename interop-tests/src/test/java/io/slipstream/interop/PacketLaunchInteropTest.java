package io.slipstream.interop;

import io.slipstream.testing.NetNs;
import io.slipstream.testing.VethPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code bin/slipstream run --driver packet --interface IF --address CIDR} where the driver
 * cannot open (a missing interface, a process without CAP_NET_RAW): the launcher says so in one
 * line before the program starts. (What runs on it, the drop-in suite, is
 * {@link DropInInteropTest}'s packet run.)
 */
@Timeout(300)
class PacketLaunchInteropTest {
    private static final Duration STEP = Duration.ofSeconds(90);
    private static final List<String> NO_CAPABILITIES = List.of("setpriv", "--inh-caps=-all", "--bounding-set=-all");

    private VethPair veth;
    private String stackAddress;

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
        veth.close();
    }

    private List<String> onPacket(String iface, String... more) {
        List<String> options = new ArrayList<>(List.of("--driver", "packet", "--interface", iface, "--address",
                stackAddress + "/24"));
        options.addAll(List.of(more));
        return options;
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
