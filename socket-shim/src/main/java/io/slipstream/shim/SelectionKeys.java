package io.slipstream.shim;

import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The selection keys of one channel, so that a change of what backs the channel (kernel socket
 * replaced by an accelerated one) and accelerated readiness reach every selector it is in.
 */
final class SelectionKeys {
    private final CopyOnWriteArrayList<ShimSelectionKey> keys = new CopyOnWriteArrayList<>();

    void add(ShimSelectionKey key) {
        keys.add(key);
    }

    void remove(ShimSelectionKey key) {
        keys.remove(key);
    }

    /** The channel's backing changed: every selector re-registers it before its next wait. */
    void backingChanged() {
        for (ShimSelectionKey k : keys) {
            k.shimSelector().updateKey(k);
            k.shimSelector().wakeup();
        }
    }

    /** An accelerated socket became ready: selectors blocked on it wake up and look. */
    void acceleratedReady() {
        for (ShimSelectionKey k : keys) {
            k.shimSelector().acceleratedReady();
        }
    }
}
