package io.slipstream.replay;

import io.slipstream.replay.Conversation.Role;
import io.slipstream.testing.NetNs;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The engine validated against the kernel that made the recordings: each conversation replayed
 * into a Linux socket in a network namespace, the engine playing the peer with raw frames on a
 * TAP device. The kernel reproduces its own recordings within the tolerance model, so a divergence
 * the in-memory replay reports is Slipstream's, not the engine's.
 */
@Timeout(60)
class ReplayKernelTest {
    @BeforeAll
    static void needsRoot() {
        NetNs.assumeRootWith("replaying into the kernel needs root (a TAP device, a network namespace): skipped");
    }

    /**
     * Conversations whose replay into the kernel depends on more than the recording holds, with
     * the reason; the in-memory replay covers them. zero-window-probes: where the kernel's window
     * closes depends on its buffer autotuning and the pace of the engine's ACKs (real time), and
     * once its segments end elsewhere than the recording's the replayed peer's zero-window ACKs
     * no longer close the window where the kernel probes.
     */
    static final Map<String, String> KERNEL_DEPENDS_ON_TIMING = Map.of("zero-window-probes.pcap",
            "window closing point depends on buffer autotuning and the engine's pace");

    /**
     * Each conversation once, in real time: a capture both of whose ends can be replayed is
     * replayed as the client or as the server, alternately down the sorted list, which keeps the
     * suite near a minute. {@code -Dreplay.kernel.roles=all} replays every role.
     */
    static Stream<Arguments> conversations() throws Exception {
        boolean all = "all".equals(System.getProperty("replay.kernel.roles"));
        List<Arguments> each = ReplayMemoryTest.conversations()
                .filter(a -> !KERNEL_DEPENDS_ON_TIMING.containsKey((String) a.get()[0])).toList();
        List<String> files = each.stream().map(a -> (String) a.get()[0]).distinct().toList();
        return each.stream().filter(a -> {
            String file = (String) a.get()[0];
            boolean bothRoles = each.stream().filter(x -> x.get()[0].equals(file)).count() > 1;
            Role alternate = files.indexOf(file) % 2 == 0 ? Role.CLIENT : Role.SERVER;
            return all || !bothRoles || a.get()[1] == alternate;
        });
    }

    @ParameterizedTest(name = "{0} as {1}")
    @MethodSource("conversations")
    void theKernelReproducesItsOwnRecording(String file, Role role) throws Exception {
        Conversation c = Conversation.load(file);
        try (KernelTarget target = new KernelTarget(AppScript.derive(c, role).setup())) {
            ReplayMemoryTest.assertReproduces(c, role, target, "kernel");
        }
    }
}
