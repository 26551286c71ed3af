package io.slipstream.linux;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import org.junit.jupiter.api.Test;

/** The socket, pipe and epoll bindings and the sockaddr codec against the real kernel (loopback only). */
class SocketsTest {

    @Test
    void socketAddressesRoundTripInEveryFamily() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(SockAddr.MAX_LENGTH);
            InetSocketAddress v4 = new InetSocketAddress(InetAddress.getByName("198.18.1.2"), 4242);
            assertEquals(16, SockAddr.encode(v4, Sockets.AF_INET, m));
            assertEquals(v4, SockAddr.decode(m, 16));
            // IPv4 on a dual-stack socket travels IPv4-mapped and comes back as IPv4.
            assertEquals(28, SockAddr.encode(v4, Sockets.AF_INET6, m));
            assertEquals((byte) 0xFF, m.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 8 + 10));
            assertEquals(v4, SockAddr.decode(m, 28));
            InetSocketAddress v6 = new InetSocketAddress(InetAddress.getByName("2001:db8::7"), 80);
            assertEquals(28, SockAddr.encode(v6, Sockets.AF_INET6, m));
            assertEquals(v6, SockAddr.decode(m, 28));
            assertEquals(-1, SockAddr.encode(v6, Sockets.AF_INET, m), "IPv6 cannot go on an IPv4 socket");
            // The IPv4 wildcard on a dual-stack socket is ::, every address of both families.
            assertEquals(28, SockAddr.encode(new InetSocketAddress(InetAddress.getByName("0.0.0.0"), 1), Sockets.AF_INET6, m));
            assertTrue(((InetSocketAddress) SockAddr.decode(m, 28)).getAddress().isAnyLocalAddress());
            UnixDomainSocketAddress unix = UnixDomainSocketAddress.of("/tmp/slipstream.sock");
            int len = SockAddr.encode(unix, Sockets.AF_UNIX, m);
            assertEquals(unix, SockAddr.decode(m, len));
        }
    }

    @Test
    void refusedConnectLeavesEconnrefusedAndBindLeavesTheAddress() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            Sockets s = new Sockets(new Libc(arena));
            MemorySegment addr = arena.allocate(SockAddr.MAX_LENGTH);
            MemorySegment len = arena.allocate(JAVA_INT);
            int listener = s.socket(Sockets.AF_INET, Sockets.SOCK_STREAM | Sockets.SOCK_CLOEXEC, 0);
            assertTrue(listener >= 0);
            int n = SockAddr.encode(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), Sockets.AF_INET, addr);
            assertEquals(0, s.bind(listener, addr, n));
            len.set(JAVA_INT, 0, SockAddr.MAX_LENGTH);
            assertEquals(0, s.getSockName(listener, addr, len));
            InetSocketAddress bound = (InetSocketAddress) SockAddr.decode(addr, len.get(JAVA_INT, 0));
            assertTrue(bound.getPort() > 0);
            s.close(listener); // never listened: the port now refuses connections
            int client = s.socket(Sockets.AF_INET, Sockets.SOCK_STREAM | Sockets.SOCK_CLOEXEC, 0);
            n = SockAddr.encode(bound, Sockets.AF_INET, addr);
            assertEquals(-1, s.connect(client, addr, n));
            assertEquals(Errno.ECONNREFUSED, s.errno());
            s.close(client);
        }
    }

    @Test
    void epollReportsAPipeReadableOnceWritten() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            Sockets s = new Sockets(new Libc(arena));
            MemorySegment fds = arena.allocate(8, 4);
            assertEquals(0, s.pipe(fds, Libc.O_NONBLOCK | Libc.O_CLOEXEC));
            int r = fds.get(JAVA_INT, 0);
            int w = fds.get(JAVA_INT, 4);
            int ep = s.epollCreate();
            MemorySegment event = arena.allocate(16, 8);
            MemorySegment ready = arena.allocate(Sockets.EPOLL_EVENT_SIZE * 4, 8);
            assertEquals(0, s.epollCtl(ep, Sockets.EPOLL_CTL_ADD, r, Sockets.EPOLLIN, 1234567890123L, event));
            assertEquals(0, s.epollWait(ep, ready, 4, 0));
            MemorySegment one = arena.allocate(1);
            assertEquals(1, s.write(w, one, 1));
            assertEquals(1, s.epollWait(ep, ready, 4, 1000));
            assertEquals(1234567890123L, Sockets.epollData(ready, 0));
            assertEquals(Sockets.EPOLLIN, Sockets.epollEvents(ready, 0) & Sockets.EPOLLIN);
            assertEquals(1, s.read(r, one, 1));
            assertEquals(-1, s.read(r, one, 1));
            assertEquals(Errno.EAGAIN, s.errno());
            s.close(ep);
            s.close(r);
            s.close(w);
        }
    }
}
