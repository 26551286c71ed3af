package io.slipstream.shim;

import static io.slipstream.shim.NicWakeups.STEP;
import static io.slipstream.shim.NicWakeups.assertWokeOnTheNic;
import static io.slipstream.shim.NicWakeups.connectScript;
import static io.slipstream.shim.NicWakeups.echoBesideAPipe;
import static io.slipstream.shim.NicWakeups.echoOverStacks;
import static io.slipstream.shim.NicWakeups.snapshot;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.config.Settings;
import io.slipstream.testing.StackChecks;
import io.slipstream.config.StackConfig;
import io.slipstream.interop.TapSandbox;
import io.slipstream.stack.Stack;
import io.slipstream.testing.NetNs;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A selector holding accelerated channels of a TAP stack and a kernel channel (a pipe, as
 * frameworks register beside their listener) wakes on the NIC: an event-loop echo server on the
 * stack serves a kernel client in a network namespace the test creates (198.18.12.0/24), and
 * every request reaches it through the selector's own watch of the TAP descriptor, not through
 * the interrupt thread's stall rescue nor its interrupt service. {@code slipstream.poll.usec=0}
 * so the selector never spins: each request that finds it idle must wake it from its sleep.
 * The waits, the clients and the assertion are {@link NicWakeups}', shared with the xdp test.
 */
@Timeout(120)
class TapMixedSelectorTest {
    private static final String KERNEL_IP = "198.18.12.1";
    private static final String STACK_IP = "198.18.12.2";
    private static final String KERNEL_IP_B = "198.18.13.1";
    private static final String STACK_IP_B = "198.18.13.2";
    private static final int PORT = 7100;
    private static final int REQUESTS = 200;

    private NetNs ns;
    private Stack stack;
    private StackConfig config;

    @BeforeEach
    void open() {
        NetNs.assumeRootWith("TAP tests need root (CAP_NET_ADMIN): skipped", "python3");
        ns = NetNs.create("ssmix");
        String device = "ssm" + NetNs.randomHex(8);
        config = tapConfig(device, STACK_IP);
        stack = ShimStacks.get(config).stack();
        // The device is created in our namespace; the kernel's side of it moves into the sandbox.
        TapSandbox.kernelSideIn(ns, device, KERNEL_IP + "/24");
    }

    /** A TAP stack on {@code device} at {@code address}/24 whose waiting threads never spin. */
    private static StackConfig tapConfig(String device, String address) {
        Map<String, String> m = new HashMap<>(NicWakeups.NEVER_SPIN);
        m.putAll(Map.of("slipstream.driver", "tap", "slipstream.interface", device, "slipstream.address", address + "/24"));
        return StackConfig.from(Settings.of(m));
    }

    @AfterEach
    void close() {
        StackChecks.closeChecked(stack);
        if (ns != null) {
            ns.close();
        }
    }

    @Test
    void aMixedSelectorWakesOnTheNicWithoutTheStallRescue() throws Exception {
        SlipstreamSelectorProvider provider = new SlipstreamSelectorProvider(Settings.of(Map.of()), List.of(config));
        echoBesideAPipe(provider, stack, ns, STACK_IP, PORT, REQUESTS);
    }

    @Test
    void aSelectorOverTwoStacksWakesOnBothNicsWithoutTheStallRescue() throws Exception {
        NetNs.assumeRootWith("TAP tests need root (CAP_NET_ADMIN): skipped", "python3");
        String deviceB = "ssm" + NetNs.randomHex(8);
        StackConfig configB = tapConfig(deviceB, STACK_IP_B);
        Stack stackB = ShimStacks.get(configB).stack();
        try {
            TapSandbox.kernelSideIn(ns, deviceB, KERNEL_IP_B + "/24");
            SlipstreamSelectorProvider provider =
                    new SlipstreamSelectorProvider(Settings.of(Map.of()), List.of(config, configB));
            echoOverStacks(provider, List.of(stack, stackB), List.of(STACK_IP, STACK_IP_B), ns, PORT, REQUESTS / 2);
        } finally {
            StackChecks.closeChecked(stackB);
        }
    }

    @Test
    void aBlockingWildcardAcceptWakesOnTheNicWithoutTheStallRescue() throws Exception {
        SlipstreamSelectorProvider provider = new SlipstreamSelectorProvider(Settings.of(Map.of()), List.of(config));
        int connections = 20;
        try (ServerSocketChannel server = provider.openServerSocketChannel()) {
            server.bind(new InetSocketAddress(PORT + 1));
            assertTrue(server.toString().contains("kernel accelerated"), server.toString());
            try (NetNs.Background client = ns.start("python3", "-c", connectScript(STACK_IP, PORT + 1, connections))) {
                long[][] before = new long[1][];
                for (int i = 0; i < connections; i++) {
                    try (SocketChannel accepted = server.accept()) {
                        assertTrue(((ShimSocketChannel) accepted).isAccelerated(), "connection " + i + " is on the stack");
                        if (before[0] == null) {
                            snapshot(List.of(stack), before);
                        }
                        accepted.write(ByteBuffer.wrap(new byte[] {(byte) i}));
                    }
                }
                long[][] after = new long[1][];
                snapshot(List.of(stack), after);
                NetNs.Result ended = client.await(STEP);
                assertTrue(ended.ok(), () -> "client: " + ended);
                assertEquals("connected " + connections, ended.stdout().trim());
                assertWokeOnTheNic(stack, before[0], after[0]);
            }
        }
    }
}
