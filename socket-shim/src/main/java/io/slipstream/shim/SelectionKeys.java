package io.slipstream.shim;

import io.slipstream.linux.Sockets;
import java.util.Arrays;

/**
 * The selection keys of one channel, so that a change of what backs the channel (kernel socket
 * replaced by an accelerated one) and accelerated readiness reach every selector it is in; and
 * how the channel's operations map onto epoll events, as the JDK's SelChImpl translates them.
 * One per channel, handed from backend to backend when the channel moves.
 */
final class SelectionKeys {
    private static final ShimSelectionKey[] NONE = {};
    /**
     * The keys, copied on write (guarded by this object for writers): readiness is announced on
     * the data path, and iterating an array allocates nothing where a list's iterator may.
     */
    private volatile ShimSelectionKey[] keys = NONE;
    /** The operations that wait for EPOLLIN. */
    private final int inOps;
    /** The operations that wait for EPOLLOUT. */
    private final int outOps;

    SelectionKeys(int inOps, int outOps) {
        this.inOps = inOps;
        this.outOps = outOps;
    }

    synchronized void add(ShimSelectionKey key) {
        ShimSelectionKey[] grown = Arrays.copyOf(keys, keys.length + 1);
        grown[keys.length] = key;
        keys = grown;
    }

    synchronized void remove(ShimSelectionKey key) {
        ShimSelectionKey[] now = keys;
        for (int i = 0; i < now.length; i++) {
            if (now[i] == key) {
                ShimSelectionKey[] shrunk = Arrays.copyOf(now, now.length - 1);
                System.arraycopy(now, i + 1, shrunk, i, now.length - i - 1);
                keys = shrunk.length == 0 ? NONE : shrunk;
                return;
            }
        }
    }

    /** The channel's backing changed: every selector re-registers it before its next wait. */
    void backingChanged() {
        for (ShimSelectionKey k : keys) {
            k.shimSelector().updateKey(k);
            k.shimSelector().wakeup();
        }
    }

    /** The epoll events that stand for {@code interestOps}. */
    int epollEvents(int interestOps) {
        int events = 0;
        if ((interestOps & inOps) != 0) {
            events |= Sockets.EPOLLIN;
        }
        if ((interestOps & outOps) != 0) {
            events |= Sockets.EPOLLOUT;
        }
        return events;
    }

    /**
     * Ready operations for epoll {@code events}: an error or hang-up makes every interest ready
     * (the operation will then report it), as the JDK's translateReadyOps does.
     */
    int readyOps(int events, int interestOps) {
        if ((events & (Sockets.EPOLLERR | Sockets.EPOLLHUP)) != 0) {
            return interestOps;
        }
        int ops = 0;
        if ((events & Sockets.EPOLLIN) != 0) {
            ops |= interestOps & inOps;
        }
        if ((events & Sockets.EPOLLOUT) != 0) {
            ops |= interestOps & outOps;
        }
        return ops;
    }

    /** An accelerated socket became ready: selectors blocked on it wake up and look. */
    void acceleratedReady() {
        for (ShimSelectionKey k : keys) {
            k.shimSelector().acceleratedReady();
        }
    }
}
