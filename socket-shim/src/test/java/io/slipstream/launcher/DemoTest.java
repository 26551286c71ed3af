package io.slipstream.launcher;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The README's first command, in process: its exchanges, and its one option. */
class DemoTest {
    @Test
    void moreRoundTripsThanTheEchoSequenceFieldHoldsStillComeBack() throws Exception {
        // 70,000 pings: the 16-bit ICMP sequence number wraps at 65,536 and the demo must follow.
        String out = run("--count", "70000");
        assertTrue(out.contains("ICMP ping, 56-byte payload       63000 round trips"), out);
        assertTrue(out.contains("UDP ping-pong, 64 bytes          63000 round trips"), out);
        assertTrue(out.contains("UDP ping-pong RTT, Slipstream / kernel loopback"), out);
    }

    @Test
    void aCountOutOfRangeOrNotANumberIsRefusedNamingTheOption() {
        for (String bad : new String[] {"0", "9", "-5", "10000001", "many"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Demo.main(
                    new String[] {"--count", bad}));
            assertTrue(e.getMessage().startsWith("--count"), e.getMessage());
        }
    }

    private static String run(String... args) throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            Demo.main(args);
        } finally {
            System.setOut(original);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }
}
