package io.slipstream.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.PcapFile;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The classic pcap reader the capture tests share (stack-core test-jar). */
class PcapFileTest {

    private static final Path ORIGIN = Path.of("test.pcap");
    private static final byte[] FRAME_A = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 8, 0, 0x45};
    private static final byte[] FRAME_B = {(byte) 0xFF, (byte) 0xFE};

    /**
     * What each capture holds, read with an independent script ({@code describe.py} beside the
     * captures): records, byte total, and the first and last record headers.
     */
    private record Expected(String name, int frames, int bytes, long firstSeconds, long firstMicros, int firstLength,
                            long lastSeconds, long lastMicros, int lastLength) {}

    private static final List<Expected> KERNEL_CAPTURES = List.of(
            new Expected("kernel-http-get.pcap", 38, 22800, 1796208692L, 685935, 74, 1796208692L, 689855, 66),
            new Expected("kernel-udp-icmp.pcap", 18, 15054, 1796208698L, 653197, 142, 1796208698L, 931913, 82));

    private static final List<Expected> PUBLIC_CAPTURES = List.of(
            new Expected("tcpreplay-test.pcap", 179, 69000, 1278472579L, 466743, 93, 1278472582L, 723492, 144),
            new Expected("tcpreplay-fragroute.pcap", 20, 4778, 1278472579L, 466743, 93, 1278472580L, 873217, 1514));

    /** The repository's own captures always; the public ones too when shared/pcaps is beside it. */
    @TestFactory
    Stream<DynamicTest> readsEveryCapture() {
        Stream<DynamicTest> own = KERNEL_CAPTURES.stream().map(e -> DynamicTest.dynamicTest(e.name(),
                () -> assertFacts(e, PcapFile.capture(e.name()))));
        Stream<DynamicTest> shared = PcapFile.sharedCaptures().stream().flatMap(folder -> PUBLIC_CAPTURES.stream()
                .map(e -> DynamicTest.dynamicTest(e.name(), () -> assertFacts(e, PcapFile.read(folder.resolve(e.name()))))));
        return Stream.concat(own, shared);
    }

    private static void assertFacts(Expected expected, PcapFile pcap) {
        assertEquals(ByteOrder.LITTLE_ENDIAN, pcap.byteOrder());
        assertFalse(pcap.nanosecondTimestamps());
        assertEquals(262144, pcap.snapLength());
        assertEquals(expected.frames(), pcap.frames().size());
        PcapFile.Frame first = pcap.frames().getFirst();
        assertEquals(expected.firstSeconds() * 1_000_000_000L + expected.firstMicros() * 1000, first.timestampNanos());
        assertEquals(expected.firstLength(), first.data().length);
        assertEquals(expected.firstLength(), first.originalLength());
        assertFalse(first.truncated());
        PcapFile.Frame last = pcap.frames().getLast();
        assertEquals(expected.frames() - 1, last.index());
        assertEquals(expected.lastSeconds() * 1_000_000_000L + expected.lastMicros() * 1000, last.timestampNanos());
        assertEquals(expected.lastLength(), last.data().length);
        assertEquals(expected.bytes(), pcap.frames().stream().mapToInt(f -> f.data().length).sum());
    }

    /** A fresh clone alone runs the capture tests: nothing is looked for beside the repository. */
    @Test
    void capturesNeedNothingBesideTheRepository(@TempDir Path elsewhere) throws IOException {
        String saved = System.getProperty("user.dir");
        try {
            System.setProperty("user.dir", elsewhere.toString());
            assertTrue(PcapFile.sharedCaptures().isEmpty());
            assertEquals(38, PcapFile.capture("kernel-http-get.pcap").frames().size());
        } finally {
            System.setProperty("user.dir", saved);
        }
    }

    /** Every capture in the repository says where it came from. */
    @Test
    void everyCaptureHasItsProvenanceInTheReadme() throws IOException, URISyntaxException {
        Path folder = Path.of(PcapFile.class.getResource(PcapFile.CAPTURES).toURI());
        String readme = Files.readString(folder.resolve("README.md"));
        try (Stream<Path> files = Files.list(folder)) {
            List<String> captures = files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".pcap")).toList();
            assertEquals(KERNEL_CAPTURES.stream().map(Expected::name).sorted().toList(), captures.stream().sorted().toList());
            for (String capture : captures) {
                assertTrue(readme.contains("| " + capture + " |"), capture + " is not described in the README");
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"BIG_ENDIAN, false", "LITTLE_ENDIAN, false", "BIG_ENDIAN, true", "LITTLE_ENDIAN, true"})
    void readsBothByteOrdersAndResolutions(String orderName, boolean nanos) throws IOException {
        ByteOrder order = orderName.equals("BIG_ENDIAN") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        byte[] file = pcap(order, nanos ? 0xA1B23C4D : 0xA1B2C3D4, 1, 65535,
                record(order, 7, 999, FRAME_A, 60), record(order, 8, 1, FRAME_B, 2));
        PcapFile pcap = PcapFile.parse(ORIGIN, file);
        assertEquals(order, pcap.byteOrder());
        assertEquals(nanos, pcap.nanosecondTimestamps());
        assertEquals(65535, pcap.snapLength());
        assertEquals(2, pcap.frames().size());
        PcapFile.Frame a = pcap.frames().get(0);
        assertArrayEquals(FRAME_A, a.data());
        assertEquals(7_000_000_000L + (nanos ? 999 : 999_000), a.timestampNanos());
        assertEquals(60, a.originalLength());
        assertTrue(a.truncated());
        PcapFile.Frame b = pcap.frames().get(1);
        assertArrayEquals(FRAME_B, b.data());
        assertEquals(1, b.index());
        assertEquals(8_000_000_000L + (nanos ? 1 : 1_000), b.timestampNanos());
    }

    @Test
    void rejectsOtherFormatsAndLinkTypes() {
        ByteOrder le = ByteOrder.LITTLE_ENDIAN;
        assertRejected(pcap(le, 0x0A0D0D0A, 1, 65535), "not a classic pcap file");
        assertRejected(pcap(le, 0xA1B2C3D4, 101, 65535), "link type 101");
        assertRejected(pcap(le, 0xA1B2C3D4, 1 | 0x1000_0000, 65535), "Ethernet without FCS");
        assertRejected(new byte[10], "too short");
    }

    @Test
    void rejectsDamagedRecords() {
        ByteOrder le = ByteOrder.LITTLE_ENDIAN;
        byte[] good = pcap(le, 0xA1B2C3D4, 1, 65535, record(le, 1, 2, FRAME_A, FRAME_A.length));
        assertRejected(Arrays.copyOf(good, good.length - 1), "cut short");
        assertRejected(Arrays.copyOf(good, 24 + 10), "truncated record header");
        byte[] huge = good.clone();
        ByteBuffer.wrap(huge).order(le).putInt(24 + 8, -1);
        assertRejected(huge, "captured bytes");
    }

    @Test
    void missingCaptureIsAClearFailure() {
        IllegalStateException missing = assertThrows(IllegalStateException.class,
                () -> PcapFile.capture("no-such-capture.pcap"));
        assertTrue(missing.getMessage().contains("no-such-capture.pcap is not on the class path"), missing.getMessage());
    }

    private static void assertRejected(byte[] file, String messagePart) {
        IOException e = assertThrows(IOException.class, () -> PcapFile.parse(ORIGIN, file));
        assertTrue(e.getMessage().contains(messagePart), e.getMessage());
        assertTrue(e.getMessage().startsWith(ORIGIN.toString()), e.getMessage());
    }

    private static byte[] pcap(ByteOrder order, int magic, int linkType, int snapLength, byte[]... records) {
        int length = 24 + Arrays.stream(records).mapToInt(r -> r.length).sum();
        ByteBuffer b = ByteBuffer.allocate(length).order(order);
        b.putInt(magic).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0).putInt(snapLength).putInt(linkType);
        for (byte[] r : records) {
            b.put(r);
        }
        return b.array();
    }

    private static byte[] record(ByteOrder order, int seconds, int fraction, byte[] data, int originalLength) {
        return ByteBuffer.allocate(16 + data.length).order(order)
                .putInt(seconds).putInt(fraction).putInt(data.length).putInt(originalLength).put(data).array();
    }
}
