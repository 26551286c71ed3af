package io.slipstream.linux;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Encodes and decodes struct sockaddr_in, sockaddr_in6 and sockaddr_un (Linux layouts, family
 * in host order, port in network order). An IPv4 address on an IPv6 socket travels as an
 * IPv4-mapped address (RFC 4291 §2.5.5.2) and is decoded back to an {@link Inet4Address}, as
 * the JDK does for dual-stack sockets.
 */
public final class SockAddr {
    private SockAddr() {}

    /** Large enough for any of the three (sockaddr_un is the largest: 110 bytes). */
    public static final int MAX_LENGTH = 112;
    private static final int IN_LENGTH = 16;
    private static final int IN6_LENGTH = 28;
    private static final int UN_PATH_MAX = 108;
    private static final java.lang.foreign.ValueLayout.OfShort PORT = JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN);

    /**
     * Writes {@code address} for a socket of {@code family} into {@code out} (at least
     * {@link #MAX_LENGTH} bytes) and returns its length, or -1 when the address cannot be
     * expressed in that family (an IPv6 address on an IPv4 socket).
     */
    public static int encode(SocketAddress address, int family, MemorySegment out) {
        out.asSlice(0, MAX_LENGTH).fill((byte) 0);
        if (address instanceof UnixDomainSocketAddress unix) {
            if (family != Sockets.AF_UNIX) {
                return -1;
            }
            byte[] path = unix.getPath().toString().getBytes(StandardCharsets.UTF_8);
            if (path.length >= UN_PATH_MAX) {
                return -1;
            }
            out.set(JAVA_SHORT, 0, (short) Sockets.AF_UNIX);
            MemorySegment.copy(path, 0, out, JAVA_BYTE, 2, path.length);
            // An unnamed (empty) address is the family alone, so the kernel autobinds.
            return path.length == 0 ? 2 : 2 + path.length + 1;
        }
        InetSocketAddress inet = (InetSocketAddress) address;
        InetAddress ip = inet.getAddress();
        int port = inet.getPort();
        if (family == Sockets.AF_INET) {
            if (!(ip instanceof Inet4Address)) {
                byte[] mapped = ip.getAddress();
                if (!isV4Mapped(mapped)) {
                    return -1;
                }
                ip = v4Of(mapped);
            }
            out.set(JAVA_SHORT, 0, (short) Sockets.AF_INET);
            out.set(PORT, 2, (short) port);
            MemorySegment.copy(ip.getAddress(), 0, out, JAVA_BYTE, 4, 4);
            return IN_LENGTH;
        }
        out.set(JAVA_SHORT, 0, (short) Sockets.AF_INET6);
        out.set(PORT, 2, (short) port);
        byte[] bytes = ip.getAddress();
        if (bytes.length == 4 && ip.isAnyLocalAddress()) {
            // 0.0.0.0 on a dual-stack socket means every address of both families: ::, as the JDK binds.
            return IN6_LENGTH;
        }
        if (bytes.length == 4) {
            out.set(JAVA_BYTE, 8 + 10, (byte) 0xFF);
            out.set(JAVA_BYTE, 8 + 11, (byte) 0xFF);
            MemorySegment.copy(bytes, 0, out, JAVA_BYTE, 8 + 12, 4);
        } else {
            MemorySegment.copy(bytes, 0, out, JAVA_BYTE, 8, 16);
            if (ip instanceof Inet6Address v6) {
                out.set(JAVA_INT, 24, v6.getScopeId());
            }
        }
        return IN6_LENGTH;
    }

    /** Reads a socket address the kernel wrote ({@code length} bytes); null if its family is unknown. */
    public static SocketAddress decode(MemorySegment in, int length) {
        int family = in.get(JAVA_SHORT, 0) & 0xFFFF;
        int port = in.get(PORT, 2) & 0xFFFF;
        try {
            if (family == Sockets.AF_INET) {
                byte[] b = new byte[4];
                MemorySegment.copy(in, JAVA_BYTE, 4, b, 0, 4);
                return new InetSocketAddress(InetAddress.getByAddress(b), port);
            }
            if (family == Sockets.AF_INET6) {
                byte[] b = new byte[16];
                MemorySegment.copy(in, JAVA_BYTE, 8, b, 0, 16);
                if (isV4Mapped(b)) {
                    return new InetSocketAddress(v4Of(b), port);
                }
                int scope = in.get(JAVA_INT, 24);
                return new InetSocketAddress(Inet6Address.getByAddress(null, b, scope), port);
            }
        } catch (UnknownHostException e) {
            throw new IllegalStateException("kernel returned a malformed address", e);
        }
        if (family == Sockets.AF_UNIX) {
            int n = 0;
            while (2 + n < length && in.get(JAVA_BYTE, 2 + n) != 0) {
                n++;
            }
            byte[] path = new byte[n];
            MemorySegment.copy(in, JAVA_BYTE, 2, path, 0, n);
            return UnixDomainSocketAddress.of(new String(path, StandardCharsets.UTF_8));
        }
        return null;
    }

    private static boolean isV4Mapped(byte[] b) {
        if (b.length != 16) {
            return false;
        }
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return b[10] == (byte) 0xFF && b[11] == (byte) 0xFF;
    }

    private static InetAddress v4Of(byte[] mapped) {
        try {
            return InetAddress.getByAddress(new byte[] {mapped[12], mapped[13], mapped[14], mapped[15]});
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
