package io.slipstream.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.PcapFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The classic pcap reader the capture tests share (stack-core test-jar). */
class PcapFileTest {

    private static final Path ORIGIN = Path.of("test.pcap");
    private static final byte[] FRAME_A = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 8, 0, 0x45};
    private static final byte[] FRAME_B = {(byte) 0xFF, (byte) 0xFE};

    @Test
    void readsThePublicCaptures() throws IOException {
        PcapFile test = PcapFile.read(PcapFile.sharedCapture("tcpreplay-test.pcap"));
        assertEquals(ByteOrder.LITTLE_ENDIAN, test.byteOrder());
        assertFalse(test.nanosecondTimestamps());
        assertEquals(262144, test.snapLength());
        assertEquals(179, test.frames().size());
        // First and last record headers and the byte total, read with an independent script.
        PcapFile.Frame first = test.frames().getFirst();
        assertEquals(1278472579L * 1_000_000_000L + 466743L * 1000, first.timestampNanos());
        assertEquals(93, first.data().length);
        assertEquals(93, first.originalLength());
        assertFalse(first.truncated());
        PcapFile.Frame last = test.frames().getLast();
        assertEquals(178, last.index());
        assertEquals(1278472582L * 1_000_000_000L + 723492L * 1000, last.timestampNanos());
        assertEquals(144, last.data().length);
        assertEquals(69000, test.frames().stream().mapToInt(f -> f.data().length).sum());

        PcapFile fragroute = PcapFile.read(PcapFile.sharedCapture("tcpreplay-fragroute.pcap"));
        assertEquals(20, fragroute.frames().size());
        assertEquals(4778, fragroute.frames().stream().mapToInt(f -> f.data().length).sum());
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
    void missingCaptureIsAClearFailure(@TempDir Path elsewhere) {
        IllegalStateException missing = assertThrows(IllegalStateException.class,
                () -> PcapFile.sharedCapture("no-such-capture.pcap"));
        assertTrue(missing.getMessage().contains("no-such-capture.pcap is missing"), missing.getMessage());

        String saved = System.getProperty("user.dir");
        try {
            System.setProperty("user.dir", elsewhere.toString());
            IllegalStateException noFolder = assertThrows(IllegalStateException.class,
                    () -> PcapFile.sharedCapture("tcpreplay-test.pcap"));
            assertTrue(noFolder.getMessage().contains("no shared/pcaps folder"), noFolder.getMessage());
        } finally {
            System.setProperty("user.dir", saved);
        }
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
