package io.slipstream.driver.tap;

import io.slipstream.linux.Errno;
import io.slipstream.linux.Libc;
import io.slipstream.nic.NicException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * Attaches a file descriptor to a Linux TAP device (Documentation/networking/tuntap.rst):
 * open /dev/net/tun, then TUNSETIFF with the name, which creates the device if it does not
 * exist. The device lives as long as the descriptor (it is not made persistent).
 */
final class TapDevice {
    private TapDevice() {}

    static final String CLONE_DEVICE = "/dev/net/tun";
    /** IFNAMSIZ, including the terminating NUL (linux/if.h). */
    static final int IFNAMSIZ = 16;

    /** _IOW('T', 202, int) in the asm-generic ioctl encoding (x86-64, AArch64). */
    private static final long TUNSETIFF = 0x400454CAL;
    private static final short IFF_TAP = 0x0002;
    /** Frames without the 4-byte packet-information prefix: exactly the Ethernet frame. */
    private static final short IFF_NO_PI = 0x1000;
    /** struct ifreq on 64-bit Linux: char ifr_name[16], then a 24-byte union (ifr_flags first). */
    private static final int IFREQ_SIZE = 40;
    private static final int IFREQ_FLAGS = 16;

    /**
     * Opens the device {@code name} in non-blocking mode; returns its descriptor. Every failure
     * is a {@link NicException} naming the device, the step, the errno and the likely cause.
     */
    static int open(Libc libc, String name) {
        byte[] nameBytes = validName(name);
        int fd = libc.open(CLONE_DEVICE, Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
        if (fd < 0) {
            int errno = libc.errno();
            throw new NicException(kindOf(errno), "tap " + name + ": " + libc.failure("open " + CLONE_DEVICE) + switch (errno) {
                case Errno.ENOENT, Errno.ENODEV, Errno.ENXIO -> ": no TUN/TAP support (is the tun module loaded?)";
                case Errno.EACCES, Errno.EPERM -> ": this process may not open it (TAP devices need root,"
                        + " or CAP_NET_ADMIN and access to " + CLONE_DEVICE + ")";
                default -> "";
            });
        }
        try (Arena temp = Arena.ofConfined()) {
            MemorySegment ifreq = temp.allocate(IFREQ_SIZE);
            MemorySegment.copy(nameBytes, 0, ifreq, ValueLayout.JAVA_BYTE, 0, nameBytes.length);
            ifreq.set(ValueLayout.JAVA_SHORT, IFREQ_FLAGS, (short) (IFF_TAP | IFF_NO_PI));
            if (libc.ioctl(fd, TUNSETIFF, ifreq) < 0) {
                int errno = libc.errno();
                String failure = libc.failure("TUNSETIFF");
                libc.close(fd);
                throw new NicException(kindOf(errno), "tap " + name + ": " + failure + switch (errno) {
                    case Errno.EPERM -> ": creating or attaching TAP device '" + name
                            + "' needs CAP_NET_ADMIN (run as root or grant the capability)";
                    case Errno.EINVAL -> ": '" + name + "' exists but is not a TAP device, or the name is not valid";
                    case Errno.EBUSY -> ": TAP device '" + name + "' is already attached to another descriptor";
                    default -> "";
                });
            }
            String granted = ifreq.getString(0, StandardCharsets.UTF_8);
            if (!granted.equals(name)) {
                libc.close(fd);
                throw new NicException("tap " + name + ": the kernel attached device '" + granted + "' instead");
            }
        }
        return fd;
    }

    /**
     * The name as the kernel wants it (dev_valid_name): 1..15 bytes, not "." or "..", no '/',
     * ':' or white space; '%' is refused too, since the kernel would treat it as a pattern.
     */
    static byte[] validName(String name) {
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        if (bytes.length >= IFNAMSIZ) {
            throw new NicException(NicException.Kind.INVALID_CONFIG, "tap " + name + ": interface names have at most " + (IFNAMSIZ - 1)
                    + " bytes, this one has " + bytes.length);
        }
        if (name.equals(".") || name.equals("..")) {
            throw new NicException(NicException.Kind.INVALID_CONFIG, "tap " + name + ": not a valid interface name");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '/' || c == ':' || c == '%' || c == 0 || Character.isWhitespace(c)) {
                throw new NicException(NicException.Kind.INVALID_CONFIG, "tap " + name + ": interface names may not contain '" + c + "'");
            }
        }
        return bytes;
    }

    /** The sort of failure an errno from opening or attaching the device means. */
    private static NicException.Kind kindOf(int errno) {
        return switch (errno) {
            case Errno.EACCES, Errno.EPERM -> NicException.Kind.NOT_PERMITTED;
            case Errno.EBUSY -> NicException.Kind.BUSY;
            case Errno.ENOENT, Errno.ENODEV, Errno.ENXIO -> NicException.Kind.NOT_FOUND;
            case Errno.EINVAL -> NicException.Kind.INVALID_CONFIG;
            default -> NicException.Kind.FAILED;
        };
    }
}
