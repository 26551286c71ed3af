package io.slipstream.stack;

import java.util.concurrent.locks.ReentrantLock;

/**
 * The stack lock: whoever holds it may process the stack and operate its sockets. Reentrant,
 * and built on {@link ReentrantLock} so a virtual thread waiting for it parks without pinning
 * its carrier.
 */
public final class StackLock {
    private final ReentrantLock lock = new ReentrantLock();

    public void lock() {
        lock.lock();
    }

    public boolean tryLock() {
        return lock.tryLock();
    }

    public void unlock() {
        lock.unlock();
    }

    public boolean isHeldByCurrentThread() {
        return lock.isHeldByCurrentThread();
    }

    public boolean isLocked() {
        return lock.isLocked();
    }
}
