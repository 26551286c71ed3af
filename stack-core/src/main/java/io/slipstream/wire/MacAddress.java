package io.slipstream.wire;

import java.util.HexFormat;
import java.util.random.RandomGenerator;

/** MAC addresses as the low 48 bits of a long: compared and hashed with no object per frame. */
public final class MacAddress {
    private MacAddress() {}

    public static final long BROADCAST = 0xFFFF_FFFF_FFFFL;
    public static final long ZERO = 0L;

    /** Parses {@code 02:00:5e:10:00:01} (colons or dashes). */
    public static long parse(String text) {
        String[] parts = text.trim().split("[:-]");
        if (parts.length != 6) {
            throw new IllegalArgumentException("not a MAC address: '" + text + "'");
        }
        long mac = 0;
        for (String p : parts) {
            if (p.length() != 2) {
                throw new IllegalArgumentException("not a MAC address: '" + text + "'");
            }
            try {
                mac = (mac << 8) | HexFormat.fromHexDigits(p);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("not a MAC address: '" + text + "'", e);
            }
        }
        return mac;
    }

    public static String format(long mac) {
        StringBuilder sb = new StringBuilder(17);
        for (int shift = 40; shift >= 0; shift -= 8) {
            if (shift != 40) {
                sb.append(':');
            }
            sb.append(HexFormat.of().toHexDigits((byte) (mac >>> shift)));
        }
        return sb.toString();
    }

    /** A random unicast, locally administered address (IEEE 802: bit 1 set, bit 0 clear). */
    public static long randomLocal(RandomGenerator random) {
        long mac = random.nextLong() & 0xFFFF_FFFF_FFFFL;
        return (mac & ~(0x01L << 40)) | (0x02L << 40);
    }

    public static boolean isMulticast(long mac) {
        return (mac & (0x01L << 40)) != 0;
    }
}
