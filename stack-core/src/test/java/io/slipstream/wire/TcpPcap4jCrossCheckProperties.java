package io.slipstream.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.pcap4j.packet.IllegalRawDataException;
import org.pcap4j.packet.TcpMaximumSegmentSizeOption;
import org.pcap4j.packet.TcpNoOperationOption;
import org.pcap4j.packet.TcpPacket;
import org.pcap4j.packet.TcpSackPermittedOption;
import org.pcap4j.packet.TcpTimestampsOption;
import org.pcap4j.packet.TcpWindowScaleOption;
import org.pcap4j.packet.UnknownPacket;
import org.pcap4j.packet.namednumber.TcpPort;

/** Our TCP codec against Pcap4J, an independent implementation, on the same bytes. */
class TcpPcap4jCrossCheckProperties {

    private static Inet4Address addr(int a) throws Exception {
        return (Inet4Address) InetAddress.getByAddress(new byte[] {(byte) (a >>> 24), (byte) (a >>> 16), (byte) (a >>> 8), (byte) a});
    }

    @Property
    void pcap4jBuiltSegmentsParseWithOurs(@ForAll @IntRange(max = 65535) int sp, @ForAll @IntRange(max = 65535) int dp,
                                          @ForAll int seq, @ForAll int ack, @ForAll boolean syn, @ForAll boolean fin,
                                          @ForAll @IntRange(max = 65535) int win, @ForAll int tsv, @ForAll int tse,
                                          @ForAll @IntRange(max = 65535) int mss, @ForAll @IntRange(max = 14) int ws,
                                          @ForAll byte[] payload, @ForAll int srcIp, @ForAll int dstIp,
                                          @ForAll boolean corrupt) throws Exception {
        List<TcpPacket.TcpOption> opts = new ArrayList<>();
        opts.add(new TcpMaximumSegmentSizeOption.Builder().maxSegSize((short) mss).correctLengthAtBuild(true).build());
        opts.add(TcpSackPermittedOption.getInstance());
        opts.add(new TcpTimestampsOption.Builder().tsValue(tsv).tsEchoReply(tse).correctLengthAtBuild(true).build());
        opts.add(TcpNoOperationOption.getInstance());
        opts.add(new TcpWindowScaleOption.Builder().shiftCount((byte) ws).correctLengthAtBuild(true).build());
        byte[] data = payload.length > 500 ? java.util.Arrays.copyOf(payload, 500) : payload;
        TcpPacket.Builder b = new TcpPacket.Builder()
                .srcPort(TcpPort.getInstance((short) sp)).dstPort(TcpPort.getInstance((short) dp))
                .sequenceNumber(seq).acknowledgmentNumber(ack).syn(syn).fin(fin).ack(true)
                .window((short) win).options(opts).paddingAtBuild(true)
                .srcAddr(addr(srcIp)).dstAddr(addr(dstIp))
                .correctChecksumAtBuild(true).correctLengthAtBuild(true);
        if (data.length > 0) {
            b.payloadBuilder(new UnknownPacket.Builder().rawData(data));
        }
        byte[] raw = b.build().getRawData();
        if (corrupt) {
            // a payload byte when there is one (the options are compared below), else the checksum
            raw[data.length > 0 ? raw.length - 1 : 17] ^= 0x10;
        }
        MemorySegment s = MemorySegment.ofArray(raw);
        WireError e = Tcp.validate(s, 0, raw.length, srcIp, dstIp);
        TcpPacket parsed = TcpPacket.newPacket(raw, 0, raw.length);
        boolean theirs = parsed.hasValidChecksum(addr(srcIp), addr(dstIp), false);
        assertEquals(theirs, e == null, "checksum verdicts agree");
        assertEquals(sp, Tcp.sourcePort(s, 0));
        assertEquals(dp, Tcp.destinationPort(s, 0));
        assertEquals(seq, Tcp.sequence(s, 0));
        assertEquals(ack, Tcp.acknowledgment(s, 0));
        assertEquals(win, Tcp.window(s, 0));
        TcpOptions o = new TcpOptions();
        assertTrue(o.parse(s, 0));
        assertEquals(mss, o.mss);
        assertEquals(ws, o.windowScale);
        assertTrue(o.sackPermitted);
        assertEquals(tsv, o.tsVal);
        assertEquals(tse, o.tsEcr);
    }

    @Property
    void ourSegmentsParseWithPcap4j(@ForAll @IntRange(max = 65535) int sp, @ForAll int seq, @ForAll int ack,
                                    @ForAll @IntRange(max = 63) int flags, @ForAll int tsv, @ForAll int tse,
                                    @ForAll @IntRange(max = 3) int blocks, @ForAll byte[] payload,
                                    @ForAll int srcIp, @ForAll int dstIp) throws Exception {
        TcpOptions o = new TcpOptions();
        o.hasTimestamps = true;
        o.tsVal = tsv;
        o.tsEcr = tse;
        for (int i = 0; i < blocks; i++) {
            o.addSackBlock(seq + i * 100, seq + i * 100 + 50);
        }
        int ol = o.encodedLength();
        int plen = Math.min(payload.length, 500);
        int len = 20 + ol + plen;
        MemorySegment s = MemorySegment.ofArray(new byte[len]);
        o.write(s, 20);
        MemorySegment.copy(MemorySegment.ofArray(payload), 0, s, 20 + ol, plen);
        Tcp.writeHeader(s, 0, sp, 80, seq, ack, 20 + ol, flags, 1000, 0);
        Tcp.writeChecksum(s, 0, len, srcIp, dstIp);
        assertNull(Tcp.validate(s, 0, len, srcIp, dstIp));
        byte[] raw = s.toArray(ValueLayout.JAVA_BYTE);
        TcpPacket p;
        try {
            p = TcpPacket.newPacket(raw, 0, raw.length);
        } catch (IllegalRawDataException ex) {
            throw new AssertionError("pcap4j rejects our segment", ex);
        }
        assertTrue(p.hasValidChecksum(addr(srcIp), addr(dstIp), false));
        TcpPacket.TcpHeader h = p.getHeader();
        assertEquals((short) sp, h.getSrcPort().value());
        assertEquals(seq, h.getSequenceNumber());
        assertEquals(ack, h.getAcknowledgmentNumber());
        assertEquals((flags & Tcp.SYN) != 0, h.getSyn());
        assertEquals((flags & Tcp.FIN) != 0, h.getFin());
        assertEquals(20 + ol, h.getDataOffsetAsInt() * 4);
        TcpTimestampsOption t = (TcpTimestampsOption) h.getOptions().stream()
                .filter(x -> x instanceof TcpTimestampsOption).findFirst().orElseThrow();
        assertEquals(tsv, t.getTsValue());
        assertEquals(tse, t.getTsEchoReply());
        assertEquals(plen, p.getPayload() == null ? 0 : p.getPayload().length());
    }
}
