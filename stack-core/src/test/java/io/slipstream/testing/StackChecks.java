package io.slipstream.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.slipstream.stack.Stack;
import io.slipstream.stack.StackCounter;
import java.util.List;

/** What every test that opens a stack checks when it is done with it. */
public final class StackChecks {
    private StackChecks() {}

    /**
     * {@link #closeChecked(Stack)}, then closes {@code sandbox} (a veth pair, namespaces) whatever
     * the checks found: a test's teardown in one call.
     */
    public static void closeChecked(Stack stack, AutoCloseable sandbox) throws Exception {
        try {
            closeChecked(stack);
        } finally {
            if (sandbox != null) {
                sandbox.close();
            }
        }
    }

    /** Closes the stack (if any) after checking it caught no internal error, then that it returned every buffer. */
    public static void closeChecked(Stack stack) {
        if (stack != null) {
            assertEquals(0, stack.counters().get(StackCounter.INTERNAL_ERRORS), () -> "" + stack.firstInternalError());
            stack.close();
            assertEquals(List.of(), stack.nic().buffers().leaks());
        }
    }
}
