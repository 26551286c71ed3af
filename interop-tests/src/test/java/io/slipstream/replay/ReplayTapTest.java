package io.slipstream.replay;

import io.slipstream.replay.Conversation.Role;
import io.slipstream.testing.NetNs;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Conversations of the corpus replayed into a Slipstream stack on the TAP driver, in real time,
 * its frames and the engine's crossing the kernel's TAP and bridge code: one of each kind (TCP
 * both roles with data both ways, a reset, a half-close, loss with SACK recovery, UDP in
 * fragments). The whole corpus runs over the in-memory driver ({@link ReplayMemoryTest}); over
 * TAP only the time differs, and real time costs CI seconds per conversation.
 */
@Timeout(60)
class ReplayTapTest {
    @BeforeAll
    static void needsRoot() {
        NetNs.assumeRootWith("replaying over TAP needs root (TAP devices, a network namespace): skipped");
    }

    @ParameterizedTest
    @ValueSource(strings = {"request-response.pcap:CLIENT", "request-response.pcap:SERVER", "rst-from-server.pcap:CLIENT",
            "half-close-client.pcap:SERVER", "loss-sack-recovery.server.pcap:SERVER", "udp-fragmented.pcap:CLIENT",
            "udp-fragmented.pcap:SERVER"})
    void slipstreamOnTapReproducesTheKernel(String fileAndRole) throws Exception {
        String[] parts = fileAndRole.split(":");
        Conversation c = Conversation.load(parts[0]);
        Role role = Role.valueOf(parts[1]);
        try (TapTarget target = new TapTarget(AppScript.derive(c, role).setup())) {
            ReplayMemoryTest.assertReproduces(c, role, target, "tap");
        }
    }
}
