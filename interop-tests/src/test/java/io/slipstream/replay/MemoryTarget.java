package io.slipstream.replay;

import io.slipstream.replay.AppScript.Setup;
import io.slipstream.stack.Stack;
import io.slipstream.testing.RawEnd;
import io.slipstream.testing.StackPair;
import io.slipstream.time.VirtualClock;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.MacAddress;
import java.util.HashMap;
import java.util.Map;

/**
 * A Slipstream stack on the in-memory driver and virtual time, the engine at the link's other
 * end ({@link RawEnd}): replay costs no real time, and a run is deterministic.
 */
public final class MemoryTarget extends StackTarget {
    static final int PEER_IP = Ipv4Address.parse("198.19.41.1");
    static final int STACK_IP = Ipv4Address.parse("198.19.41.2");
    private static final long PEER_MAC = 0x02_00_00_00_41_01L;
    private static final long STACK_MAC = 0x02_00_00_00_41_02L;
    /** Rounds of polling that settle the link at one instant; far more than any exchange needs. */
    private static final int SETTLE_ROUNDS = 10_000;

    private final VirtualClock clock = new VirtualClock();

    public MemoryTarget(Setup setup) {
        super(PEER_IP, STACK_IP);
        String link = StackPair.newLink("replay");
        EngineEnd end = new EngineEnd(new RawEnd(link, PEER_MAC, clock).answerArp(PEER_IP), PEER_MAC, STACK_MAC);
        Map<String, String> options = new HashMap<>(stackSettings(setup));
        options.put("slipstream.mac", MacAddress.format(STACK_MAC));
        opened(Stack.open(StackPair.config(link, Ipv4Address.format(STACK_IP) + "/24", options), clock), end);
        end.take(0); // the stack's announcement at start
    }

    @Override
    public void pass(long nanos) {
        clock.advance(nanos);
        settle();
    }

    @Override
    protected void settle() {
        for (int i = 0; i < SETTLE_ROUNDS && stack.poll() + engine.poll() > 0; i++) {
            // let the stack process and answer
        }
    }

    @Override
    protected long nowNanos() {
        return clock.nanoTime();
    }

    @Override
    public boolean virtualTime() {
        return true;
    }
}
