package io.slipstream.replay;

import io.slipstream.testing.RawEnd;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntSupplier;

/**
 * The engine's end of the link to a live end: it sends the replayed side's packets as Ethernet
 * frames from the peer's MAC to the live end's, and reads back the TCP and UDP packets the live
 * end sent (its ARP answered by the {@link RawEnd}).
 */
final class EngineEnd implements AutoCloseable {
    private final RawEnd raw;
    private final long peerMac;
    private final long liveMac;
    private final PacketCodec codec = new PacketCodec();
    private int received;

    EngineEnd(RawEnd raw, long peerMac, long liveMac) {
        this.raw = raw;
        this.peerMac = peerMac;
        this.liveMac = liveMac;
    }

    void send(ReplayPacket p) {
        for (byte[] f : codec.write(p, liveMac, peerMac)) {
            raw.send(f);
        }
    }

    /** What the live end sent since the last call, each packet numbered in order and stamped {@code nowNanos}. */
    List<ReplayPacket> take(long nowNanos) {
        List<ReplayPacket> out = new ArrayList<>();
        for (byte[] f : raw.take()) {
            codec.read(++received, nowNanos, f).ifPresent(out::add);
        }
        return out;
    }

    int poll() {
        return raw.poll();
    }

    /** Lets {@code nanos} of real time pass, doing {@code work} (polling) and pausing briefly whenever it found none. */
    static void passRealTime(long nanos, IntSupplier work, long pauseNanos) {
        long end = System.nanoTime() + nanos;
        do {
            if (work.getAsInt() == 0) {
                LockSupport.parkNanos(Math.min(pauseNanos, Math.max(0, end - System.nanoTime())));
            }
        } while (System.nanoTime() < end);
    }

    @Override
    public void close() {
        raw.close();
    }
}
