package io.slipstream.shim.kernel;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.slipstream.linux.Errno;
import io.slipstream.linux.Libc;
import io.slipstream.linux.SockAddr;
import io.slipstream.linux.Sockets;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.SocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.UnsupportedAddressTypeException;

/**
 * A Linux kernel socket driven through the FFM system-call bindings: the fallback inside a
 * Slipstream channel. Always non-blocking; blocking is the channel's business (it parks on the
 * {@link Poller}). Every call fails with the exception the JDK's own channels throw for the
 * same errno.
 */
public final class KernelSocket {
    private static volatile Boolean ipv6;

    private final KernelFd fd;
    private final int family;
    private final boolean stream;
    /**
     * The last datagram's source, raw and decoded: a sender that repeats gets the same address
     * object back, with no allocation, as the JDK's channel caches it. Receive-side only.
     */
    private MemorySegment lastSourceRaw;
    private int lastSourceLength;
    private SocketAddress lastSource;

    private KernelSocket(int fd, int family, boolean stream) {
        this.fd = new KernelFd(fd);
        this.family = family;
        this.stream = stream;
    }

    /**
     * Opens a socket of {@code family} (AF_INET, AF_INET6 dual-stack, or AF_UNIX), stream or
     * datagram, non-blocking and close-on-exec.
     */
    public static KernelSocket open(int family, boolean stream) throws IOException {
        Sockets s = NativeScratch.sockets();
        int type = (stream ? Sockets.SOCK_STREAM : Sockets.SOCK_DGRAM) | Sockets.SOCK_NONBLOCK | Sockets.SOCK_CLOEXEC;
        int fd = s.socket(family, type, 0);
        if (fd < 0) {
            throw KernelErrors.socketError(s.errno());
        }
        KernelSocket k = new KernelSocket(fd, family, stream);
        try {
            if (family == Sockets.AF_INET6) {
                // One socket for both families, as the JDK opens by default.
                k.setInt(Sockets.IPPROTO_IPV6, Sockets.IPV6_V6ONLY, 0);
            }
            if (!stream && family != Sockets.AF_UNIX) {
                // Linux delivers every group any socket joined to every socket bound to the port
                // unless told not to (the JDK clears it too); a dual-stack socket takes the IPv4 option.
                k.setInt(Sockets.IPPROTO_IP, Sockets.IP_MULTICAST_ALL, 0);
            }
        } catch (IOException e) {
            k.close();
            throw e;
        }
        return k;
    }

    /**
     * The IPv4 or IPv6 socket a parent process left on descriptor {@code fd} (inetd, systemd
     * socket activation), switched to non-blocking; null when {@code fd} is no such socket.
     */
    public static KernelSocket inherit(int fd) throws IOException {
        NativeScratch n = NativeScratch.get();
        int type = optionOf(n, fd, Sockets.SO_TYPE);
        int family = optionOf(n, fd, Sockets.SO_DOMAIN);
        if (type < 0 || (family != Sockets.AF_INET && family != Sockets.AF_INET6)
                || (type != Sockets.SOCK_STREAM && type != Sockets.SOCK_DGRAM)) {
            return null;
        }
        n.value.set(JAVA_INT, 0, 1);
        if (n.sockets.libc().ioctl(fd, Sockets.FIONBIO, n.value) < 0) {
            throw new IOException(n.sockets.libc().failure("ioctl FIONBIO"));
        }
        return new KernelSocket(fd, family, type == Sockets.SOCK_STREAM);
    }

    /** An int SOL_SOCKET option of a raw descriptor, or -1 if it is not a socket. */
    private static int optionOf(NativeScratch n, int fd, int name) {
        n.length.set(JAVA_INT, 0, 4);
        if (n.sockets.getSockOpt(fd, Sockets.SOL_SOCKET, name, n.value, n.length) < 0) {
            return -1;
        }
        return n.value.get(JAVA_INT, 0);
    }

    /** The bytes waiting to be read (FIONREAD). */
    public int available() throws IOException {
        return call((f, n) -> n.sockets.libc().ioctl(f, Sockets.FIONREAD, n.value), 0).value.get(JAVA_INT, 0);
    }

    /** Whether this is a listening stream socket. */
    public boolean isListening() throws IOException {
        return stream && getInt(Sockets.SOL_SOCKET, Sockets.SO_ACCEPTCONN) != 0;
    }

    /** Whether this machine can open IPv6 sockets (checked once). */
    public static boolean ipv6Available() {
        Boolean v = ipv6;
        if (v == null) {
            Sockets s = NativeScratch.sockets();
            int fd = s.socket(Sockets.AF_INET6, Sockets.SOCK_STREAM | Sockets.SOCK_CLOEXEC, 0);
            if (fd >= 0) {
                s.close(fd);
            }
            ipv6 = v = fd >= 0;
        }
        return v;
    }

    public KernelFd fd() {
        return fd;
    }

    public int family() {
        return family;
    }

    public boolean isOpen() {
        return !fd.isClosed();
    }

    public void close() {
        fd.close();
    }

    private int begin() throws ClosedChannelException {
        if (!fd.acquire()) {
            throw new ClosedChannelException();
        }
        return fd.fd();
    }

    /** A system call on the descriptor {@code fd} with this thread's scratch; negative when it failed. */
    @FunctionalInterface
    private interface Call {
        int on(int fd, NativeScratch n);
    }

    /**
     * Makes {@code call}, the descriptor held open until it returns; a failure is the JDK's
     * exception for its errno, unless that is {@code ignoredErrno} (0: none is). Returns the
     * scratch, whose buffers hold what the call filled in (read them before the next call).
     * For calls off the data path: a call that captures its arguments is an allocation.
     */
    private NativeScratch call(Call call, int ignoredErrno) throws IOException {
        int f = begin();
        try {
            NativeScratch n = NativeScratch.get();
            if (call.on(f, n) < 0 && n.sockets.errno() != ignoredErrno) {
                throw KernelErrors.socketError(n.sockets.errno());
            }
            return n;
        } finally {
            fd.release();
        }
    }

    private int encode(SocketAddress address, MemorySegment out) {
        int len = SockAddr.encode(address, family, out);
        if (len < 0) {
            throw new UnsupportedAddressTypeException();
        }
        return len;
    }

    public void bind(SocketAddress address) throws IOException {
        call((f, n) -> n.sockets.bind(f, n.address, encode(address, n.address)), 0);
    }

    public void listen(int backlog) throws IOException {
        call((f, n) -> n.sockets.listen(f, backlog), 0);
    }

    /** A connection from the backlog, or null if none is waiting. */
    public KernelSocket accept() throws IOException {
        int f = begin();
        try {
            NativeScratch n = NativeScratch.get();
            n.length.set(JAVA_INT, 0, SockAddr.MAX_LENGTH);
            int c = n.sockets.accept(f, n.address, n.length, Sockets.SOCK_NONBLOCK | Sockets.SOCK_CLOEXEC);
            if (c < 0) {
                int e = n.sockets.errno();
                if (e == Errno.EAGAIN || e == Errno.ECONNABORTED || e == Errno.EINTR) {
                    return null;
                }
                throw KernelErrors.socketError(e);
            }
            return new KernelSocket(c, family, true);
        } finally {
            fd.release();
        }
    }

    /**
     * Starts connecting; true if connected at once, false if under way (finish with
     * {@link #finishConnect}).
     */
    public boolean connect(SocketAddress address) throws IOException {
        int f = begin();
        try {
            NativeScratch n = NativeScratch.get();
            int len = encode(address, n.address);
            if (n.sockets.connect(f, n.address, len) == 0) {
                return true;
            }
            int e = n.sockets.errno();
            if (e == Errno.EINPROGRESS || e == Errno.EINTR) {
                return false;
            }
            throw KernelErrors.socketError(e);
        } finally {
            fd.release();
        }
    }

    /** Dissolves a datagram socket's association (connect to AF_UNSPEC). */
    public void disconnect() throws IOException {
        call((f, n) -> {
            n.address.fill((byte) 0);
            return n.sockets.connect(f, n.address, 16);
        }, Errno.EAFNOSUPPORT);
    }

    /** True once a connect started by {@link #connect} has completed; throws if it failed. */
    public boolean finishConnect() throws IOException {
        int error = getInt(Sockets.SOL_SOCKET, Sockets.SO_ERROR);
        if (error != 0) {
            throw KernelErrors.socketError(error);
        }
        return remoteAddress() != null;
    }

    /**
     * Receives one datagram into {@code dst} (the rest of a longer one is discarded); returns its
     * source, or null if none is waiting. One receiver at a time (the channel's read lock).
     */
    public SocketAddress receive(ByteBuffer dst) throws IOException {
        int f = begin();
        try {
            NativeScratch n = NativeScratch.get();
            n.length.set(JAVA_INT, 0, SockAddr.MAX_LENGTH);
            MemorySegment seg = MemorySegment.ofBuffer(dst);
            long got = n.sockets.recvFrom(f, seg, seg.byteSize(), 0, n.address, n.length);
            if (got < 0) {
                int e = n.sockets.errno();
                if (e == Errno.EAGAIN) {
                    return null;
                }
                throw KernelErrors.datagramError(e);
            }
            dst.position(dst.position() + (int) got);
            return source(n.address, Math.min(n.length.get(JAVA_INT, 0), SockAddr.MAX_LENGTH));
        } finally {
            fd.release();
        }
    }

    /** The source address in {@code raw}: the cached object when it is the last one's. */
    private SocketAddress source(MemorySegment raw, int length) {
        if (lastSource != null && length == lastSourceLength
                && MemorySegment.mismatch(raw, 0, length, lastSourceRaw, 0, length) < 0) {
            return lastSource;
        }
        if (lastSourceRaw == null) {
            lastSourceRaw = MemorySegment.ofArray(new byte[SockAddr.MAX_LENGTH]);
        }
        SocketAddress decoded = SockAddr.decode(raw, length);
        MemorySegment.copy(raw, 0, lastSourceRaw, 0, length);
        lastSourceLength = length;
        lastSource = decoded;
        return decoded;
    }

    /** Sends {@code src} as one datagram (to the connected peer when {@code target} is null). */
    public int send(ByteBuffer src, SocketAddress target) throws IOException {
        int f = begin();
        try {
            NativeScratch n = NativeScratch.get();
            int len = 0;
            MemorySegment to = MemorySegment.NULL;
            if (target != null) {
                len = encode(target, n.address);
                to = n.address;
            }
            MemorySegment seg = MemorySegment.ofBuffer(src);
            long sent = n.sockets.sendTo(f, seg, seg.byteSize(), Sockets.MSG_NOSIGNAL, to, len);
            if (sent < 0) {
                int e = n.sockets.errno();
                if (e == Errno.EAGAIN) {
                    return FdIo.UNAVAILABLE;
                }
                throw KernelErrors.datagramError(e);
            }
            src.position(src.position() + (int) sent);
            return (int) sent;
        } finally {
            fd.release();
        }
    }

    public int getInt(int level, int name) throws IOException {
        return getOption(level, name, 4).get(JAVA_INT, 0);
    }

    /** getsockopt of {@code length} bytes, left in this thread's scratch segment (read it before the next call). */
    private MemorySegment getOption(int level, int name, int length) throws IOException {
        return call((f, n) -> {
            n.length.set(JAVA_INT, 0, length);
            return n.sockets.getSockOpt(f, level, name, n.value, n.length);
        }, 0).value;
    }

    public void setInt(int level, int name, int value) throws IOException {
        call((f, n) -> {
            n.value.set(JAVA_INT, 0, value);
            return n.sockets.setSockOpt(f, level, name, n.value, 4);
        }, 0);
    }

    /**
     * An IPv4 multicast request at level IPPROTO_IP (also on a dual-stack socket), in the
     * structure {@code option} takes (see {@link MulticastRequest#write}). A kernel without the
     * option → UnsupportedOperationException, as the JDK.
     */
    public void setMulticastRequest(int option, int group, int interfaceAddress, int last) throws IOException {
        int f = begin();
        try {
            NativeScratch n = NativeScratch.get();
            int len = MulticastRequest.write(n.value, option, group, interfaceAddress, last);
            if (n.sockets.setSockOpt(f, Sockets.IPPROTO_IP, option, n.value, len) < 0) {
                int e = n.sockets.errno();
                if (e == Errno.ENOPROTOOPT || e == Errno.EOPNOTSUPP) {
                    throw new UnsupportedOperationException(Libc.strerror(e));
                }
                throw KernelErrors.socketError(e);
            }
        } finally {
            fd.release();
        }
    }

    /** An option whose value is an IPv4 address (IP_MULTICAST_IF), as an int; 0 when unset. */
    public int getInAddr(int level, int name) throws IOException {
        return MulticastRequest.inAddr(getOption(level, name, 4));
    }

    /** SO_LINGER as the JDK reports it: the linger time in seconds, or -1 when off. */
    public int getLinger() throws IOException {
        MemorySegment linger = getOption(Sockets.SOL_SOCKET, Sockets.SO_LINGER, 8);
        return linger.get(JAVA_INT, 0) == 0 ? -1 : linger.get(JAVA_INT, 4);
    }

    /** Sets SO_LINGER: a negative time turns it off (the JDK's convention). */
    public void setLinger(int seconds) throws IOException {
        call((f, n) -> {
            n.value.set(JAVA_INT, 0, seconds < 0 ? 0 : 1);
            n.value.set(JAVA_INT, 4, Math.max(seconds, 0));
            return n.sockets.setSockOpt(f, Sockets.SOL_SOCKET, Sockets.SO_LINGER, n.value, 8);
        }, 0);
    }

    /** shutdown(2); a socket that is not connected is left alone, as the JDK does. */
    public void shutdown(int how) throws IOException {
        call((f, n) -> n.sockets.shutdown(f, how), Errno.ENOTCONN);
    }

    public SocketAddress localAddress() throws IOException {
        return name(true);
    }

    /** The peer, or null when not connected. */
    public SocketAddress remoteAddress() throws IOException {
        return name(false);
    }

    private SocketAddress name(boolean local) throws IOException {
        int f = begin();
        try {
            NativeScratch n = NativeScratch.get();
            n.length.set(JAVA_INT, 0, SockAddr.MAX_LENGTH);
            int r = local ? n.sockets.getSockName(f, n.address, n.length) : n.sockets.getPeerName(f, n.address, n.length);
            if (r < 0) {
                if (n.sockets.errno() == Errno.ENOTCONN) {
                    return null;
                }
                throw new SocketException(n.sockets.libc().failure(local ? "getsockname" : "getpeername"));
            }
            return SockAddr.decode(n.address, n.length.get(JAVA_INT, 0));
        } finally {
            fd.release();
        }
    }

    public boolean isStream() {
        return stream;
    }
}
