package io.slipstream.stack;

/**
 * What a blocked thread waits for (a socket readable, writable, acceptable; a selector with a
 * ready key). Evaluated under the stack lock while spinning, and once without it right after
 * the thread enqueued itself: it must then only read state (a stale "false" is fine, the
 * waker will wake the thread; a stale "true" only returns the caller to its own re-check).
 * Keep one instance per socket or selector: waiting then allocates nothing.
 */
@FunctionalInterface
public interface WaitCondition {
    boolean ready();
}
