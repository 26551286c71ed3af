package io.slipstream.time;

/**
 * The stack's notion of time, in nanoseconds from an arbitrary origin. Protocol code never
 * reads {@link System#nanoTime()} directly, so tests can drive every timer with a
 * {@link VirtualClock} and never sleep.
 */
@FunctionalInterface
public interface Clock {
    long nanoTime();

    Clock SYSTEM = System::nanoTime;
}
