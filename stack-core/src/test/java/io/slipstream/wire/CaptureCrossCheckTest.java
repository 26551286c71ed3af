package io.slipstream.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.PcapFile;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Real traffic: every frame of the kernel's captures kept in the repository, and of the public
 * tcpreplay captures when they are beside it, is decoded by our codecs (which
 * must never throw) and by Pcap4J, and both must see the same IPv4, UDP and ICMP packets with
 * the same fields and the same checksum verdicts. The captures were taken on the sending
 * host, so some checksums in them may be wrong (offload); what matters is that we agree.
 */
class CaptureCrossCheckTest {

    /**
     * The expected counts were taken from the captures with an independent script
     * ({@code describe.py} beside the captures): frames, frames with EtherType 0x0800, of
     * those the unfragmented packets of protocol 17 and 1, and how many IPv4 header, UDP and ICMP
     * checksums do not verify.
     */
    private record Expected(String capture, int frames, Counts counts) {}

    private static final List<Expected> KERNEL_CAPTURES = List.of(
            new Expected("kernel-http-get.pcap", 38, new Counts(38, 0, 0, 0, 0, 0)),
            new Expected("kernel-udp-icmp.pcap", 18, new Counts(18, 3, 3, 0, 0, 0)));

    private static final List<Expected> PUBLIC_CAPTURES = List.of(
            new Expected("tcpreplay-test.pcap", 179, new Counts(150, 28, 12, 2, 1, 1)),
            new Expected("tcpreplay-fragroute.pcap", 20, new Counts(20, 0, 1, 2, 0, 1)));

    /** The repository's own captures always; the public ones too when shared/pcaps is beside it. */
    @TestFactory
    Stream<DynamicTest> ourCodecsAgreeWithPcap4jOnEveryFrame() {
        Stream<DynamicTest> own = KERNEL_CAPTURES.stream().map(e -> DynamicTest.dynamicTest(e.capture(),
                () -> crossCheck(e, PcapFile.capture(e.capture()))));
        Stream<DynamicTest> shared = PcapFile.sharedCaptures().stream().flatMap(folder -> PUBLIC_CAPTURES.stream()
                .map(e -> DynamicTest.dynamicTest(e.capture(),
                        () -> crossCheck(e, PcapFile.read(folder.resolve(e.capture()))))));
        return Stream.concat(own, shared);
    }

    private static void crossCheck(Expected expected, PcapFile pcap) {
        String capture = expected.capture();
        assertEquals(expected.frames(), pcap.frames().size());
        List<Decoded> ours = new ArrayList<>();
        List<Decoded> theirs = new ArrayList<>();
        for (PcapFile.Frame frame : pcap.frames()) {
            byte[] data = frame.data();
            String where = capture + " frame " + frame.index() + ": " + HexFormat.of().formatHex(data);
            Decoded o;
            try (Arena arena = Arena.ofConfined()) {
                o = FrameDecoder.decode(Frames.copyOf(arena, data), data.length);
            }
            Decoded t = Pcap4jDecoder.decode(data);
            ours.add(o);
            theirs.add(t);
            assertEquals(t.eth(), o.eth(), where);
            assertEquals(t.ip(), o.ip(), where);
            assertEquals(t.udp(), o.udp(), where);
            assertEquals(t.icmp(), o.icmp(), where);
            if (o.ip() != null) {
                assertTrue(o.error() == null || o.error().name().endsWith("_CHECKSUM"),
                        () -> where + ": real traffic is well formed but we report " + o.error());
            }
        }
        Counts counted = Counts.of(ours);
        assertEquals(Counts.of(theirs), counted);
        assertEquals(expected.counts(), counted);
    }

    /** Packets seen and, of those, how many had a checksum that does not verify. */
    private record Counts(int ipv4, int udp, int icmp, int badIp, int badUdp, int badIcmp) {
        static Counts of(List<Decoded> frames) {
            return new Counts(
                    count(frames, d -> d.ip() != null), count(frames, d -> d.udp() != null),
                    count(frames, d -> d.icmp() != null), count(frames, d -> d.ip() != null && !d.ip().checksumValid()),
                    count(frames, d -> d.udp() != null && !d.udp().checksumValid()),
                    count(frames, d -> d.icmp() != null && !d.icmp().checksumValid()));
        }

        private static int count(List<Decoded> frames, Predicate<Decoded> p) {
            return (int) frames.stream().filter(p).count();
        }
    }
}
