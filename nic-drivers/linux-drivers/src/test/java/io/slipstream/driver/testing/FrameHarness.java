package io.slipstream.driver.testing;

import static org.junit.jupiter.api.Assertions.fail;

import io.slipstream.buffer.PacketBuffer;
import io.slipstream.nic.EventHandler;
import io.slipstream.nic.VirtualInterface;
import io.slipstream.wire.Ethernet;
import io.slipstream.wire.MacAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * A test's tiny stack on a driver's virtual interface: keeps the rx ring stocked, polls, keeps
 * received frames for the test and returns sent buffers, and waits for a frame (or a condition)
 * with every wait bounded. Shared by the TAP and XDP driver tests.
 */
public final class FrameHarness {
    private final Supplier<VirtualInterface> vi;
    private final int rxFill;
    private final Duration step;
    public final Recorder events = new Recorder();

    /** Over the interface {@code vi} supplies (it may be opened after this is made). */
    public FrameHarness(Supplier<VirtualInterface> vi, int rxFill, Duration step) {
        this.vi = vi;
        this.rxFill = rxFill;
        this.step = step;
    }

    /** A buffer of the interface's pool, owned by the stack. */
    public PacketBuffer acquire() {
        PacketBuffer b = vi.get().buffers().acquire(vi.get().stackOwner());
        if (b == null) {
            fail("the pool of " + vi.get() + " is empty");
        }
        return b;
    }

    /** Posts {@code frame} and rings the doorbell. */
    public void send(PacketBuffer frame) {
        if (!vi.get().tx().post(frame)) {
            fail("tx ring of " + vi.get() + " is full");
        }
        vi.get().tx().doorbell();
    }

    /** Keeps the rx ring stocked, then polls once; returns the events delivered. */
    public int pump() {
        VirtualInterface v = vi.get();
        while (v.rx().posted() < rxFill) {
            PacketBuffer b = acquire();
            if (!v.rx().post(b)) {
                b.release(v.stackOwner());
                break;
            }
        }
        return v.events().poll(events, 64);
    }

    /**
     * Polls until a received frame matches {@code wanted} (returned, owned by the stack; the
     * caller releases it), releasing the others; fails after the step. Sleeps in the interrupt
     * between polls, never longer than 50 ms at a time.
     */
    public PacketBuffer awaitFrame(String what, Predicate<PacketBuffer> wanted) throws InterruptedException {
        VirtualInterface v = vi.get();
        long deadline = System.nanoTime() + step.toNanos();
        List<String> seen = new ArrayList<>();
        while (true) {
            pump();
            for (PacketBuffer b = events.rx.poll(); b != null; b = events.rx.poll()) {
                if (wanted.test(b)) {
                    return b;
                }
                seen.add(describe(b));
                b.release(v.stackOwner());
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return fail("no " + what + " within " + step + "; received instead: " + seen + "; stats " + v.stats());
            }
            v.interrupt().enable();
            v.interrupt().await(Math.min(left, Duration.ofMillis(50).toNanos()));
        }
    }

    /** Polls until {@code done} holds (or fails after the step). */
    public void pollUntil(String what, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + step.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("not within " + step + ": " + what + "; stats " + vi.get().stats());
            }
            pump();
            Thread.sleep(1);
        }
    }

    /** Releases every received frame the test has not taken. */
    public void releaseHeld() {
        for (PacketBuffer b = events.rx.poll(); b != null; b = events.rx.poll()) {
            b.release(vi.get().stackOwner());
        }
    }

    public static String describe(PacketBuffer b) {
        if (b.length() < Ethernet.HEADER_LENGTH) {
            return b.length() + "-byte runt";
        }
        return String.format("%d bytes %s -> %s type 0x%04x", b.length(),
                MacAddress.format(Ethernet.source(b.segment(), b.offset())),
                MacAddress.format(Ethernet.destination(b.segment(), b.offset())),
                Ethernet.outerType(b.segment(), b.offset()));
    }

    /** The test's event handler: keeps rx frames, returns tx buffers, counts the rest. */
    public final class Recorder implements EventHandler {
        public final ArrayDeque<PacketBuffer> rx = new ArrayDeque<>();
        public int txCompleted;
        public int timers;
        public int wakeups;

        @Override
        public void onRx(PacketBuffer frame) {
            rx.add(frame);
        }

        @Override
        public void onTxComplete(PacketBuffer frame) {
            txCompleted++;
            frame.release(vi.get().stackOwner());
        }

        @Override
        public void onTimer() {
            timers++;
        }

        @Override
        public void onWakeup() {
            wakeups++;
        }
    }
}
