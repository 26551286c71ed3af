package io.slipstream.interop;

import io.slipstream.stack.Stack;
import java.util.function.Supplier;

/** How the tests call into a stack from outside a poll, as the shim's sockets do. */
final class StackCalls {
    private StackCalls() {}

    /** Runs {@code op} as a socket operation does: between {@link Stack#enter()} and {@link Stack#exit()}. */
    static <T> T inside(Stack stack, Supplier<T> op) {
        stack.enter();
        try {
            return op.get();
        } finally {
            stack.exit();
        }
    }

    /** Runs {@code op} holding the stack lock, without the poll pass {@link Stack#enter()} makes. */
    static <T> T holding(Stack stack, Supplier<T> op) {
        stack.lock().lock();
        try {
            return op.get();
        } finally {
            stack.lock().unlock();
        }
    }
}
