package io.slipstream.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * The ethtool ioctl (SIOCETHTOOL, linux/sockios.h and linux/ethtool.h): what a driver says about
 * its channels, as {@code ethtool -l} shows them. An interface name is looked up in the network
 * namespace of the socket the call is made on, which is the calling thread's: unlike
 * {@code /sys/class/net}, whose view is fixed by the namespace sysfs was mounted in, it sees an
 * interface of another namespace from a thread that entered it ({@link NetNamespace}).
 */
public final class Ethtool {
    /** The ethtool ioctl (linux/sockios.h). */
    static final long SIOCETHTOOL = 0x8946;
    /** Get the channel counts: struct ethtool_channels (linux/ethtool.h). */
    static final int ETHTOOL_GCHANNELS = 0x3c;
    /** struct ifreq: ifr_name[IFNAMSIZ], then a union holding ifr_data, a pointer. */
    private static final int IFNAMSIZ = 16;
    private static final long IFREQ_SIZE = 40;
    /**
     * struct ethtool_channels, nine u32: cmd, max_rx, max_tx, max_other, max_combined, rx_count,
     * tx_count, other_count, combined_count.
     */
    private static final long CHANNELS_SIZE = 9 * Integer.BYTES;
    private static final long RX_COUNT = 5 * Integer.BYTES;
    private static final long COMBINED_COUNT = 8 * Integer.BYTES;

    private Ethtool() {}

    /**
     * The receive queues the driver of {@code ifname} has in use: its receive-only channels plus
     * its combined ones (ETHTOOL_GCHANNELS), as the kernel counts {@code real_num_rx_queues};
     * the negated errno when it cannot say ({@link Errno#EOPNOTSUPP}: the driver does not report
     * channels; ENODEV: no such interface in this thread's namespace).
     */
    public static int rxQueues(String ifname) {
        try (Arena arena = Arena.ofConfined()) {
            Libc libc = new Libc(arena);
            Sockets sockets = new Sockets(libc);
            int fd = sockets.socket(Sockets.AF_INET, Sockets.SOCK_DGRAM | Sockets.SOCK_CLOEXEC, 0);
            if (fd < 0) {
                return -sockets.errno();
            }
            try {
                MemorySegment channels = arena.allocate(CHANNELS_SIZE, 8);
                channels.set(JAVA_INT, 0, ETHTOOL_GCHANNELS);
                MemorySegment ifreq = arena.allocate(IFREQ_SIZE, 8);
                byte[] name = ifname.getBytes(StandardCharsets.US_ASCII);
                if (name.length >= IFNAMSIZ) {
                    return -Errno.ENODEV;
                }
                MemorySegment.copy(name, 0, ifreq, JAVA_BYTE, 0, name.length);
                ifreq.set(ADDRESS, IFNAMSIZ, channels);
                if (libc.ioctl(fd, SIOCETHTOOL, ifreq) < 0) {
                    return -libc.errno();
                }
                return channels.get(JAVA_INT, RX_COUNT) + channels.get(JAVA_INT, COMBINED_COUNT);
            } finally {
                libc.close(fd);
            }
        }
    }
}
