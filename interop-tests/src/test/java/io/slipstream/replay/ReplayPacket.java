package io.slipstream.replay;

import io.slipstream.wire.Ipv4;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.Tcp;
import io.slipstream.wire.TcpOptions;
import java.util.Arrays;

/**
 * One TCP segment or one (reassembled) UDP datagram of a conversation, recorded or live, as
 * the replay engine reads and rewrites it. Sequence numbers are the raw 32-bit values.
 *
 * @param frame         where it came from: the capture's frame number (1-based, as tcpdump and
 *                      Wireshark count), or the live packet's number among the conversation's
 *                      packets the live end sent (1-based)
 * @param fragmentSizes for a UDP datagram that travelled in IPv4 fragments, the IP payload bytes
 *                      of each fragment (multiples of 8 but the last); empty otherwise
 */
public record ReplayPacket(int frame, long timeNanos, int protocol, int source, int destination, int sourcePort,
                           int destinationPort, int flags, int seq, int ack, int window, TcpOptions options,
                           byte[] payload, int[] fragmentSizes) {

    public boolean isTcp() {
        return protocol == Ipv4.PROTO_TCP;
    }

    public boolean has(int flag) {
        return (flags & flag) != 0;
    }

    /** Sequence space the segment occupies: its payload, plus one each for SYN and FIN (RFC 9293 §3.4). */
    public int sequenceLength() {
        return payload.length + (has(Tcp.SYN) ? 1 : 0) + (has(Tcp.FIN) ? 1 : 0);
    }

    /** The same packet numbered {@code n}. */
    public ReplayPacket numbered(int n) {
        return new ReplayPacket(n, timeNanos, protocol, source, destination, sourcePort, destinationPort, flags, seq,
                ack, window, options, payload, fragmentSizes);
    }

    /** The same packet with new addresses, ports, numbers and options (payload shared). */
    public ReplayPacket rewritten(int source, int destination, int sourcePort, int destinationPort, int seq, int ack,
                                  TcpOptions options) {
        return new ReplayPacket(frame, timeNanos, protocol, source, destination, sourcePort, destinationPort, flags,
                seq, ack, window, options, payload, fragmentSizes);
    }

    @Override
    public String toString() {
        String from = Ipv4Address.format(source) + ":" + sourcePort + " > " + Ipv4Address.format(destination) + ":"
                + destinationPort;
        if (!isTcp()) {
            return "#" + frame + " UDP " + from + " " + payload.length + " bytes"
                    + (fragmentSizes.length > 0 ? " in fragments " + Arrays.toString(fragmentSizes) : "");
        }
        return "#" + frame + " " + from + " " + Tcp.flagString(flags) + " seq " + Integer.toUnsignedString(seq)
                + " ack " + Integer.toUnsignedString(ack) + " win " + window + " len " + payload.length + optionText();
    }

    private String optionText() {
        TcpOptions o = options;
        StringBuilder b = new StringBuilder();
        if (o.mss >= 0) {
            b.append(" mss ").append(o.mss);
        }
        if (o.windowScale >= 0) {
            b.append(" ws ").append(o.windowScale);
        }
        if (o.sackPermitted) {
            b.append(" sackOK");
        }
        if (o.hasTimestamps) {
            b.append(" ts ").append(Integer.toUnsignedString(o.tsVal)).append('/').append(Integer.toUnsignedString(o.tsEcr));
        }
        for (int i = 0; i < o.sackBlockCount; i++) {
            b.append(" sack ").append(Integer.toUnsignedString(o.sackLeft[i])).append('-')
                    .append(Integer.toUnsignedString(o.sackRight[i]));
        }
        return b.toString();
    }
}
