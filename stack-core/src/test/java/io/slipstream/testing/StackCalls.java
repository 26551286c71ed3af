package io.slipstream.testing;

import io.slipstream.stack.Stack;

/** How the tests call into a stack from outside a poll, as the shim's sockets do. */
public final class StackCalls {
    private StackCalls() {}

    /** A call into the stack; it may throw what the socket operation it makes throws. */
    @FunctionalInterface
    public interface Call<T, E extends Exception> {
        T run() throws E;
    }

    /** Runs {@code op} as a socket operation does: between {@link Stack#enter()} and {@link Stack#exit()}. */
    public static <T, E extends Exception> T inside(Stack stack, Call<T, E> op) throws E {
        stack.enter();
        try {
            return op.run();
        } finally {
            stack.exit();
        }
    }

    /** Runs {@code op} holding the stack lock, without the poll pass {@link Stack#enter()} makes. */
    public static <T, E extends Exception> T holding(Stack stack, Call<T, E> op) throws E {
        stack.lock().lock();
        try {
            return op.run();
        } finally {
            stack.lock().unlock();
        }
    }
}
