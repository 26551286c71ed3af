package io.slipstream.shim;

import io.slipstream.shim.kernel.KernelSocket;
import io.slipstream.linux.Sockets;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.UnresolvedAddressException;
import java.nio.channels.UnsupportedAddressTypeException;
import java.util.Objects;

/** Address checks and protocol families as the JDK's channels apply them (sun.nio.ch.Net). */
final class Addresses {
    private static final InetAddress ANY4 = literal(new byte[4]);
    private static final InetAddress LOOPBACK4 = literal(new byte[] {127, 0, 0, 1});

    private Addresses() {}

    /**
     * The kernel address family for a channel opened with {@code family} (null: the default,
     * dual-stack IPv6 when the machine has IPv6, as the JDK opens).
     */
    static int kernelFamily(ProtocolFamily family) {
        if (family == null) {
            return KernelSocket.ipv6Available() ? Sockets.AF_INET6 : Sockets.AF_INET;
        }
        if (family == StandardProtocolFamily.INET) {
            return Sockets.AF_INET;
        }
        if (family == StandardProtocolFamily.INET6) {
            if (!KernelSocket.ipv6Available()) {
                throw new UnsupportedOperationException("IPv6 not available");
            }
            return Sockets.AF_INET6;
        }
        if (family == StandardProtocolFamily.UNIX) {
            return Sockets.AF_UNIX;
        }
        throw new UnsupportedOperationException("Protocol family not supported");
    }

    /** Net.checkAddress: an InetSocketAddress, resolved, of a family the socket can reach. */
    static InetSocketAddress check(SocketAddress address, int kernelFamily) {
        Objects.requireNonNull(address);
        if (!(address instanceof InetSocketAddress isa)) {
            throw new UnsupportedAddressTypeException();
        }
        if (isa.isUnresolved()) {
            throw new UnresolvedAddressException();
        }
        InetAddress a = isa.getAddress();
        if (kernelFamily == Sockets.AF_INET && a instanceof Inet6Address v6 && !isV4Mapped(v6)) {
            throw new UnsupportedAddressTypeException();
        }
        return isa;
    }

    /** A remote address to connect to: the wildcard means this host (the loopback address). */
    static InetSocketAddress checkRemote(SocketAddress address, int kernelFamily) {
        InetSocketAddress isa = check(address, kernelFamily);
        if (isa.getAddress().isAnyLocalAddress()) {
            // 127.0.0.1 for an IPv4 wildcard, not getLoopbackAddress() (::1 when IPv6 is preferred).
            InetAddress loopback = isa.getAddress() instanceof Inet4Address || kernelFamily == Sockets.AF_INET
                    ? LOOPBACK4 : loopback6();
            return new InetSocketAddress(loopback, isa.getPort());
        }
        return isa;
    }

    /**
     * A UNIX-domain address to bind or connect to; bind(null) gets a fresh name in the temporary
     * directory ({@code jdk.net.unixdomain.tmpdir}, else {@code java.io.tmpdir}), as the JDK does.
     */
    static UnixDomainSocketAddress checkUnix(SocketAddress address, boolean bind) {
        if (address == null && bind) {
            String dir = System.getProperty("jdk.net.unixdomain.tmpdir", System.getProperty("java.io.tmpdir"));
            long id = java.util.concurrent.ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE;
            return UnixDomainSocketAddress.of(java.nio.file.Path.of(dir, "socket_" + id));
        }
        Objects.requireNonNull(address);
        if (!(address instanceof UnixDomainSocketAddress unix)) {
            throw new UnsupportedAddressTypeException();
        }
        return unix;
    }

    /**
     * InetAddress.anyLocalAddress(), which java.net reports for an unbound or closed socket:
     * 0.0.0.0, or :: under {@code java.net.preferIPv6Addresses=true}.
     */
    static InetAddress anyLocal() {
        return new InetSocketAddress(0).getAddress();
    }

    /**
     * The wildcard address with an ephemeral port, for bind(null) and the implicit bind: 0.0.0.0
     * on an IPv4 socket whatever {@code java.net.preferIPv6Addresses} says (the JDK's choice);
     * on a dual-stack socket either wildcard binds every address of both families.
     */
    static InetSocketAddress wildcard(int kernelFamily) {
        return kernelFamily == Sockets.AF_INET ? new InetSocketAddress(ANY4, 0) : new InetSocketAddress(0);
    }

    private static InetAddress loopback6() {
        return literal(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
    }

    /** A literal address from its bytes (4 or 16), which cannot fail. */
    private static InetAddress literal(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static boolean isV4Mapped(Inet6Address a) {
        byte[] b = a.getAddress();
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return b[10] == (byte) 0xFF && b[11] == (byte) 0xFF;
    }
}
