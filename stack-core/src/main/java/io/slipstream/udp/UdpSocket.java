package io.slipstream.udp;

import io.slipstream.buffer.BufferCopy;
import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.ip.Ipv4Output;
import io.slipstream.wire.Icmp;
import io.slipstream.wire.Ipv4;
import io.slipstream.wire.Udp;
import java.lang.foreign.MemorySegment;
import java.net.BindException;
import java.nio.ByteBuffer;

/**
 * A UDP socket of the core non-blocking API. Received datagrams stay in the NIC buffers they
 * arrived in, queued here until the application copies them out; the queue is bounded by the
 * receive buffer size, charged at each buffer's full capacity so a flood of tiny datagrams
 * cannot exhaust the stack's pool.
 *
 * <p>Not thread-safe: every method is called with the stack lock held (the runtime and the
 * java.nio shim do this). Readiness changes are reported to the {@link ReadinessListener}.
 */
public final class UdpSocket {
    /** Told when the socket becomes readable or an error is pending. Called under the stack lock. */
    @FunctionalInterface
    public interface ReadinessListener {
        void readinessChanged(UdpSocket socket);
    }

    /** An error reported by ICMP about a connected socket's peer. */
    public enum Error {
        PORT_UNREACHABLE,
        HOST_UNREACHABLE,
        NET_UNREACHABLE
    }

    /** The largest payload of an IPv4 UDP datagram. */
    public static final int MAX_PAYLOAD = Ipv4.MAX_DATAGRAM - Ipv4.MIN_HEADER_LENGTH - Udp.HEADER_LENGTH;

    private final UdpLayer layer;
    private final BufferOwner owner;
    private int localPort;
    private int remoteAddress;
    private int remotePort;
    private boolean closed;
    private int receiveBufferBytes;
    /** The TOS byte of every datagram sent (IP_TOS; RFC 2474 DSCP and RFC 3168 ECN bits). */
    private int tos;
    /** Received datagrams, oldest at head; a power-of-two ring with their sources beside it. */
    private PacketBuffer[] queue = new PacketBuffer[64];
    private int[] queueAddress = new int[64];
    private int[] queuePort = new int[64];
    private byte[] queueTos = new byte[64];
    private int head;
    private int count;
    private int queuedBytes;
    private long lastSource;
    private int lastTos;
    private Error pendingError;
    private ReadinessListener listener;
    private long drops;

    UdpSocket(UdpLayer layer, int receiveBufferBytes) {
        this.layer = layer;
        this.owner = new BufferOwner("udp-socket");
        this.receiveBufferBytes = receiveBufferBytes;
    }

    public void setReadinessListener(ReadinessListener listener) {
        this.listener = listener;
    }

    /** Binds to {@code port}, or an ephemeral port when 0. */
    public void bind(int port) throws BindException {
        checkOpen();
        if (localPort != 0) {
            throw new IllegalStateException("already bound to port " + localPort);
        }
        localPort = layer.bind(this, port);
    }

    /**
     * Restricts the socket to one peer: only its datagrams are received, and send may omit the
     * destination. Binds to an ephemeral port first if unbound. Queued datagrams from other
     * peers are discarded (as the JDK's connect does).
     */
    public void connect(int address, int port) throws BindException {
        checkOpen();
        if (port <= 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        if (!layer.ip().routable(address)) {
            throw new IllegalArgumentException("no route to " + io.slipstream.wire.Ipv4Address.format(address));
        }
        if (localPort == 0) {
            bind(0);
        }
        remoteAddress = address;
        remotePort = port;
        pendingError = null;
        int kept = 0;
        for (int i = 0; i < count; i++) {
            int slot = (head + i) & (queue.length - 1);
            PacketBuffer b = queue[slot];
            long src = queueSourceOf(slot);
            if ((int) (src >>> 16) == address && (int) (src & 0xFFFF) == port) {
                int dst = (head + kept) & (queue.length - 1);
                queue[dst] = b;
                queueAddress[dst] = queueAddress[slot];
                queuePort[dst] = queuePort[slot];
                queueTos[dst] = queueTos[slot];
                kept++;
            } else {
                queuedBytes -= b.capacity();
                b.release(owner);
            }
        }
        for (int i = kept; i < count; i++) {
            queue[(head + i) & (queue.length - 1)] = null;
        }
        count = kept;
    }

    public void disconnect() {
        assert layer.lockHeld() : "stack lock not held";
        remoteAddress = 0;
        remotePort = 0;
        pendingError = null;
    }

    public boolean isBound() {
        return localPort != 0;
    }

    public boolean isConnected() {
        return remotePort != 0;
    }

    public int localPort() {
        return localPort;
    }

    public int localAddress() {
        return layer.ip().routes().address();
    }

    public int remoteAddress() {
        return remoteAddress;
    }

    public int remotePort() {
        return remotePort;
    }

    public int receiveBufferSize() {
        return receiveBufferBytes;
    }

    public void setReceiveBufferSize(int bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("receive buffer size must be positive: " + bytes);
        }
        receiveBufferBytes = bytes;
    }

    /** The IP TOS byte this socket's datagrams carry (0 by default). */
    public int tos() {
        return tos;
    }

    /** Sets the IP TOS byte of the datagrams sent from now on (0..255; any value, as Linux lets UDP set ECN bits). */
    public void setTos(int tos) {
        if (tos < 0 || tos > 255) {
            throw new IllegalArgumentException("TOS out of range: " + tos);
        }
        this.tos = tos;
    }

    /** Datagrams dropped because the receive buffer was full. */
    public long drops() {
        return drops;
    }

    public boolean isReadable() {
        return count > 0 || pendingError != null;
    }

    /** Returns and clears the pending ICMP-reported error, or null. */
    public Error takeError() {
        Error e = pendingError;
        pendingError = null;
        return e;
    }

    /**
     * Sends {@code src}'s remaining bytes as one datagram to {@code address:port} (or to the
     * connected peer when {@code port} is 0). Returns the bytes sent, or 0 when no buffer is
     * free (the position is not moved: try again later).
     */
    public int send(ByteBuffer src, int address, int port) throws BindException {
        checkOpen();
        if (port == 0) {
            if (!isConnected()) {
                throw new IllegalStateException("not connected and no destination given");
            }
            address = remoteAddress;
            port = remotePort;
        } else if (isConnected() && (address != remoteAddress || port != remotePort)) {
            throw new IllegalArgumentException("connected socket cannot send to another destination");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        int len = src.remaining();
        if (len > MAX_PAYLOAD) {
            throw new IllegalArgumentException("datagram of " + len + " bytes exceeds the UDP maximum of " + MAX_PAYLOAD);
        }
        if (localPort == 0) {
            bind(0);
        }
        Ipv4Output ip = layer.ip();
        PacketBuffer b = ip.allocate(owner, Udp.HEADER_LENGTH + len);
        if (b == null) {
            layer.count(UdpCounter.TX_NO_BUFFER);
            return 0;
        }
        MemorySegment s = b.segment();
        long off = b.offset();
        BufferCopy.fromBuffer(src, b, (int) off + Udp.HEADER_LENGTH, len);
        int from = ip.sourceAddress(address);
        Udp.write(s, off, localPort, port, len, from, address);
        b.setRange((int) off, Udp.HEADER_LENGTH + len);
        layer.count(UdpCounter.TX_DATAGRAMS);
        ip.send(b, owner, from, address, Ipv4.PROTO_UDP, tos, false);
        return len;
    }

    /**
     * Copies the oldest queued datagram into {@code dst} (discarding what does not fit, as
     * DatagramChannel does) and returns its full length, or -1 when none is queued. Its source
     * is then {@link #lastSourceAddress()}:{@link #lastSourcePort()}.
     */
    public int receive(ByteBuffer dst) {
        checkOpen();
        if (count == 0) {
            return -1;
        }
        int slot = head;
        PacketBuffer b = queue[slot];
        int len = b.length();
        int n = Math.min(len, dst.remaining());
        BufferCopy.toBuffer(b, b.offset(), dst, n);
        if (n < len) {
            layer.count(UdpCounter.TRUNCATED);
        }
        lastSource = queueSourceOf(slot);
        lastTos = queueTos[slot] & 0xFF;
        queue[slot] = null;
        head = (head + 1) & (queue.length - 1);
        count--;
        queuedBytes -= b.capacity();
        b.release(owner);
        return len;
    }

    public int lastSourceAddress() {
        return (int) (lastSource >>> 16);
    }

    public int lastSourcePort() {
        return (int) (lastSource & 0xFFFF);
    }

    /** The IP TOS byte the last received datagram carried (as IP_RECVTOS reports it). */
    public int lastTos() {
        return lastTos;
    }

    /** Releases queued buffers and the port. Idempotent. */
    public void close() {
        assert layer.lockHeld() : "stack lock not held";
        if (closed) {
            return;
        }
        closed = true;
        while (count > 0) {
            queue[head].release(owner);
            queue[head] = null;
            head = (head + 1) & (queue.length - 1);
            count--;
        }
        queuedBytes = 0;
        layer.unbind(this, localPort);
    }

    public boolean isClosed() {
        return closed;
    }

    // ---------------------------------------------------------------- from the UDP layer

    private long queueSourceOf(int slot) {
        return ((queueAddress[slot] & 0xFFFF_FFFFL) << 16) | queuePort[slot];
    }

    boolean deliver(PacketBuffer b, BufferOwner from, int source, int sourcePort, int tos) {
        if (isConnected() && (source != remoteAddress || sourcePort != remotePort)) {
            layer.count(UdpCounter.WRONG_PEER);
            return false;
        }
        if (queuedBytes + b.capacity() > receiveBufferBytes) {
            layer.count(UdpCounter.RCVBUF_FULL);
            drops++;
            return false;
        }
        if (count == queue.length) {
            grow();
        }
        int slot = (head + count) & (queue.length - 1);
        b.transfer(from, owner);
        queue[slot] = b;
        queueAddress[slot] = source;
        queuePort[slot] = sourcePort;
        queueTos[slot] = (byte) tos;
        count++;
        queuedBytes += b.capacity();
        if (count == 1) {
            notifyListener();
        }
        return true;
    }

    private void grow() {
        int n = queue.length;
        PacketBuffer[] q = new PacketBuffer[n * 2];
        int[] s = new int[n * 2];
        int[] p = new int[n * 2];
        byte[] t = new byte[n * 2];
        for (int i = 0; i < count; i++) {
            int from = (head + i) & (n - 1);
            q[i] = queue[from];
            s[i] = queueAddress[from];
            p[i] = queuePort[from];
            t[i] = queueTos[from];
        }
        queue = q;
        queueAddress = s;
        queuePort = p;
        queueTos = t;
        head = 0;
    }

    void icmpError(int type, int code, int destination, int destinationPort) {
        // Like Linux without IP_RECVERR, only connected sockets hear about ICMP errors.
        if (!isConnected() || destination != remoteAddress || destinationPort != remotePort) {
            return;
        }
        if (type == Icmp.TYPE_DEST_UNREACHABLE) {
            pendingError = switch (code) {
                case Icmp.CODE_PORT_UNREACHABLE -> Error.PORT_UNREACHABLE;
                case Icmp.CODE_NET_UNREACHABLE -> Error.NET_UNREACHABLE;
                default -> Error.HOST_UNREACHABLE;
            };
            notifyListener();
        }
    }

    private void notifyListener() {
        ReadinessListener l = listener;
        if (l != null) {
            l.readinessChanged(this);
        }
    }

    /** Every operation's entry: the stack lock is held (asserted) and the socket open. */
    private void checkOpen() {
        assert layer.lockHeld() : "stack lock not held";
        if (closed) {
            throw new IllegalStateException("socket closed");
        }
    }
}
