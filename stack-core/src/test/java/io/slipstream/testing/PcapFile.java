package io.slipstream.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A reader for classic pcap files (not pcapng) holding Ethernet frames, for tests that replay
 * or inspect captures. It understands both byte orders and both timestamp resolutions
 * (magic 0xA1B2C3D4 for microseconds, 0xA1B23C4D for nanoseconds) and rejects anything
 * else with an {@link IOException} that says what it found.
 *
 * <p>Format: a 24-byte global header (magic, version, zone, sigfigs, snaplen, link type),
 * then records of a 16-byte header (seconds, sub-second, captured length, original length)
 * followed by the captured bytes.
 */
public final class PcapFile {
    /** LINKTYPE_ETHERNET: IEEE 802.3 Ethernet frames without preamble and FCS. */
    public static final int LINKTYPE_ETHERNET = 1;

    private static final int MAGIC_MICROS = 0xA1B2C3D4;
    private static final int MAGIC_NANOS = 0xA1B23C4D;
    private static final int GLOBAL_HEADER_LENGTH = 24;
    private static final int RECORD_HEADER_LENGTH = 16;
    /** Larger than any snap length tools write (262144); a bigger record means a corrupt file. */
    private static final int MAX_RECORD_LENGTH = 1 << 20;

    /** One captured frame: its time, its length on the wire, and the bytes captured of it. */
    public record Frame(int index, long timestampNanos, int originalLength, byte[] data) {
        public boolean truncated() {
            return data.length < originalLength;
        }
    }

    private final Path path;
    private final ByteOrder order;
    private final boolean nanosecond;
    private final int snapLength;
    private final List<Frame> frames;

    private PcapFile(Path path, ByteOrder order, boolean nanosecond, int snapLength, List<Frame> frames) {
        this.path = path;
        this.order = order;
        this.nanosecond = nanosecond;
        this.snapLength = snapLength;
        this.frames = frames;
    }

    /** Reads the whole file; the captures used in tests are small. */
    public static PcapFile read(Path path) throws IOException {
        return parse(path, Files.readAllBytes(path));
    }

    /** Parses pcap bytes; {@code origin} only names the source in error messages. */
    public static PcapFile parse(Path origin, byte[] bytes) throws IOException {
        if (bytes.length < GLOBAL_HEADER_LENGTH) {
            throw new IOException(origin + ": " + bytes.length + " bytes is too short for a pcap global header");
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.BIG_ENDIAN);
        int magic = buf.getInt(0);
        ByteOrder order = ByteOrder.BIG_ENDIAN;
        if (magic != MAGIC_MICROS && magic != MAGIC_NANOS) {
            order = ByteOrder.LITTLE_ENDIAN;
            magic = Integer.reverseBytes(magic);
            if (magic != MAGIC_MICROS && magic != MAGIC_NANOS) {
                throw new IOException(String.format(
                        "%s: not a classic pcap file (magic %08x); pcapng and other formats are not supported",
                        origin, buf.getInt(0)));
            }
        }
        buf.order(order);
        boolean nanosecond = magic == MAGIC_NANOS;
        int snapLength = buf.getInt(16);
        // The low 16 bits are the link type; the top bits flag frames that carry their FCS,
        // which the codecs would misread as payload, so any of them set is rejected too.
        int linkType = buf.getInt(20);
        if (linkType != LINKTYPE_ETHERNET) {
            throw new IOException(String.format(
                    "%s: link type %d (field 0x%08x) is not supported (only %d, Ethernet without FCS)",
                    origin, linkType & 0xFFFF, linkType, LINKTYPE_ETHERNET));
        }
        List<Frame> frames = new ArrayList<>();
        int pos = GLOBAL_HEADER_LENGTH;
        while (pos < bytes.length) {
            if (bytes.length - pos < RECORD_HEADER_LENGTH) {
                throw new IOException(origin + ": record " + frames.size() + " at byte " + pos
                        + " has a truncated record header");
            }
            long seconds = buf.getInt(pos) & 0xFFFF_FFFFL;
            long fraction = buf.getInt(pos + 4) & 0xFFFF_FFFFL;
            int captured = buf.getInt(pos + 8);
            int original = buf.getInt(pos + 12);
            if (captured < 0 || captured > MAX_RECORD_LENGTH) {
                throw new IOException(origin + ": record " + frames.size() + " at byte " + pos
                        + " claims " + Integer.toUnsignedString(captured) + " captured bytes");
            }
            pos += RECORD_HEADER_LENGTH;
            if (bytes.length - pos < captured) {
                throw new IOException(origin + ": record " + frames.size() + " at byte " + pos
                        + " is cut short: " + captured + " bytes claimed, " + (bytes.length - pos) + " left");
            }
            byte[] data = new byte[captured];
            System.arraycopy(bytes, pos, data, 0, captured);
            pos += captured;
            long nanos = seconds * 1_000_000_000L + (nanosecond ? fraction : fraction * 1_000L);
            frames.add(new Frame(frames.size(), nanos, original, data));
        }
        return new PcapFile(origin, order, nanosecond, snapLength, List.copyOf(frames));
    }

    /** The folder of this class path that holds the project's own captures (test resources). */
    public static final String CAPTURES = "/pcaps/";

    /**
     * A capture kept in the repository, under {@code src/test/resources/pcaps} of stack-core
     * (its README says how each was made). Read from the class path, so it works from the
     * test-jar too and needs nothing beside the repository. A missing capture is an error.
     */
    public static PcapFile capture(String fileName) throws IOException {
        try (var in = PcapFile.class.getResourceAsStream(CAPTURES + fileName)) {
            if (in == null) {
                throw new IllegalStateException("capture " + fileName + " is not on the class path under "
                        + CAPTURES + " (stack-core/src/test/resources/pcaps)");
            }
            return parse(Path.of(fileName), in.readAllBytes());
        }
    }

    /**
     * The public captures of the project's {@code shared/pcaps} folder, when the repository sits
     * beside it (as on the developers' machines and in CI); empty otherwise. They add real
     * traffic from other hosts to the tests that read every capture; no test depends on them.
     */
    public static Optional<Path> sharedCaptures() {
        Path start = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        for (Path dir = start; dir != null; dir = dir.getParent()) {
            Path pcaps = dir.resolve("shared").resolve("pcaps");
            if (Files.isDirectory(pcaps)) {
                return Optional.of(pcaps);
            }
        }
        return Optional.empty();
    }

    public Path path() {
        return path;
    }

    /** The byte order the file was written in. */
    public ByteOrder byteOrder() {
        return order;
    }

    public boolean nanosecondTimestamps() {
        return nanosecond;
    }

    public int snapLength() {
        return snapLength;
    }

    public List<Frame> frames() {
        return frames;
    }
}
