package io.slipstream.ip;

import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.wire.Ethernet;
import io.slipstream.wire.Ipv4;

/**
 * How a transport (UDP, TCP) sends: it asks for a buffer with room reserved for the link and
 * IP headers, writes its own header and payload at the buffer's offset, and hands the buffer
 * over. The IP layer routes, resolves the next hop, fragments when needed and queues it.
 */
public interface Ipv4Output {
    /** Room left in front of a transport header: Ethernet (untagged) plus a 20-byte IP header. */
    int HEADROOM = Ethernet.HEADER_LENGTH + Ipv4.MIN_HEADER_LENGTH;

    /**
     * A buffer owned by {@code owner} whose range starts at {@link #HEADROOM} with length 0 and
     * can hold {@code transportLength} bytes there (a frame-sized buffer when that fits one
     * frame, else a datagram-sized one for IP fragmentation). Null when none is free; the
     * caller retries later, nothing is lost.
     */
    PacketBuffer allocate(BufferOwner owner, int transportLength);

    /** The stack's address used as the source towards {@code destination}. */
    int sourceAddress(int destination);

    /** Largest IP datagram (header included) that reaches {@code destination} unfragmented. */
    int mtu(int destination);

    /** Whether {@code destination} has a route (connected subnet or gateway). */
    boolean routable(int destination);

    /**
     * Sends the transport segment in {@code datagram}'s range. Ownership passes to the IP
     * layer whatever happens; a datagram that cannot be sent (no route, no buffer while
     * fragmenting, ARP queue full) is dropped and counted there.
     *
     * @param tos the IP TOS byte
     * @param dontFragment set DF (TCP does, for path MTU discovery)
     */
    void send(PacketBuffer datagram, BufferOwner from, int source, int destination, int protocol,
              int tos, boolean dontFragment);
}
