package io.slipstream.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.slipstream.config.StackConfig;
import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicDriver;
import io.slipstream.nic.VirtualInterface;
import io.slipstream.stack.Stack;
import io.slipstream.time.VirtualClock;
import io.slipstream.wire.Arp;
import io.slipstream.wire.Ethernet;
import io.slipstream.wire.Icmp;
import io.slipstream.wire.Ipv4;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.MacAddress;
import io.slipstream.wire.Tcp;
import io.slipstream.wire.Udp;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One stack on a memory link whose other end the test drives by hand ({@link RawEnd}), on a
 * virtual clock: the test plays the stack's neighbour {@link #PEER_IP} with frames it builds
 * byte by byte, and reads what the stack sends back. The peer answers the stack's ARP requests
 * for its address (unless told not to, {@code raw.answerArp(0)}), and nothing else.
 *
 * <p>A test class holds one per test as {@code @RegisterExtension final RawPeer peer = new
 * RawPeer();}: it is closed, and checked for leaked buffers, after each test.
 */
public final class RawPeer implements AutoCloseable, AfterEachCallback {
    public static final long PEER_MAC = 0x02_00_00_00_00_77L;
    public static final long STACK_MAC = 0x02_00_00_00_00_01L;
    public static final int PEER_IP = Ipv4Address.parse("198.18.2.1");
    public static final int STACK_IP = Ipv4Address.parse("198.18.2.2");
    /** The subnet-directed broadcast address of the link (198.18.2.0/24). */
    public static final int SUBNET_BROADCAST = Ipv4Address.parse("198.18.2.255");

    public final VirtualClock clock = new VirtualClock();
    public final RawEnd raw;
    public final Stack stack;
    /** Whether the constructing thread entered the stack (see {@link #entered}). */
    private boolean entered;

    /** @param stackOptions further {@code slipstream.*} settings of the stack */
    public RawPeer(Map<String, String> stackOptions) {
        this(stackOptions, null, "198.18.2.2/24");
    }

    /**
     * A stack on a NIC that shares its host's interface ({@link SharedInterface}) when
     * {@code host} is not null: the stack takes its identity, routes and neighbours from the
     * host's tables, and the raw end plays the host's neighbours.
     *
     * @param cidr the stack's configured address, or null to leave it to the host
     */
    public RawPeer(Map<String, String> stackOptions, HostTables host, String cidr) {
        String link = StackPair.newLink("raw");
        raw = new RawEnd(link, PEER_MAC, clock).answerArp(PEER_IP);
        Map<String, String> options = new HashMap<>(stackOptions);
        options.put("slipstream.mac", MacAddress.format(STACK_MAC));
        if (host == null) {
            stack = Stack.open(StackPair.config(link, cidr, options), clock);
        } else {
            StackConfig c = StackPair.config(link, cidr == null ? "198.18.2.2/24" : cidr, options);
            if (cidr == null) {
                c = new StackConfig(c.driver(), c.interfaceName(), Ipv4Address.ANY, StackConfig.FROM_HOST, c.gateway(),
                        c.mac(), c.settings());
            }
            VirtualInterface memory = NicDriver.byName("memory").open(NicConfig.of(link, STACK_MAC, c.settings().asMap()),
                    clock);
            stack = Stack.start(c, new SharedInterface(memory, host), clock);
        }
        raw.take(); // the stack's announcement at start: what is taken from now on, the test provoked
    }

    public RawPeer() {
        this(Map.of());
    }

    /**
     * A peer whose stack this thread has entered ({@link Stack#enter()}) until {@link #close}:
     * the test thread is the stack's one application thread and may call its sockets directly,
     * as their entry points require (they assert the stack lock).
     */
    public static RawPeer entered(Map<String, String> stackOptions) {
        return entered(stackOptions, null, "198.18.2.2/24");
    }

    /** {@link #entered(Map)}, on a NIC that shares {@code host}'s interface when it is not null (see the constructor). */
    public static RawPeer entered(Map<String, String> stackOptions, HostTables host, String cidr) {
        RawPeer p = new RawPeer(stackOptions, host, cidr);
        p.stack.enter();
        p.entered = true;
        return p;
    }

    public static RawPeer entered() {
        return entered(Map.of());
    }

    /**
     * Moves virtual time on by {@code nanos}. An entered stack is left and entered again, so
     * that what the test thread does next sees the new time, as an application thread's next
     * entry would (the stack's clock is read once per acquisition of its lock).
     */
    public void advance(long nanos) {
        clock.advance(nanos);
        if (entered) {
            stack.exit();
            stack.enter();
        }
    }

    /** Sends each frame in turn, letting the stack process it and both ends answer. */
    public void deliver(byte[]... frames) {
        for (byte[] f : frames) {
            raw.send(f);
            settle();
        }
    }

    /** Polls both ends until neither has anything left to do at this instant. */
    public void settle() {
        while (stack.poll() + raw.poll() > 0) {
            // let the stack process and answer
        }
    }

    /** The frames the stack sent since the last call (the ARP requests the peer answered left out). */
    public List<byte[]> take() {
        return raw.take();
    }

    /** The IPv4 frames of {@code protocol} among {@link #take()}, as segments (IP header at 14). */
    public List<MemorySegment> takeIpv4(int protocol) {
        List<MemorySegment> out = new ArrayList<>();
        for (byte[] f : take()) {
            MemorySegment s = MemorySegment.ofArray(f);
            if (Ethernet.outerType(s, 0) == Ethernet.TYPE_IPV4 && Ipv4.protocol(s, Ethernet.HEADER_LENGTH) == protocol) {
                out.add(s);
            }
        }
        return out;
    }

    /**
     * An IPv4 datagram from {@code source} to {@code destination} carrying {@code payload}, in an
     * Ethernet frame from the peer: to the stack's MAC, or to broadcast for a broadcast address.
     *
     * @param flagsAndOffset {@link Ipv4#FLAG_MF}, {@link Ipv4#FLAG_DF} and the fragment offset in 8-byte units
     */
    public static byte[] ipv4(int source, int destination, int protocol, int id, int flagsAndOffset, byte[] payload) {
        byte[] f = new byte[Ethernet.HEADER_LENGTH + Ipv4.MIN_HEADER_LENGTH + payload.length];
        MemorySegment s = MemorySegment.ofArray(f);
        boolean broadcast = destination == Ipv4Address.BROADCAST || destination == SUBNET_BROADCAST;
        Ethernet.write(s, 0, broadcast ? MacAddress.BROADCAST : STACK_MAC, PEER_MAC, Ethernet.TYPE_IPV4);
        System.arraycopy(payload, 0, f, Ethernet.HEADER_LENGTH + Ipv4.MIN_HEADER_LENGTH, payload.length);
        Ipv4.write(s, Ethernet.HEADER_LENGTH, 0, Ipv4.MIN_HEADER_LENGTH + payload.length, id, flagsAndOffset, 64,
                protocol, source, destination);
        return f;
    }

    /** An unfragmented IPv4 datagram from the peer to the stack. */
    public static byte[] ipv4(int protocol, byte[] payload) {
        return ipv4(PEER_IP, STACK_IP, protocol, 1, 0, payload);
    }

    /** A UDP datagram (header and payload) with its checksum, as sent from {@code source} to {@code destination}. */
    public static byte[] udpDatagram(int source, int destination, int sourcePort, int destinationPort, byte[] payload) {
        byte[] d = new byte[Udp.HEADER_LENGTH + payload.length];
        System.arraycopy(payload, 0, d, Udp.HEADER_LENGTH, payload.length);
        Udp.write(MemorySegment.ofArray(d), 0, sourcePort, destinationPort, payload.length, source, destination);
        return d;
    }

    /** A UDP datagram from the peer to the stack, in its frame. */
    public static byte[] udp(int sourcePort, int destinationPort, byte[] payload) {
        return ipv4(Ipv4.PROTO_UDP, udpDatagram(PEER_IP, STACK_IP, sourcePort, destinationPort, payload));
    }

    /**
     * A TCP segment (header, {@code options} already padded to a multiple of 4 bytes, then
     * {@code payload}) with its checksum, as sent from {@code source} to {@code destination}.
     */
    public static byte[] tcpSegment(int source, int destination, int sourcePort, int destinationPort, int seq, int ack,
                                    int flags, int window, byte[] options, byte[] payload) {
        int hl = Tcp.MIN_HEADER_LENGTH + options.length;
        byte[] d = new byte[hl + payload.length];
        MemorySegment s = MemorySegment.ofArray(d);
        Tcp.writeHeader(s, 0, sourcePort, destinationPort, seq, ack, hl, flags, window, 0);
        System.arraycopy(options, 0, d, Tcp.MIN_HEADER_LENGTH, options.length);
        System.arraycopy(payload, 0, d, hl, payload.length);
        Tcp.writeChecksum(s, 0, d.length, source, destination);
        return d;
    }

    /** A TCP segment from the peer to the stack, in its frame. */
    public static byte[] tcp(int sourcePort, int destinationPort, int seq, int ack, int flags, int window, byte[] options,
                             byte[] payload) {
        return ipv4(Ipv4.PROTO_TCP,
                tcpSegment(PEER_IP, STACK_IP, sourcePort, destinationPort, seq, ack, flags, window, options, payload));
    }

    /** An ICMP message (header and {@code data}) with its checksum. */
    public static byte[] icmp(int type, int code, int restOfHeader, byte[] data) {
        byte[] m = new byte[Icmp.HEADER_LENGTH + data.length];
        MemorySegment s = MemorySegment.ofArray(m);
        System.arraycopy(data, 0, m, Icmp.HEADER_LENGTH, data.length);
        Icmp.writeHeader(s, 0, type, code, restOfHeader);
        Icmp.finish(s, 0, m.length);
        return m;
    }

    /** An ARP packet from the peer in a minimum-size frame: broadcast for a request, to the stack for a reply. */
    public static byte[] arp(int operation, long senderMac, int senderIp, long targetMac, int targetIp) {
        byte[] f = new byte[Ethernet.MIN_FRAME_LENGTH];
        MemorySegment s = MemorySegment.ofArray(f);
        long to = operation == Arp.OP_REQUEST ? MacAddress.BROADCAST : STACK_MAC;
        Ethernet.write(s, 0, to, PEER_MAC, Ethernet.TYPE_ARP);
        Arp.write(s, Ethernet.HEADER_LENGTH, operation, senderMac, senderIp, targetMac, targetIp);
        return f;
    }

    @Override
    public void afterEach(ExtensionContext context) {
        close();
    }

    /** Closes both ends, then checks that the stack gave back every buffer, reassembly buffers included. */
    @Override
    public void close() {
        if (entered) {
            entered = false;
            stack.exit();
        }
        stack.close();
        raw.close();
        assertEquals(List.of(), stack.nic().buffers().leaks());
        assertEquals(0, stack.outstandingJumboBuffers(), "every reassembly slot gave its buffer back");
    }
}
