package io.slipstream.time;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.Tuple.Tuple3;
import org.junit.jupiter.api.Test;

class TimersProperties {

    /**
     * Against a plain map model: after random schedules, reschedules, cancels and clock moves,
     * exactly the timers whose deadlines passed fire, earliest first, and nextDeadline is the
     * model's minimum.
     */
    @Property(tries = 500)
    void firesExactlyTheDueTimersInDeadlineOrder(@ForAll("ops") List<Tuple3<Integer, Integer, Long>> ops) {
        VirtualClock clock = new VirtualClock(0);
        Timers timers = new Timers(clock);
        List<Long> fired = new ArrayList<>();
        Timer[] all = new Timer[8];
        Map<Integer, Long> model = new HashMap<>();
        for (int i = 0; i < all.length; i++) {
            all[i] = new Timer((t, now) -> fired.add(t.deadline()));
        }
        for (Tuple3<Integer, Integer, Long> op : ops) {
            int which = op.get2();
            switch (op.get1()) {
                case 0 -> {
                    long deadline = clock.nanoTime() + op.get3();
                    timers.schedule(all[which], deadline);
                    model.put(which, deadline);
                }
                case 1 -> {
                    timers.cancel(all[which]);
                    model.remove(which);
                }
                default -> {
                    clock.advance(op.get3());
                    fired.clear();
                    int n = timers.expire();
                    long now = clock.nanoTime();
                    List<Long> due = model.values().stream().filter(d -> d <= now).sorted().toList();
                    model.values().removeIf(d -> d <= now);
                    assertEquals(due.size(), n);
                    assertEquals(due, fired, "due timers fire earliest first");
                }
            }
            assertEquals(model.size(), timers.size());
            long min = model.values().stream().mapToLong(Long::longValue).min().orElse(Long.MAX_VALUE);
            assertEquals(min, timers.nextDeadline());
            for (int i = 0; i < all.length; i++) {
                assertEquals(model.containsKey(i), all[i].isScheduled());
            }
        }
    }

    @Provide
    Arbitrary<List<Tuple3<Integer, Integer, Long>>> ops() {
        return Arbitraries.integers().between(0, 2)
                .flatMap(kind -> Arbitraries.integers().between(0, 7)
                        .flatMap(which -> Arbitraries.longs().between(0, 1_000).map(d -> Tuple.of(kind, which, d))))
                .list().ofMaxSize(60);
    }

    @Test
    void aTargetMayRescheduleItselfAndAPastDeadlineFiresInTheSamePass() {
        VirtualClock clock = new VirtualClock(0);
        Timers timers = new Timers(clock);
        int[] runs = {0};
        Timer[] self = new Timer[1];
        self[0] = new Timer((t, now) -> {
            if (++runs[0] < 3) {
                timers.schedule(t, now - 1); // already due
            }
        });
        timers.schedule(self[0], 5);
        clock.advance(5);
        assertEquals(3, timers.expire());
        assertEquals(3, runs[0]);
        assertTrue(!self[0].isScheduled());
        assertEquals(Long.MAX_VALUE, timers.nextDeadline());
    }
}
