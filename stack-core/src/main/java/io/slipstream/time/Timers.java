package io.slipstream.time;

import java.util.Arrays;

/**
 * The stack's timers: a binary min-heap of {@link Timer}s ordered by deadline. The exact
 * earliest deadline ({@link #nextDeadline()}) is what the stack arms on the NIC timer, so an
 * idle stack with a two-hour keepalive sleeps two hours, not one tick.
 *
 * <p>Not thread-safe: used under the stack lock. Schedule, reschedule and cancel are
 * O(log n) and allocate nothing (the heap array grows, rarely, to the number of live timers).
 */
public final class Timers {
    private final Clock clock;
    private Timer[] heap = new Timer[64];
    private int size;

    public Timers(Clock clock) {
        this.clock = clock;
    }

    public Clock clock() {
        return clock;
    }

    /** Schedules or reschedules {@code timer} to fire at {@code deadlineNanos}. */
    public void schedule(Timer timer, long deadlineNanos) {
        if (timer.isScheduled()) {
            long old = timer.deadline;
            timer.deadline = deadlineNanos;
            if (deadlineNanos - old < 0) {
                siftUp(timer.heapIndex);
            } else {
                siftDown(timer.heapIndex);
            }
            return;
        }
        if (size == heap.length) {
            heap = Arrays.copyOf(heap, size * 2);
        }
        timer.deadline = deadlineNanos;
        timer.heapIndex = size;
        heap[size++] = timer;
        siftUp(timer.heapIndex);
    }

    /** Schedules {@code timer} {@code delayNanos} from now. */
    public void scheduleIn(Timer timer, long delayNanos) {
        schedule(timer, clock.nanoTime() + delayNanos);
    }

    /** Cancels {@code timer} if scheduled. */
    public void cancel(Timer timer) {
        int i = timer.heapIndex;
        if (i < 0) {
            return;
        }
        Timer last = heap[--size];
        heap[size] = null;
        timer.heapIndex = -1;
        if (i != size) {
            heap[i] = last;
            last.heapIndex = i;
            siftDown(i);
            siftUp(last.heapIndex);
        }
    }

    /**
     * Fires, earliest first, every timer whose deadline is at or before the clock's reading
     * now. A target may reschedule its own or other timers; one rescheduled into the past fires
     * in the same pass. Returns how many fired.
     */
    public int expire() {
        long now = clock.nanoTime();
        int fired = 0;
        while (size > 0 && heap[0].deadline - now <= 0) {
            Timer t = heap[0];
            cancel(t);
            fired++;
            t.target.onTimer(t, now);
        }
        return fired;
    }

    /** The earliest deadline, or {@link Long#MAX_VALUE} when nothing is scheduled. */
    public long nextDeadline() {
        return size == 0 ? Long.MAX_VALUE : heap[0].deadline;
    }

    public int size() {
        return size;
    }

    private void siftUp(int i) {
        Timer t = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            Timer p = heap[parent];
            if (p.deadline - t.deadline <= 0) {
                break;
            }
            heap[i] = p;
            p.heapIndex = i;
            i = parent;
        }
        heap[i] = t;
        t.heapIndex = i;
    }

    private void siftDown(int i) {
        Timer t = heap[i];
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            int right = child + 1;
            if (right < size && heap[right].deadline - heap[child].deadline < 0) {
                child = right;
            }
            Timer c = heap[child];
            if (t.deadline - c.deadline <= 0) {
                break;
            }
            heap[i] = c;
            c.heapIndex = i;
            i = child;
        }
        heap[i] = t;
        t.heapIndex = i;
    }
}
