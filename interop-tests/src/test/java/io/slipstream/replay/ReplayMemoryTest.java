package io.slipstream.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.slipstream.replay.Conversation.Role;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every conversation of the replay corpus (kernel-to-kernel recordings, see
 * src/test/resources/replay/README.md) replayed into a Slipstream stack on the in-memory driver,
 * in each role the capture allows: the stack must send what the kernel sent, within the
 * tolerance model ({@link ToleranceModel}).
 */
class ReplayMemoryTest {
    /**
     * Replays in which Slipstream differs from the recording in a way docs/COMPATIBILITY.md
     * ("Against the Linux kernel's own recordings") explains, each with exactly the divergences
     * it shows: any other divergence still fails, and so does the listed one disappearing (then
     * the entry goes). Keyed by capture file and the live end's role.
     */
    static final Map<String, List<String>> KNOWN = Map.of(
            // RACK marks the hole lost once three segments above it are SACKed (RFC 8985 §6.2,
            // reo_wnd 0 at DupThresh); in the recording the reordered segment filled it first
            "reordering.client.pcap/CLIENT", List.of(
                    "packet #- (live #-) bytes retransmitted (relative SEQ ranges): expected [], got [2897-4345]"),
            // recorded with the kernel's tail loss probes off (tcp_early_retrans=0); Slipstream
            // probes the tail as the window closes, as the kernel did with them on
            "zero-window-probes.pcap/CLIENT", List.of(
                    "packet #- (live #-) bytes retransmitted (relative SEQ ranges): expected [], got [73849-75297, 151185-152633, 162769-163841]",
                    "packet #- (live #-) keepalive or window probes sent: expected 2, got 0"));

    static Stream<Arguments> conversations() throws IOException, URISyntaxException {
        Path dir = Path.of(ReplayMemoryTest.class.getResource("/replay").toURI());
        List<String> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".pcap")).sorted().toList();
        }
        assertFalse(files.isEmpty(), "the corpus is on the class path");
        // -Dreplay.only=NAME replays one capture (the file name without .pcap), for debugging.
        String only = System.getProperty("replay.only", "");
        return files.stream().filter(f -> only.isEmpty() || f.startsWith(only + ".")).flatMap(f -> {
            try {
                Conversation c = Conversation.load(f);
                return c.playableRoles().stream().map(r -> Arguments.of(f, r));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @ParameterizedTest(name = "{0} as {1}")
    @MethodSource("conversations")
    void slipstreamReproducesTheKernel(String file, Role role) throws Exception {
        Conversation c = Conversation.load(file);
        try (MemoryTarget target = new MemoryTarget(AppScript.derive(c, role).setup())) {
            Replayer.Result r = Replayer.replay(c, role, target);
            r.writeReport("memory");
            List<String> got = r.divergences().stream().map(Divergence::toString).toList();
            assertEquals(KNOWN.getOrDefault(file + "/" + role, List.of()), got, r::report);
        }
    }

    /**
     * The replay catches a stack that behaves otherwise than the kernel did: here one whose SACK
     * is turned off although the kernel's SYN-ACK offered it (RFC 2018 §2). The divergence names
     * the recorded SYN-ACK, the field and both values, and nothing else diverges.
     */
    @Test
    void aStackThatNegotiatesOtherwiseIsCaughtAtItsSynAck() throws Exception {
        Conversation c = Conversation.load("request-response.pcap");
        AppScript.Setup s = AppScript.derive(c, Role.SERVER).setup();
        AppScript.Setup noSack = new AppScript.Setup(s.listens(), s.timestamps(), s.windowScaling(), false, s.mtu(),
                s.noDelay(), s.receiveBufferBytes(), s.keepAliveIdleMs(), s.keepAliveIntervalMs(), s.firstReadIndex());
        try (MemoryTarget target = new MemoryTarget(noSack)) {
            Replayer.Result r = Replayer.replay(c, Role.SERVER, target);
            ReplayPacket synAck = c.sentBy(Role.SERVER).getFirst();
            assertEquals(List.of(new Divergence(synAck.frame(), 1, "SACK-permitted option", "true", "false")),
                    r.divergences(), r::report);
        }
    }

    /**
     * Replays {@code c} into {@code target} playing {@code role}, writes the report under
     * target/replay-reports/{@code driver}, and fails with it unless nothing diverged.
     */
    static void assertReproduces(Conversation c, Role role, LiveTarget target, String driver) throws Exception {
        Replayer.Result r = Replayer.replay(c, role, target);
        r.writeReport(driver);
        assertEquals(List.of(), r.divergences(), r::report);
    }
}
