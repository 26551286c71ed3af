package io.slipstream.replay;

import io.slipstream.testing.PcapFile;
import io.slipstream.wire.Ipv4;
import io.slipstream.wire.Tcp;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The one TCP or UDP conversation of a capture: the flow that opens with the first SYN (or,
 * for UDP, the first datagram), whose sender is the client, and every packet of it in
 * capture order. Other traffic in the file (ARP, ICMP, other flows) is left out.
 */
public record Conversation(String name, int protocol, int clientIp, int serverIp, int clientPort, int serverPort,
                           List<ReplayPacket> packets) {

    /** Which end of a conversation the stack under test plays; the engine plays the other. */
    public enum Role {
        CLIENT, SERVER;

        public Role other() {
            return this == CLIENT ? SERVER : CLIENT;
        }
    }

    /** The conversation of a capture in this package's resources (interop-tests/src/test/resources/replay). */
    public static Conversation load(String fileName) throws IOException {
        try (InputStream in = Conversation.class.getResourceAsStream("/replay/" + fileName)) {
            if (in == null) {
                throw new IllegalStateException(fileName + " is not in the replay corpus (src/test/resources/replay)");
            }
            return of(fileName, PcapFile.parse(Path.of(fileName), in.readAllBytes()));
        }
    }

    public static Conversation of(String name, PcapFile capture) {
        PacketCodec codec = new PacketCodec();
        List<ReplayPacket> all = new ArrayList<>();
        for (PcapFile.Frame f : capture.frames()) {
            codec.read(f.index() + 1, f.timestampNanos(), f.data()).ifPresent(all::add);
        }
        ReplayPacket first = all.stream().filter(p -> p.isTcp() && p.has(Tcp.SYN) && !p.has(Tcp.ACK)).findFirst()
                .or(() -> all.stream().filter(p -> !p.isTcp()).findFirst())
                .orElseThrow(() -> new IllegalArgumentException(name + ": no TCP SYN and no UDP datagram"));
        List<ReplayPacket> flow = all.stream().filter(p -> p.protocol() == first.protocol() && (
                p.source() == first.source() && p.sourcePort() == first.sourcePort()
                        && p.destination() == first.destination() && p.destinationPort() == first.destinationPort()
                || p.source() == first.destination() && p.sourcePort() == first.destinationPort()
                        && p.destination() == first.source() && p.destinationPort() == first.sourcePort())).toList();
        return new Conversation(name, first.protocol(), first.source(), first.destination(), first.sourcePort(),
                first.destinationPort(), flow);
    }

    public boolean isTcp() {
        return protocol == Ipv4.PROTO_TCP;
    }

    public boolean sentBy(ReplayPacket p, Role role) {
        return (p.source() == clientIp && p.sourcePort() == clientPort) == (role == Role.CLIENT);
    }

    public List<ReplayPacket> sentBy(Role role) {
        return packets.stream().filter(p -> sentBy(p, role)).toList();
    }

    /**
     * The roles a stack can play in this capture. A capture taken at one end of a lossy path
     * (NAME.client.pcap, NAME.server.pcap) shows what that end sent and received, so only that
     * end can be replayed; a capture of a direct link serves both.
     */
    public List<Role> playableRoles() {
        if (name.endsWith(".client.pcap")) {
            return List.of(Role.CLIENT);
        }
        if (name.endsWith(".server.pcap")) {
            return List.of(Role.SERVER);
        }
        return List.of(Role.CLIENT, Role.SERVER);
    }
}
