package io.slipstream.ip;

import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.PacketBuffer;
import java.lang.foreign.MemorySegment;

/** A protocol above IPv4 (TCP, UDP) as the IP layer sees it. */
public interface Ipv4Transport {
    /** The IP protocol number it handles. */
    int protocol();

    /**
     * A received datagram addressed to this stack, validated at the IP level and reassembled.
     * The transport header starts at {@code buffer.offset()} and runs {@code buffer.length()}
     * bytes (link padding already trimmed). The buffer is owned by {@code owner}: the transport
     * may take it ({@link PacketBuffer#transfer}) and must then return {@link ReceiveVerdict#KEPT};
     * otherwise the IP layer releases it, after answering a {@link ReceiveVerdict#reject} with the
     * ICMP error. Must not throw: malformed input is dropped and counted.
     *
     * @param tos the IP TOS byte
     * @return a {@link ReceiveVerdict}
     */
    int receive(PacketBuffer buffer, BufferOwner owner, int source, int destination, int tos);

    /**
     * A batch of received datagrams (the frames of one poll pass) begins ({@code true}) or
     * ends. Inside one, a transport may hold back an answer to send it once at the end (TCP
     * ACKs several in-order segments with one); outside any batch, answers go at once. A
     * transport that sits in front of another passes both on.
     */
    void receiveBatch(boolean begins);

    /**
     * An ICMP error about a datagram this stack sent. {@code quoted} at {@code quotedOffset}
     * holds the quoted IP header (already checked to be at least its header length) and
     * {@code quotedLength} bytes in all, at least 8 of them past the IP header.
     *
     * @param info the next-hop MTU for fragmentation-needed, else 0
     */
    default void icmpError(int type, int code, int info, MemorySegment quoted, long quotedOffset, int quotedLength) {}
}
