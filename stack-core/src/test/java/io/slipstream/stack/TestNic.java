package io.slipstream.stack;

import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.BufferPool;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.nic.EventHandler;
import io.slipstream.nic.EventQueue;
import io.slipstream.nic.Interrupt;
import io.slipstream.nic.NicStats;
import io.slipstream.nic.NicTimer;
import io.slipstream.nic.RxRing;
import io.slipstream.nic.SoftwareNicTimer;
import io.slipstream.nic.TxRing;
import io.slipstream.nic.VirtualInterface;
import io.slipstream.time.Clock;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A small but complete NIC for the runtime's unit tests (stack-core cannot use the memory
 * driver, which depends on it): the test delivers frames with {@link #deliver}, from any
 * thread; sent frames complete at the doorbell. Its interrupt behaves as the SPI says: once
 * enabled, the next event (or one already queued, or the NIC timer passing) fires it once.
 */
final class TestNic implements VirtualInterface {
    private final long mac;
    private final Clock clock;
    private final BufferPool pool = BufferPool.allocate(256, BufferPool.DEFAULT_FRAME_SIZE);
    private final BufferOwner stackOwner = new BufferOwner("test nic stack");
    private final BufferOwner nicOwner = new BufferOwner("test nic");
    private final NicStats stats = new NicStats();
    private final SoftwareNicTimer timer = new SoftwareNicTimer();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<PacketBuffer> posted = new ArrayDeque<>(); // guarded by lock
    private final ArrayDeque<PacketBuffer> rxEvents = new ArrayDeque<>(); // guarded by lock
    private final ArrayDeque<PacketBuffer> txWaiting = new ArrayDeque<>(); // guarded by lock
    private final ArrayDeque<PacketBuffer> txDone = new ArrayDeque<>(); // guarded by lock
    private final AtomicInteger wakeups = new AtomicInteger();
    private boolean enabled; // guarded by lock
    private boolean fired; // guarded by lock
    private boolean woken; // guarded by lock
    private volatile boolean closed;
    final AtomicInteger framesSent = new AtomicInteger();
    final AtomicInteger interruptsFired = new AtomicInteger();

    TestNic(long mac, Clock clock) {
        this.mac = mac;
        this.clock = clock;
    }

    /** Delivers a frame into a posted buffer (dropped if none) and fires an enabled interrupt. */
    void deliver(byte[] frame) {
        lock.lock();
        try {
            PacketBuffer b = posted.pollFirst();
            if (b == null) {
                return;
            }
            MemorySegment.copy(MemorySegment.ofArray(frame), 0, b.segment(), 0, frame.length);
            b.setRange(0, frame.length);
            rxEvents.addLast(b);
            fireIfEnabled();
        } finally {
            lock.unlock();
        }
    }

    private void fireIfEnabled() {
        if (enabled) {
            enabled = false;
            fired = true;
            wakeups.incrementAndGet();
            interruptsFired.incrementAndGet();
            changed.signalAll();
        }
    }

    private int locked(java.util.function.IntSupplier read) {
        lock.lock();
        try {
            return read.getAsInt();
        } finally {
            lock.unlock();
        }
    }

    private boolean queued() {
        return !rxEvents.isEmpty() || !txDone.isEmpty() || wakeups.get() > 0;
    }

    @Override
    public String name() {
        return "test0";
    }

    @Override
    public long mac() {
        return mac;
    }

    @Override
    public int mtu() {
        return 1500;
    }

    @Override
    public BufferPool buffers() {
        return pool;
    }

    @Override
    public BufferOwner stackOwner() {
        return stackOwner;
    }

    private final RxRing rx = new RxRing() {
        @Override
        public boolean post(PacketBuffer empty) {
            lock.lock();
            try {
                if (posted.size() >= capacity()) {
                    return false;
                }
                empty.transfer(stackOwner, nicOwner);
                posted.addLast(empty);
                return true;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public int capacity() {
            return 64;
        }

        @Override
        public int posted() {
            return locked(posted::size);
        }
    };

    private final TxRing tx = new TxRing() {
        @Override
        public boolean post(PacketBuffer frame) {
            lock.lock();
            try {
                frame.transfer(stackOwner, nicOwner);
                txWaiting.addLast(frame);
                return true;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void doorbell() {
            lock.lock();
            try {
                PacketBuffer b;
                while ((b = txWaiting.pollFirst()) != null) {
                    framesSent.incrementAndGet();
                    txDone.addLast(b);
                    fireIfEnabled();
                }
            } finally {
                lock.unlock();
            }
        }

        @Override
        public int capacity() {
            return 64;
        }

        @Override
        public int posted() {
            return locked(() -> txWaiting.size() + txDone.size());
        }
    };

    private final EventQueue events = new EventQueue() {
        @Override
        public int poll(EventHandler handler, int limit) {
            int n = 0;
            while (n < limit && wakeups.get() > 0) {
                wakeups.decrementAndGet();
                n++;
                handler.onWakeup();
            }
            if (n < limit && timer.expire(clock.nanoTime())) {
                n++;
                handler.onTimer();
            }
            while (n < limit) {
                PacketBuffer rxb;
                PacketBuffer txb = null;
                lock.lock();
                try {
                    rxb = rxEvents.pollFirst();
                    if (rxb == null) {
                        txb = txDone.pollFirst();
                    }
                } finally {
                    lock.unlock();
                }
                if (rxb != null) {
                    rxb.transfer(nicOwner, stackOwner);
                    handler.onRx(rxb);
                } else if (txb != null) {
                    txb.transfer(nicOwner, stackOwner);
                    handler.onTxComplete(txb);
                } else {
                    break;
                }
                n++;
            }
            return n;
        }

        @Override
        public boolean hasEvents() {
            lock.lock();
            try {
                return queued() || timer.remaining(clock.nanoTime()) == 0;
            } finally {
                lock.unlock();
            }
        }
    };

    private final Interrupt interrupt = new Interrupt() {
        @Override
        public void enable() {
            lock.lock();
            try {
                if (enabled || closed) {
                    return;
                }
                fired = false;
                enabled = true;
                if (queued() || timer.remaining(clock.nanoTime()) == 0) {
                    fireIfEnabled();
                }
            } finally {
                lock.unlock();
            }
        }

        @Override
        public boolean isEnabled() {
            lock.lock();
            try {
                return enabled;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public boolean await(long timeoutNanos) throws InterruptedException {
            // Like a driver without a hardware timer, the wait itself watches the NIC timer, as
            // armed when the wait began: an earlier deadline armed later must wake() it.
            long timerLeft = timer.remaining(clock.nanoTime());
            long wait = Math.min(timeoutNanos, timerLeft);
            lock.lock();
            try {
                long left = wait;
                while (!fired && !woken && left > 0) {
                    left = changed.awaitNanos(left);
                }
                if (!fired && !woken && enabled && timer.remaining(clock.nanoTime()) == 0) {
                    fireIfEnabled();
                }
                boolean result = fired;
                fired = false;
                woken = false;
                return result;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void wake() {
            lock.lock();
            try {
                woken = true;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    };

    @Override
    public RxRing rx() {
        return rx;
    }

    @Override
    public TxRing tx() {
        return tx;
    }

    @Override
    public EventQueue events() {
        return events;
    }

    @Override
    public NicTimer timer() {
        return timer;
    }

    @Override
    public Interrupt interrupt() {
        return interrupt;
    }

    @Override
    public NicStats stats() {
        return stats;
    }

    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            for (ArrayDeque<PacketBuffer> q : java.util.List.of(posted, rxEvents, txWaiting, txDone)) {
                PacketBuffer b;
                while ((b = q.pollFirst()) != null) {
                    b.release(nicOwner);
                }
            }
            woken = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        pool.close();
    }

    /** Waits (bounded) until {@code done}; for liveness only, never as a timing assertion. */
    static void eventually(java.util.function.BooleanSupplier done, String what) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!done.getAsBoolean()) {
            if (System.nanoTime() - end > 0) {
                throw new AssertionError("not reached within 20 s: " + what);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }
}
