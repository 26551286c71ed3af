package io.slipstream.relay;

import io.slipstream.linux.NetNamespace;
import io.slipstream.testing.NetNs;
import java.io.IOException;

/**
 * The namespaces a relayed run takes, all fresh and all removed on close, on 198.19.3D.0/24 (D
 * the digit given; 198.19.30–39 are the relay's, and since every address lives inside the lab's
 * own namespaces, parallel labs cannot meet anyway):
 *
 * <pre>
 *   kernel side (ka 198.19.3D.1) ─veth─ ra ┐
 *                                          ├ relay namespace: ImpairmentRelay ─ rb ─veth─ (pb 198.19.3D.2) peer
 *   Slipstream (TAP, 198.19.3D.3) ─ tap ───┘
 * </pre>
 *
 * The peer is always the kernel; the near side is the kernel ({@link #relayKernelSide}) or a
 * Slipstream stack on a TAP device moved into the relay namespace ({@link #adoptTap},
 * {@link #relayTap}), so both cross the same relay, the same peer and the same impairments. The
 * kernel ends send whole frames (checksum and segmentation offloads off) and check every
 * checksum they receive (receive offload off): the relay copies frames, and corrupts some.
 */
public final class RelayLab implements AutoCloseable {
    public static final int PREFIX_LENGTH = 24;
    private static final String KERNEL_SIDE_DEVICE = "ka";
    private static final String RELAY_KERNEL_DEVICE = "ra";
    private static final String RELAY_PEER_DEVICE = "rb";
    private static final String PEER_DEVICE = "pb";

    private final String subnet;
    private final NetNs relay;
    private final NetNs kernelSide;
    private final NetNs peer;
    private boolean closed;

    private RelayLab(String subnet, NetNs relay, NetNs kernelSide, NetNs peer) {
        this.subnet = subnet;
        this.relay = relay;
        this.kernelSide = kernelSide;
        this.peer = peer;
    }

    /** Makes the namespaces and veth pairs on 198.19.3{@code digit}.0/24. Needs root. */
    public static RelayLab create(int digit) {
        if (digit < 0 || digit > 9) {
            throw new IllegalArgumentException("subnet digit " + digit + ": 0 to 9 (198.19.30-39)");
        }
        String subnet = "198.19.3" + digit + ".";
        NetNs relay = NetNs.create("rlyR");
        NetNs kernelSide = null;
        NetNs peer = null;
        try {
            kernelSide = NetNs.create("rlyK");
            peer = NetNs.create("rlyP");
            quiet(relay);
            NetNs.run("ip", "link", "add", "name", KERNEL_SIDE_DEVICE, "netns", kernelSide.name(), "type", "veth",
                    "peer", "name", RELAY_KERNEL_DEVICE, "netns", relay.name()).orThrow();
            NetNs.run("ip", "link", "add", "name", PEER_DEVICE, "netns", peer.name(), "type", "veth",
                    "peer", "name", RELAY_PEER_DEVICE, "netns", relay.name()).orThrow();
            kernelEnd(kernelSide, KERNEL_SIDE_DEVICE, subnet + 1);
            kernelEnd(peer, PEER_DEVICE, subnet + 2);
            relayEnd(relay, RELAY_KERNEL_DEVICE);
            relayEnd(relay, RELAY_PEER_DEVICE);
            return new RelayLab(subnet, relay, kernelSide, peer);
        } catch (RuntimeException | Error e) {
            closeAll(peer, kernelSide, relay);
            throw e;
        }
    }

    private static void quiet(NetNs ns) {
        ns.exec("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1").orThrow();
    }

    private static void kernelEnd(NetNs ns, String device, String address) {
        quiet(ns);
        ns.exec("ethtool", "-K", device, "tx", "off", "rx", "off", "tso", "off", "gso", "off", "gro", "off").orThrow();
        ns.exec("ip", "addr", "add", address + "/" + PREFIX_LENGTH, "dev", device).orThrow();
        ns.exec("ip", "link", "set", device, "up").orThrow();
    }

    private static void relayEnd(NetNs ns, String device) {
        ns.exec("ethtool", "-K", device, "gro", "off").orThrow();
        ns.exec("ip", "link", "set", device, "promisc", "on", "up").orThrow();
    }

    /** The near kernel's address (on the kernel side's veth). */
    public String kernelSideAddress() {
        return subnet + 1;
    }

    /** The peer kernel's address. */
    public String peerAddress() {
        return subnet + 2;
    }

    /** The address a Slipstream stack on the TAP side takes ({@code slipstream.address} form). */
    public String slipstreamCidr() {
        return slipstreamAddress() + "/" + PREFIX_LENGTH;
    }

    public String slipstreamAddress() {
        return subnet + 3;
    }

    public NetNs kernelSide() {
        return kernelSide;
    }

    public NetNs peer() {
        return peer;
    }

    public NetNs relayNamespace() {
        return relay;
    }

    /**
     * Moves {@code device}, a TAP device a stack in this process just created, into the relay
     * namespace and brings it up there (no address: the relay only bridges it).
     */
    public void adoptTap(String device) {
        NetNs.run("ip", "link", "set", device, "netns", relay.name()).orThrow();
        relayEnd(relay, device);
    }

    /** Relays between the kernel side and the peer: {@code toPeer} impairs what the kernel side sends. */
    public ImpairmentRelay relayKernelSide(Impairment toPeer, Impairment fromPeer, long seed) throws IOException {
        return relay(RELAY_KERNEL_DEVICE, toPeer, fromPeer, seed);
    }

    /** Relays between an adopted TAP device and the peer: {@code toPeer} impairs what the stack sends. */
    public ImpairmentRelay relayTap(String device, Impairment toPeer, Impairment fromPeer, long seed) throws IOException {
        return relay(device, toPeer, fromPeer, seed);
    }

    private ImpairmentRelay relay(String near, Impairment toPeer, Impairment fromPeer, long seed) throws IOException {
        return ImpairmentRelay.start(NetNamespace.named(relay.name()), near, RELAY_PEER_DEVICE, toPeer, fromPeer, seed);
    }

    /** Kills what runs inside and deletes the namespaces (the veth pairs and an adopted TAP go along). Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        closeAll(peer, kernelSide, relay);
    }

    private static void closeAll(NetNs... namespaces) {
        RuntimeException first = null;
        for (NetNs ns : namespaces) {
            if (ns == null) {
                continue;
            }
            try {
                ns.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
