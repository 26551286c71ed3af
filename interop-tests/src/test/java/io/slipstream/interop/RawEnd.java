package io.slipstream.interop;

import io.slipstream.buffer.PacketBuffer;
import io.slipstream.nic.EventHandler;
import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicDriver;
import io.slipstream.nic.VirtualInterface;
import io.slipstream.time.Clock;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One end of an in-memory link driven by the test itself: it sends arbitrary bytes as frames
 * and collects what the stack on the other end sends back.
 */
final class RawEnd implements AutoCloseable {
    final VirtualInterface vi;
    private final List<byte[]> received = new ArrayList<>();
    private final EventHandler handler = new EventHandler() {
        @Override
        public void onRx(PacketBuffer frame) {
            received.add(frame.segment().asSlice(frame.offset(), frame.length()).toArray(ValueLayout.JAVA_BYTE));
            frame.release(vi.stackOwner());
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

    RawEnd(String link, long mac, Clock clock) {
        vi = NicDriver.byName("memory").open(NicConfig.of(link, mac, Map.of()), clock);
        refill();
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
    void send(byte[] frame) {
        poll();
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

    int poll() {
        int n = vi.events().poll(handler, 256);
        refill();
        return n;
    }

    /** Frames received so far (and forgets them). */
    List<byte[]> take() {
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
