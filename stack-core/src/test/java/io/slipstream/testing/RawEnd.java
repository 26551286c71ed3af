package io.slipstream.testing;

import io.slipstream.buffer.PacketBuffer;
import io.slipstream.nic.EventHandler;
import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicDriver;
import io.slipstream.nic.VirtualInterface;
import io.slipstream.time.Clock;
import io.slipstream.wire.Arp;
import io.slipstream.wire.Ethernet;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One end of a link driven by the test itself (an in-memory link, or any NIC it is given): it
 * sends arbitrary bytes as frames and collects what the other end (a stack, the kernel) sends back.
 */
public final class RawEnd implements AutoCloseable {
    public final VirtualInterface vi;
    private final List<byte[]> received = new ArrayList<>();
    private final EventHandler handler = new EventHandler() {
        @Override
        public void onRx(PacketBuffer frame) {
            byte[] f = frame.segment().asSlice(frame.offset(), frame.length()).toArray(ValueLayout.JAVA_BYTE);
            frame.release(vi.stackOwner());
            MemorySegment s = MemorySegment.ofArray(f);
            if (answerArpFor != 0 && f.length >= 42 && Ethernet.outerType(s, 0) == Ethernet.TYPE_ARP
                    && Arp.operation(s, 14) == Arp.OP_REQUEST && Arp.targetIp(s, 14) == answerArpFor) {
                byte[] reply = new byte[60];
                MemorySegment r = MemorySegment.ofArray(reply);
                Ethernet.write(r, 0, Arp.senderMac(s, 14), mac, Ethernet.TYPE_ARP);
                Arp.write(r, 14, Arp.OP_REPLY, mac, answerArpFor, Arp.senderMac(s, 14), Arp.senderIp(s, 14));
                pendingReplies.add(reply);
                return;
            }
            received.add(f);
        }

        @Override
        public void onTxComplete(PacketBuffer frame) {
            frame.release(vi.stackOwner());
        }

        @Override
        public void onTimer() {}

        @Override
        public void onWakeup() {}
    };

    private final long mac;
    private int answerArpFor;

    public RawEnd(String link, long mac, Clock clock) {
        this(NicDriver.byName("memory").open(NicConfig.of(link, mac, Map.of()), clock), mac);
    }

    /** A raw end on any NIC (a TAP device, say), sending from {@code mac}; closing it closes the NIC. */
    public RawEnd(VirtualInterface vi, long mac) {
        this.mac = mac;
        this.vi = vi;
        refill();
    }

    /** From now on, answer ARP requests for {@code ip} with this end's MAC; 0 answers none. */
    public RawEnd answerArp(int ip) {
        this.answerArpFor = ip;
        return this;
    }

    private void refill() {
        while (vi.rx().posted() < vi.rx().capacity()) {
            PacketBuffer b = vi.buffers().acquire(vi.stackOwner());
            if (b == null) {
                return;
            }
            b.setRange(0, b.capacity());
            if (!vi.rx().post(b)) {
                b.release(vi.stackOwner());
                return;
            }
        }
    }

    /** Sends {@code frame} as it is (at most one buffer's worth). */
    public void send(byte[] frame) {
        poll();
        transmit(frame);
    }

    private void transmit(byte[] frame) {
        PacketBuffer b = vi.buffers().acquire(vi.stackOwner());
        if (b == null) {
            throw new IllegalStateException("raw end out of buffers");
        }
        int n = Math.min(frame.length, b.capacity());
        MemorySegment.copy(frame, 0, b.segment(), ValueLayout.JAVA_BYTE, 0, n);
        b.setRange(0, n);
        if (!vi.tx().post(b)) {
            b.release(vi.stackOwner());
            throw new IllegalStateException("raw end tx ring full");
        }
        vi.tx().doorbell();
    }

    private final List<byte[]> pendingReplies = new ArrayList<>();

    public int poll() {
        int n = vi.events().poll(handler, 256);
        refill();
        while (!pendingReplies.isEmpty()) {
            transmit(pendingReplies.remove(0));
            n++;
        }
        return n;
    }

    /** Frames received so far (and forgets them). */
    public List<byte[]> take() {
        poll();
        List<byte[]> out = new ArrayList<>(received);
        received.clear();
        return out;
    }

    @Override
    public void close() {
        vi.close();
    }
}
