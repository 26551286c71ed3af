package io.slipstream.driver.packet;

import io.slipstream.linux.Capabilities;
import io.slipstream.linux.Libc;
import io.slipstream.linux.Sockets;
import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicDriver;
import io.slipstream.nic.NicException;
import io.slipstream.nic.VirtualInterface;
import io.slipstream.time.Clock;
import java.lang.foreign.Arena;
import java.util.Map;

/**
 * {@code slipstream.driver=packet}: a virtual interface on an AF_PACKET socket with a
 * TPACKET_V3 receive ring on an existing Linux interface ({@code slipstream.interface}:
 * physical, macvlan, veth), for where XDP cannot attach. The stack has an address and a MAC of
 * its own that the kernel does not hold ({@code slipstream.address}, {@code slipstream.mac}),
 * and answers ARP for it itself, as with TAP; the kernel keeps its own addresses and traffic on
 * the same interface. Needs CAP_NET_RAW (or root).
 */
public final class PacketDriver implements NicDriver {
    public static final String NAME = "packet";

    @Override
    public String name() {
        return NAME;
    }

    /** After {@link #check}, so the two usual failures are named the same way whoever opens it. */
    @Override
    public VirtualInterface open(NicConfig config, Clock clock) {
        PacketOptions options = PacketOptions.from(config);
        check(config.interfaceName(), config.options());
        return PacketInterface.open(config, options, clock);
    }

    /** The interface exists (NOT_FOUND), then the process holds CAP_NET_RAW (NOT_PERMITTED). */
    @Override
    public void check(String ifname, Map<String, String> options) {
        String os = System.getProperty("os.name", "");
        if (!os.startsWith("Linux")) {
            throw new NicException(NicException.Kind.NOT_FOUND, "packet " + ifname + ": AF_PACKET needs Linux, this is " + os);
        }
        try (Arena arena = Arena.ofConfined()) {
            Libc libc = new Libc(arena);
            if (new Sockets(libc).ifIndex(ifname) == 0) {
                throw new NicException(NicException.Kind.NOT_FOUND, "packet " + ifname + ": no such interface ("
                        + libc.failure("if_nametoindex") + "; `ip link` lists those there are)");
            }
        }
        if (!Capabilities.ofThisProcess().has(Capabilities.CAP_NET_RAW)) {
            throw new NicException(NicException.Kind.NOT_PERMITTED, "packet " + ifname + ": this process lacks"
                    + " CAP_NET_RAW (AF_PACKET sockets need it: run it as root, or grant it, e.g."
                    + " AmbientCapabilities=CAP_NET_RAW in a systemd unit)");
        }
    }
}
