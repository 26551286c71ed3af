package io.slipstream.shim;

import java.io.IOException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A channel's locks, as the JDK's channels hold them: one for readers, one for writers, and a
 * state monitor for short critical sections. Operations that change the connection (bind,
 * connect, disconnect) take both locks, so no read or write is in progress meanwhile.
 */
final class ChannelLocks {
    /** An operation that may fail with an IOException. */
    @FunctionalInterface
    interface IoAction<T> {
        T run() throws IOException;
    }

    final ReentrantLock readLock = new ReentrantLock();
    final ReentrantLock writeLock = new ReentrantLock();
    final Object stateLock = new Object();

    /** Runs {@code action} holding the read and write locks (not for data paths: it takes a lambda). */
    <T> T both(IoAction<T> action) throws IOException {
        readLock.lock();
        try {
            writeLock.lock();
            try {
                return action.run();
            } finally {
                writeLock.unlock();
            }
        } finally {
            readLock.unlock();
        }
    }

    /** As {@link #both}, also inside the state monitor. */
    <T> T all(IoAction<T> action) throws IOException {
        return both(() -> {
            synchronized (stateLock) {
                return action.run();
            }
        });
    }
}
