package io.slipstream.driver.xdp;

import static io.slipstream.driver.xdp.BpfAssembler.AND;
import static io.slipstream.driver.xdp.BpfAssembler.ADD;
import static io.slipstream.driver.xdp.BpfAssembler.FP;
import static io.slipstream.driver.xdp.BpfAssembler.JEQ;
import static io.slipstream.driver.xdp.BpfAssembler.JGT;
import static io.slipstream.driver.xdp.BpfAssembler.JLT;
import static io.slipstream.driver.xdp.BpfAssembler.JNE;
import static io.slipstream.driver.xdp.BpfAssembler.LSH;
import static io.slipstream.driver.xdp.BpfAssembler.R0;
import static io.slipstream.driver.xdp.BpfAssembler.R1;
import static io.slipstream.driver.xdp.BpfAssembler.R2;
import static io.slipstream.driver.xdp.BpfAssembler.R3;
import static io.slipstream.driver.xdp.BpfAssembler.R4;
import static io.slipstream.driver.xdp.BpfAssembler.R6;
import static io.slipstream.driver.xdp.BpfAssembler.R7;
import static io.slipstream.driver.xdp.BpfAssembler.R8;
import static io.slipstream.driver.xdp.BpfAssembler.R9;
import static io.slipstream.driver.xdp.BpfAssembler.RSH;
import static io.slipstream.driver.xdp.BpfAssembler.SIZE_B;
import static io.slipstream.driver.xdp.BpfAssembler.SIZE_H;
import static io.slipstream.driver.xdp.BpfAssembler.SIZE_W;

import io.slipstream.driver.xdp.BpfAssembler.Label;
import io.slipstream.linux.Bpf;
import io.slipstream.linux.Errno;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Slipstream's XDP program, emitted here as eBPF instructions (no compiler, no libbpf):
 *
 * <ol>
 *   <li>Ethernet, with one optional 802.1Q tag; anything but IPv4 passes to the kernel.
 *   <li>IPv4 (version 4, IHL 5..15). A fragment (MF set or offset non-zero) cannot be matched by
 *       port: it goes to Slipstream when the listener map has the key (protocol, destination,
 *       port 0), Slipstream's "fragments of this protocol to this address are mine" entry
 *       ({@link XdpFilters} keeps one while any UDP socket is bound there), else to the kernel.
 *   <li>TCP and UDP: the connection map is looked up with the full 4-tuple, then the listener
 *       map with (protocol, destination address, destination port), then with address 0.0.0.0
 *       (a wildcard bind).
 *   <li>ICMP destination unreachable, time exceeded and parameter problem: the quoted header
 *       inside is matched the same way from its source's point of view (its source is ours), so
 *       errors about Slipstream's flows reach Slipstream. Other ICMP (echo) stays with the kernel.
 *   <li>A hit is redirected to the XSKMAP entry of the receive queue; should that queue have no
 *       socket, {@code bpf_redirect_map}'s fallback action passes the frame to the kernel.
 * </ol>
 *
 * Every packet read is preceded by a bounds check against {@code data_end}, as the verifier
 * demands. Map keys are built on the BPF stack with every byte written (the verifier rejects
 * reads of uninitialised stack), in network byte order as {@link XdpFilters} writes them.
 */
final class XdpProgram {
    // xdp_md context offsets.
    static final int CTX_DATA = 0;
    static final int CTX_DATA_END = 4;
    static final int CTX_RX_QUEUE_INDEX = 16;

    // XDP actions.
    static final int XDP_DROP = 1;
    static final int XDP_PASS = 2;

    // Helper function numbers.
    static final int HELPER_MAP_LOOKUP_ELEM = 1;
    static final int HELPER_REDIRECT_MAP = 51;

    /** The connection key on the BPF stack: local addr, remote addr, local port, remote port, proto, 3 zero bytes. */
    private static final int CONN_KEY = -16;
    /** The listener key on the BPF stack: local addr, local port, proto, 1 zero byte. */
    private static final int LISTEN_KEY = -24;

    private static final int ETH_HEADER = 14;
    /** ETH_P_8021Q and ETH_P_IP as a little-endian 16-bit load of the network-order field sees them. */
    private static final int VLAN_LE = 0x0081;
    private static final int IPV4_LE = 0x0008;
    private static final int PROTO_ICMP = 1;
    static final int PROTO_TCP = 6;
    static final int PROTO_UDP = 17;
    private static final int ICMP_DEST_UNREACH = 3;
    private static final int ICMP_TIME_EXCEEDED = 11;
    private static final int ICMP_PARAMETER_PROBLEM = 12;
    private static final int ICMP_HEADER = 8;
    private static final int IPV4_MIN_HEADER = 20;
    /** Verifier log buffer for a failed load. */
    private static final int LOG_SIZE_BYTES = 1 << 20;

    private XdpProgram() {}

    /** The program over the given maps' descriptors. */
    static long[] instructions(int connMapFd, int listenMapFd, int xskMapFd) {
        return instructions(connMapFd, listenMapFd, xskMapFd, XDP_PASS);
    }

    /**
     * The program, with {@code noSocketAction} as what a matched frame gets when its queue has
     * no socket in the XSKMAP: XDP_PASS in service; tests pass XDP_DROP to tell a match from a
     * miss in BPF_PROG_TEST_RUN, where no socket is bound.
     */
    static long[] instructions(int connMapFd, int listenMapFd, int xskMapFd, int noSocketAction) {
        BpfAssembler a = new BpfAssembler();
        Label pass = a.label();
        Label untagged = a.label();
        Label fragment = a.label();
        Label icmp = a.label();
        Label quoted = a.label();
        Label lookup = a.label();
        Label listener = a.label();
        Label redirect = a.label();

        a.movReg(R6, R1);                                   // r6 = ctx
        a.load(SIZE_W, R7, R6, CTX_DATA);                   // r7 = data (Ethernet header)
        a.load(SIZE_W, R8, R6, CTX_DATA_END);               // r8 = data_end
        boundsCheck(a, R7, ETH_HEADER, pass);
        a.load(SIZE_H, R3, R7, 12);                         // ethertype
        a.jump(JNE, R3, VLAN_LE, untagged);
        boundsCheck(a, R7, ETH_HEADER + 4, pass);
        a.load(SIZE_H, R3, R7, 16);                         // the tagged frame's ethertype
        a.alu(ADD, R7, 4);                                  // from here on the IP header is at r7 + 14
        a.bind(untagged);
        a.jump(JNE, R3, IPV4_LE, pass);

        int ip = ETH_HEADER;
        boundsCheck(a, R7, ip + IPV4_MIN_HEADER, pass);
        a.load(SIZE_B, R3, R7, ip);                         // version and IHL
        a.movReg(R4, R3);
        a.alu(RSH, R4, 4);
        a.jump(JNE, R4, 4, pass);
        a.alu(AND, R3, 0x0f);
        a.jump(JLT, R3, 5, pass);
        a.alu(LSH, R3, 2);                                  // r3 = header length, 20..60
        // The connection key from the outer header: the destination is the local side.
        a.storeImm(SIZE_W, FP, CONN_KEY + 12, 0);
        a.load(SIZE_B, R4, R7, ip + 9);
        a.store(SIZE_B, FP, CONN_KEY + 12, R4);             // protocol
        a.load(SIZE_W, R4, R7, ip + 16);
        a.store(SIZE_W, FP, CONN_KEY, R4);                  // local address = destination
        a.load(SIZE_W, R4, R7, ip + 12);
        a.store(SIZE_W, FP, CONN_KEY + 4, R4);              // remote address = source
        a.load(SIZE_H, R4, R7, ip + 6);                     // flags and fragment offset
        a.fromBigEndian(R4, 16);
        a.alu(AND, R4, 0x3fff);                             // MF or an offset: a fragment
        a.jump(JNE, R4, 0, fragment);

        a.movReg(R9, R7);
        a.alu(ADD, R9, ip);
        a.aluReg(ADD, R9, R3);                              // r9 = transport header
        boundsCheck(a, R9, 4, pass);
        a.load(SIZE_B, R4, FP, CONN_KEY + 12);
        a.jump(JEQ, R4, PROTO_ICMP, icmp);
        a.load(SIZE_H, R4, R9, 0);
        a.store(SIZE_H, FP, CONN_KEY + 10, R4);             // remote port = source port
        a.load(SIZE_H, R4, R9, 2);
        a.store(SIZE_H, FP, CONN_KEY + 8, R4);              // local port = destination port
        transportOnly(a, lookup, pass);

        // An ICMP error quotes our own packet: its source is the local side.
        a.bind(icmp);
        a.load(SIZE_B, R4, R9, 0);                          // ICMP type
        a.jump(JEQ, R4, ICMP_DEST_UNREACH, quoted);
        a.jump(JEQ, R4, ICMP_TIME_EXCEEDED, quoted);
        a.jump(JEQ, R4, ICMP_PARAMETER_PROBLEM, quoted);
        a.jump(pass);
        a.bind(quoted);
        int inner = ICMP_HEADER;
        boundsCheck(a, R9, inner + IPV4_MIN_HEADER, pass);
        a.load(SIZE_B, R3, R9, inner);
        a.alu(AND, R3, 0x0f);
        a.jump(JLT, R3, 5, pass);
        a.alu(LSH, R3, 2);                                  // the quoted header's length
        a.load(SIZE_B, R4, R9, inner + 9);
        a.store(SIZE_B, FP, CONN_KEY + 12, R4);             // quoted protocol
        a.load(SIZE_W, R4, R9, inner + 12);
        a.store(SIZE_W, FP, CONN_KEY, R4);                  // local address = quoted source
        a.load(SIZE_W, R4, R9, inner + 16);
        a.store(SIZE_W, FP, CONN_KEY + 4, R4);              // remote address = quoted destination
        a.alu(ADD, R9, inner);
        a.aluReg(ADD, R9, R3);                              // r9 = quoted transport header
        boundsCheck(a, R9, 4, pass);
        a.load(SIZE_H, R4, R9, 0);
        a.store(SIZE_H, FP, CONN_KEY + 8, R4);              // local port = quoted source port
        a.load(SIZE_H, R4, R9, 2);
        a.store(SIZE_H, FP, CONN_KEY + 10, R4);             // remote port = quoted destination port
        transportOnly(a, lookup, pass);

        a.bind(fragment);
        a.storeImm(SIZE_H, FP, CONN_KEY + 8, 0);            // port 0: the (protocol, address) fragment entry
        a.jump(listener);

        a.bind(lookup);
        lookUp(a, connMapFd, CONN_KEY, redirect);
        a.bind(listener);
        a.storeImm(SIZE_W, FP, LISTEN_KEY + 4, 0);
        a.load(SIZE_W, R4, FP, CONN_KEY);
        a.store(SIZE_W, FP, LISTEN_KEY, R4);                // local address
        a.load(SIZE_H, R4, FP, CONN_KEY + 8);
        a.store(SIZE_H, FP, LISTEN_KEY + 4, R4);            // local port
        a.load(SIZE_B, R4, FP, CONN_KEY + 12);
        a.store(SIZE_B, FP, LISTEN_KEY + 6, R4);            // protocol
        lookUp(a, listenMapFd, LISTEN_KEY, redirect);
        a.storeImm(SIZE_W, FP, LISTEN_KEY, 0);              // then the wildcard address
        lookUp(a, listenMapFd, LISTEN_KEY, redirect);
        a.jump(pass);

        a.bind(redirect);
        a.loadMap(R1, xskMapFd);
        a.load(SIZE_W, R2, R6, CTX_RX_QUEUE_INDEX);
        a.mov(R3, noSocketAction);                          // no socket on this queue: the kernel's
        a.call(HELPER_REDIRECT_MAP);
        a.exit();

        a.bind(pass);
        a.mov(R0, XDP_PASS);
        a.exit();
        return a.assemble();
    }

    /** {@code if (base + length > data_end) goto fail}: makes bytes [base, base + length) readable. */
    private static void boundsCheck(BpfAssembler a, int base, int length, Label fail) {
        a.movReg(R2, base);
        a.alu(ADD, R2, length);
        a.jumpReg(JGT, R2, R8, fail);
    }

    /** TCP and UDP go on to the lookups; anything else passes. */
    private static void transportOnly(BpfAssembler a, Label lookup, Label pass) {
        a.load(SIZE_B, R4, FP, CONN_KEY + 12);
        a.jump(JEQ, R4, PROTO_TCP, lookup);
        a.jump(JEQ, R4, PROTO_UDP, lookup);
        a.jump(pass);
    }

    /** {@code if (bpf_map_lookup_elem(map, fp + key)) goto hit}. */
    private static void lookUp(BpfAssembler a, int mapFd, int key, Label hit) {
        a.loadMap(R1, mapFd);
        a.movReg(R2, FP);
        a.alu(ADD, R2, key);
        a.call(HELPER_MAP_LOOKUP_ELEM);
        a.jump(JNE, R0, 0, hit);
    }

    /**
     * Loads {@code insns} as an XDP program (license GPL: bpf_redirect_map needs it) and returns
     * its descriptor. A refusal is a {@link BpfException} whose message holds the verifier's log.
     */
    static int load(Bpf bpf, long[] insns, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment code = BpfAssembler.toMemory(insns, arena);
            int fd = bpf.progLoad(Bpf.PROG_TYPE_XDP, code, "GPL", name, null);
            if (fd >= 0) {
                return fd;
            }
            int errno = bpf.libc().errno();
            // Load again with the log on: on success the log may not fit, so only after a failure.
            MemorySegment log = arena.allocate(LOG_SIZE_BYTES);
            int again = bpf.progLoad(Bpf.PROG_TYPE_XDP, code, "GPL", name, log);
            if (again >= 0) {
                return again; // transient (EAGAIN from the verifier): take it
            }
            throw new BpfException("BPF_PROG_LOAD of " + name + " (" + insns.length + " instructions): "
                    + Errno.describe(errno) + "; verifier log:\n" + Bpf.logText(log).strip(), errno);
        }
    }
}
