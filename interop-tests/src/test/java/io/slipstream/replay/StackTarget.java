package io.slipstream.replay;

import io.slipstream.replay.AppScript.Setup;
import io.slipstream.stack.Stack;
import io.slipstream.testing.StackChecks;
import java.util.List;
import java.util.Map;

/**
 * A Slipstream stack as the live end, whatever its driver: the engine's frames go in through
 * {@link EngineEnd}, the script's calls through {@link StackSocket}, and after each the stack
 * gets to process what is due ({@link #settle}). Closing checks it caught no internal error and
 * gave every buffer back.
 */
abstract class StackTarget implements LiveTarget {
    private final int peerAddress;
    private final int stackAddress;
    protected Stack stack;
    protected EngineEnd engine;
    private StackSocket socket;

    StackTarget(int peerAddress, int stackAddress) {
        this.peerAddress = peerAddress;
        this.stackAddress = stackAddress;
    }

    /** Called by the subclass's constructor once the stack and the engine's end are open. */
    protected final void opened(Stack stack, EngineEnd engine) {
        this.stack = stack;
        this.engine = engine;
        this.socket = new StackSocket(stack, peerAddress);
    }

    /** The stack settings a capture's setup asks for (options its SYN left out, its MTU). */
    static Map<String, String> stackSettings(Setup setup) {
        return Map.of("slipstream.tcp.timestamps", Boolean.toString(setup.timestamps()),
                "slipstream.tcp.window.scaling", Boolean.toString(setup.windowScaling()),
                "slipstream.tcp.sack", Boolean.toString(setup.sack()),
                "slipstream.mtu", Integer.toString(setup.mtu()));
    }

    /** Lets the stack (and the engine's end) process what is due now. */
    protected abstract void settle();

    /** The time stamped on the packets the stack sent. */
    protected abstract long nowNanos();

    @Override
    public int peerAddress() {
        return peerAddress;
    }

    @Override
    public int liveAddress() {
        return stackAddress;
    }

    @Override
    public void inject(ReplayPacket p) {
        engine.send(p);
        settle();
    }

    @Override
    public List<ReplayPacket> takeSent() {
        settle();
        return engine.take(nowNanos());
    }

    @Override
    public void call(AppScript script, AppScript.Step step, int peerPort, int livePort) throws Exception {
        socket.call(script, step, peerPort, livePort);
        settle();
    }

    @Override
    public int service(boolean reading) {
        int n = socket.service(reading);
        settle();
        return n;
    }

    @Override
    public String diagnostics() {
        return stack.nonZeroCounters();
    }

    @Override
    public void close() throws Exception {
        socket.close();
        settle();
        try {
            StackChecks.closeChecked(stack);
        } finally {
            engine.close();
            closeLink();
        }
    }

    /** Removes what the subclass set up around the link (a namespace); nothing by default. */
    protected void closeLink() {}
}
