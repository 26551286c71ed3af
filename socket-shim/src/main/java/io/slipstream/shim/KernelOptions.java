package io.slipstream.shim;

import io.slipstream.shim.kernel.KernelSocket;
import io.slipstream.linux.Sockets;
import java.io.IOException;
import java.net.NetworkInterface;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.util.Set;
import jdk.net.ExtendedSocketOptions;

/**
 * Socket options of the kernel sockets: the JDK's validation and value conventions (SO_LINGER
 * -1 for off and capped at 65535, IP_TOS 0..255 and IPV6_TCLASS on a dual-stack socket, buffer
 * sizes non-negative) over getsockopt/setsockopt.
 */
final class KernelOptions {
    private KernelOptions() {}

    static final Set<SocketOption<?>> STREAM = Set.of(
            StandardSocketOptions.SO_SNDBUF, StandardSocketOptions.SO_RCVBUF, StandardSocketOptions.SO_KEEPALIVE,
            StandardSocketOptions.SO_REUSEADDR, StandardSocketOptions.SO_REUSEPORT, StandardSocketOptions.SO_LINGER,
            StandardSocketOptions.TCP_NODELAY, StandardSocketOptions.IP_TOS,
            ExtendedSocketOptions.TCP_KEEPIDLE, ExtendedSocketOptions.TCP_KEEPINTERVAL,
            ExtendedSocketOptions.TCP_KEEPCOUNT, ExtendedSocketOptions.TCP_QUICKACK);

    /** UNIX-domain stream sockets: what the JDK offers on them. */
    static final Set<SocketOption<?>> UNIX_STREAM = Set.of(
            StandardSocketOptions.SO_SNDBUF, StandardSocketOptions.SO_RCVBUF, StandardSocketOptions.SO_LINGER);

    static final Set<SocketOption<?>> UNIX_LISTENER = Set.of(StandardSocketOptions.SO_RCVBUF);

    static final Set<SocketOption<?>> LISTENER = Set.of(
            StandardSocketOptions.SO_RCVBUF, StandardSocketOptions.SO_REUSEADDR, StandardSocketOptions.SO_REUSEPORT);

    static final Set<SocketOption<?>> DATAGRAM = Set.of(
            StandardSocketOptions.SO_SNDBUF, StandardSocketOptions.SO_RCVBUF, StandardSocketOptions.SO_REUSEADDR,
            StandardSocketOptions.SO_REUSEPORT, StandardSocketOptions.SO_BROADCAST, StandardSocketOptions.IP_TOS,
            StandardSocketOptions.IP_MULTICAST_IF, StandardSocketOptions.IP_MULTICAST_TTL,
            StandardSocketOptions.IP_MULTICAST_LOOP);

    /** Checks {@code name} is supported and {@code value} is of its type, as the JDK's channels do. */
    static void check(Set<SocketOption<?>> supported, SocketOption<?> name, Object value) {
        if (name == null) {
            throw new NullPointerException("name");
        }
        if (!supported.contains(name)) {
            throw new UnsupportedOperationException("'" + name + "' not supported");
        }
        if (!name.type().isInstance(value)) {
            throw new IllegalArgumentException("Invalid value '" + value + "'");
        }
    }

    static void checkName(Set<SocketOption<?>> supported, SocketOption<?> name) {
        if (name == null) {
            throw new NullPointerException("name");
        }
        if (!supported.contains(name)) {
            throw new UnsupportedOperationException("'" + name + "' not supported");
        }
    }

    /** Validates a value the way java.nio's Net.setSocketOption does; returns the value to set. */
    static int intValue(SocketOption<?> name, Object value) {
        if (value instanceof Boolean b) {
            return b ? 1 : 0;
        }
        int i = (Integer) value;
        if (name == StandardSocketOptions.SO_SNDBUF || name == StandardSocketOptions.SO_RCVBUF) {
            if (i < 0) {
                throw new IllegalArgumentException("Invalid send/receive buffer size");
            }
        } else if (name == StandardSocketOptions.SO_LINGER) {
            return Math.min(i, 65535);
        } else if (name == StandardSocketOptions.IP_TOS) {
            if (i < 0 || i > 255) {
                throw new IllegalArgumentException("Invalid IP_TOS value");
            }
        } else if (name == StandardSocketOptions.IP_MULTICAST_TTL) {
            if (i < 0 || i > 255) {
                throw new IllegalArgumentException("Invalid TTL/hop value");
            }
        }
        return i;
    }

    static void set(KernelSocket k, SocketOption<?> name, Object value) throws IOException {
        if (name == StandardSocketOptions.IP_MULTICAST_IF) {
            setMulticastInterface(k, (NetworkInterface) value);
            return;
        }
        int v = intValue(name, value);
        if (name == StandardSocketOptions.SO_LINGER) {
            k.setLinger(v);
            return;
        }
        if (name == StandardSocketOptions.IP_TOS && k.family() == Sockets.AF_INET6) {
            // A dual-stack socket carries IPv4 traffic too: set both, as the JDK does on Linux.
            k.setInt(Sockets.IPPROTO_IPV6, Sockets.IPV6_TCLASS, v);
            try {
                k.setInt(Sockets.IPPROTO_IP, Sockets.IP_TOS, v);
            } catch (IOException ignored) {
                // IPv6-only sockets refuse it; the traffic class above is what counts.
            }
            return;
        }
        if (name == StandardSocketOptions.IP_MULTICAST_TTL && k.family() == Sockets.AF_INET6) {
            k.setInt(Sockets.IPPROTO_IPV6, Sockets.IPV6_MULTICAST_HOPS, v);
            return;
        }
        if (name == StandardSocketOptions.IP_MULTICAST_LOOP && k.family() == Sockets.AF_INET6) {
            k.setInt(Sockets.IPPROTO_IPV6, Sockets.IPV6_MULTICAST_LOOP, v);
            return;
        }
        int[] ln = levelAndName(name);
        k.setInt(ln[0], ln[1], v);
    }

    @SuppressWarnings("unchecked")
    static <T> T get(KernelSocket k, SocketOption<T> name) throws IOException {
        if (name == StandardSocketOptions.IP_MULTICAST_IF) {
            return (T) multicastInterface(k);
        }
        if (name == StandardSocketOptions.SO_LINGER) {
            return (T) Integer.valueOf(k.getLinger());
        }
        int v;
        if (name == StandardSocketOptions.IP_TOS && k.family() == Sockets.AF_INET6) {
            v = k.getInt(Sockets.IPPROTO_IPV6, Sockets.IPV6_TCLASS);
        } else if (name == StandardSocketOptions.IP_MULTICAST_TTL && k.family() == Sockets.AF_INET6) {
            v = k.getInt(Sockets.IPPROTO_IPV6, Sockets.IPV6_MULTICAST_HOPS);
        } else if (name == StandardSocketOptions.IP_MULTICAST_LOOP && k.family() == Sockets.AF_INET6) {
            v = k.getInt(Sockets.IPPROTO_IPV6, Sockets.IPV6_MULTICAST_LOOP);
        } else {
            int[] ln = levelAndName(name);
            v = k.getInt(ln[0], ln[1]);
        }
        if (name.type() == Boolean.class) {
            return (T) Boolean.valueOf(v != 0);
        }
        return (T) Integer.valueOf(v);
    }

    /**
     * IP_MULTICAST_IF as the JDK sets it: an IPv6 socket by interface index (and, being
     * dual-stack, its IPv4 side too when the interface has an IPv4 address); an IPv4 socket by
     * the interface's address and index (struct ip_mreqn), so that reading it back names the
     * interface.
     */
    private static void setMulticastInterface(KernelSocket k, NetworkInterface interf) throws IOException {
        int index = interf.getIndex();
        if (k.family() == Sockets.AF_INET6) {
            if (index == -1) {
                throw new IOException("Network interface cannot be identified");
            }
            k.setInt(Sockets.IPPROTO_IPV6, Sockets.IPV6_MULTICAST_IF, index);
            try {
                k.setMulticastRequest(Sockets.IP_MULTICAST_IF, 0, Memberships.ipv4AddressOf(interf), index);
            } catch (IOException noIpv4) {
                // IPv6-only interface: the IPv6 setting above is all there is.
            }
            return;
        }
        k.setMulticastRequest(Sockets.IP_MULTICAST_IF, 0, Memberships.ipv4AddressOf(interf), Math.max(index, 0));
    }

    /** The outgoing multicast interface, or null when the kernel chooses (nothing set). */
    private static NetworkInterface multicastInterface(KernelSocket k) throws IOException {
        if (k.family() == Sockets.AF_INET6) {
            int index = k.getInt(Sockets.IPPROTO_IPV6, Sockets.IPV6_MULTICAST_IF);
            if (index == 0) {
                return null;
            }
            NetworkInterface ni = NetworkInterface.getByIndex(index);
            if (ni == null) {
                throw new IOException("Unable to map index to interface");
            }
            return ni;
        }
        int address = k.getInAddr(Sockets.IPPROTO_IP, Sockets.IP_MULTICAST_IF);
        if (address == 0) {
            return null;
        }
        NetworkInterface ni = NetworkInterface.getByInetAddress(AcceleratedUdp.inet(address));
        if (ni == null) {
            throw new IOException("Unable to map address to interface");
        }
        return ni;
    }

    private static int[] levelAndName(SocketOption<?> name) {
        if (name == StandardSocketOptions.SO_SNDBUF) {
            return new int[] {Sockets.SOL_SOCKET, Sockets.SO_SNDBUF};
        } else if (name == StandardSocketOptions.SO_RCVBUF) {
            return new int[] {Sockets.SOL_SOCKET, Sockets.SO_RCVBUF};
        } else if (name == StandardSocketOptions.SO_KEEPALIVE) {
            return new int[] {Sockets.SOL_SOCKET, Sockets.SO_KEEPALIVE};
        } else if (name == StandardSocketOptions.SO_REUSEADDR) {
            return new int[] {Sockets.SOL_SOCKET, Sockets.SO_REUSEADDR};
        } else if (name == StandardSocketOptions.SO_REUSEPORT) {
            return new int[] {Sockets.SOL_SOCKET, Sockets.SO_REUSEPORT};
        } else if (name == StandardSocketOptions.SO_BROADCAST) {
            return new int[] {Sockets.SOL_SOCKET, Sockets.SO_BROADCAST};
        } else if (name == StandardSocketOptions.TCP_NODELAY) {
            return new int[] {Sockets.IPPROTO_TCP, Sockets.TCP_NODELAY};
        } else if (name == StandardSocketOptions.IP_TOS) {
            return new int[] {Sockets.IPPROTO_IP, Sockets.IP_TOS};
        } else if (name == StandardSocketOptions.IP_MULTICAST_TTL) {
            return new int[] {Sockets.IPPROTO_IP, Sockets.IP_MULTICAST_TTL};
        } else if (name == StandardSocketOptions.IP_MULTICAST_LOOP) {
            return new int[] {Sockets.IPPROTO_IP, Sockets.IP_MULTICAST_LOOP};
        } else if (name == ExtendedSocketOptions.TCP_KEEPIDLE) {
            return new int[] {Sockets.IPPROTO_TCP, Sockets.TCP_KEEPIDLE};
        } else if (name == ExtendedSocketOptions.TCP_KEEPINTERVAL) {
            return new int[] {Sockets.IPPROTO_TCP, Sockets.TCP_KEEPINTVL};
        } else if (name == ExtendedSocketOptions.TCP_KEEPCOUNT) {
            return new int[] {Sockets.IPPROTO_TCP, Sockets.TCP_KEEPCNT};
        } else if (name == ExtendedSocketOptions.TCP_QUICKACK) {
            return new int[] {Sockets.IPPROTO_TCP, Sockets.TCP_QUICKACK};
        }
        throw new UnsupportedOperationException("'" + name + "' not supported");
    }
}
