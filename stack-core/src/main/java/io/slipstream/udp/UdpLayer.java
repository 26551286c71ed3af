package io.slipstream.udp;

import io.slipstream.nic.FlowSteering;
import io.slipstream.config.Setting;
import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.ip.Ipv4Layer;
import io.slipstream.ip.TransportLayer;
import io.slipstream.ip.ReceiveVerdict;
import io.slipstream.stats.Counters;
import io.slipstream.wire.Icmp;
import io.slipstream.wire.Ipv4;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.Udp;
import io.slipstream.wire.WireError;
import java.lang.foreign.MemorySegment;
import java.net.BindException;
import java.util.function.BooleanSupplier;
import java.util.random.RandomGenerator;

/**
 * UDP (RFC 768, RFC 1122 §4.1): demultiplexes datagrams to sockets by destination port,
 * answers datagrams for unbound ports with ICMP port unreachable, and reports ICMP errors to
 * the connected socket they concern.
 */
public final class UdpLayer extends TransportLayer {
    /** The dynamic port range (RFC 6335 §6). */
    public static final int EPHEMERAL_LOW = 49152;
    public static final int EPHEMERAL_HIGH = 65535;
    /** A socket's default receive buffer; each queued datagram is charged a full frame. */
    public static final Setting.Whole RECEIVE_BUFFER_BYTES =
            new Setting.Whole("slipstream.udp.rcvbuf", 256 * 1024, 2048, 1 << 30, "bytes");

    private final Ipv4Layer ip;
    private final Counters<WireError> wireErrors;
    private final Counters<UdpCounter> counters = new Counters<>(UdpCounter.class);
    /** Bound sockets by local port; guarded by the stack lock. */
    private final UdpSocket[] ports = new UdpSocket[65536];
    /** Ephemeral port draws; guarded by the stack lock. */
    private final RandomGenerator random;
    private final int defaultReceiveBufferBytes;

    public UdpLayer(Ipv4Layer ip, Counters<WireError> wireErrors, RandomGenerator random, int defaultReceiveBufferBytes) {
        this.ip = ip;
        this.wireErrors = wireErrors;
        this.random = random;
        this.defaultReceiveBufferBytes = defaultReceiveBufferBytes;
    }

    @Override
    public int protocol() {
        return Ipv4.PROTO_UDP;
    }

    public Counters<UdpCounter> counters() {
        return counters;
    }

    /** A new, unbound socket. */
    public UdpSocket open() {
        assert lockHeld() : "stack lock not held";
        return new UdpSocket(this, defaultReceiveBufferBytes);
    }

    Ipv4Layer ip() {
        return ip;
    }

    /**
     * Binds {@code socket} to {@code port}, or when 0 to a free port the NIC chooses where it
     * holds ports outside the stack (the kernel, which shares the address, then picks one no
     * kernel socket has), else to a random free dynamic port (RFC 6056 §3.3.1: a random start,
     * then a linear search, passing over ports held outside the stack).
     */
    int bind(UdpSocket socket, int port) throws BindException {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        if (port != 0) {
            if (ports[port] != null) {
                throw new BindException("Address already in use: UDP port " + port);
            }
            if (!claim(socket, port)) {
                throw new BindException("Address already in use: UDP port " + port + " of "
                        + Ipv4Address.format(steeringAddress) + " is held outside the stack: another program's"
                        + " kernel socket has it");
            }
            return port;
        }
        int chosen = steering.hold(FlowSteering.PROTO_UDP, steeringAddress, 0);
        if (chosen == FlowSteering.IN_USE) {
            throw new BindException("No free ephemeral UDP port: the kernel, which shares the address and chooses"
                    + " the port, has none left");
        }
        if (chosen != 0) {
            // Every port the stack binds is held, so the NIC's choice is free here too.
            steer(socket, chosen);
            return chosen;
        }
        int n = EPHEMERAL_HIGH - EPHEMERAL_LOW + 1;
        int start = random.nextInt(n);
        for (int i = 0; i < n; i++) {
            int candidate = EPHEMERAL_LOW + (start + i) % n;
            if (ports[candidate] == null && claim(socket, candidate)) {
                return candidate;
            }
        }
        throw new BindException("No free ephemeral UDP port");
    }

    /** Holds {@code port} outside the stack and steers it to {@code socket}; false if it is held elsewhere. */
    private boolean claim(UdpSocket socket, int port) {
        if (steering.hold(FlowSteering.PROTO_UDP, steeringAddress, port) == FlowSteering.IN_USE) {
            return false;
        }
        steer(socket, port);
        return true;
    }

    /** Steers a held port to {@code socket}, or gives the hold back if steering fails. */
    private void steer(UdpSocket socket, int port) {
        if (ports[port] != null) {
            steering.release(FlowSteering.PROTO_UDP, steeringAddress, port);
            throw new IllegalStateException("UDP port " + port + " chosen outside the stack is bound in it");
        }
        try {
            steering.addListener(FlowSteering.PROTO_UDP, steeringAddress, port);
        } catch (RuntimeException e) {
            steering.release(FlowSteering.PROTO_UDP, steeringAddress, port);
            throw e;
        }
        ports[port] = socket;
    }

    void unbind(UdpSocket socket, int port) {
        if (port > 0 && ports[port] == socket) {
            ports[port] = null;
            steering.removeListener(FlowSteering.PROTO_UDP, steeringAddress, port);
            steering.release(FlowSteering.PROTO_UDP, steeringAddress, port);
        }
    }

    /** Closes every bound socket, releasing its queued buffers (stack shutdown). */
    public void closeAll() {
        for (UdpSocket s : ports) {
            if (s != null) {
                s.close();
            }
        }
    }

    void count(UdpCounter c) {
        counters.increment(c);
    }

    /** UDP answers nothing it could hold: datagrams are delivered as they come. */
    @Override
    public void receiveBatch(boolean begins) {}

    @Override
    public int receive(PacketBuffer buffer, BufferOwner owner, int source, int destination, int tos) {
        MemorySegment s = buffer.segment();
        long off = buffer.offset();
        WireError err = Udp.validate(s, off, buffer.length(), source, destination);
        if (err != null) {
            wireErrors.increment(err);
            return ReceiveVerdict.DROPPED;
        }
        int dstPort = Udp.destinationPort(s, off);
        int srcPort = Udp.sourcePort(s, off);
        int len = Udp.length(s, off);
        counters.increment(UdpCounter.RX_DATAGRAMS);
        UdpSocket socket = ports[dstPort];
        if (socket == null) {
            counters.increment(UdpCounter.NO_PORT);
            return ReceiveVerdict.reject(Icmp.CODE_PORT_UNREACHABLE); // none about a broadcast: the IP layer's rule
        }
        buffer.setRange((int) off + Udp.HEADER_LENGTH, len - Udp.HEADER_LENGTH);
        return socket.deliver(buffer, owner, source, srcPort, tos) ? ReceiveVerdict.KEPT : ReceiveVerdict.DROPPED;
    }

    @Override
    public void icmpError(int type, int code, int info, MemorySegment quoted, long quotedOffset, int quotedLength) {
        int hl = Ipv4.headerLength(quoted, quotedOffset);
        long udp = quotedOffset + hl;
        UdpSocket socket = ports[Udp.sourcePort(quoted, udp)];
        if (socket != null) {
            counters.increment(UdpCounter.ICMP_ERRORS_REPORTED);
            socket.icmpError(type, code, Ipv4.destination(quoted, quotedOffset), Udp.destinationPort(quoted, udp));
        }
    }
}
