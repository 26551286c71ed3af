package io.slipstream.replay;

import java.util.List;

/**
 * The live end a conversation is replayed into: a network side (packets in, packets out, time
 * passing) and the application on it, which makes the calls of an {@link AppScript}. Over the
 * in-memory driver it is a Slipstream stack on virtual time; against the kernel, a Linux socket
 * in a namespace; over TAP, a Slipstream stack on a TAP device.
 */
public interface LiveTarget extends AutoCloseable {
    /** The address the engine plays from, and the live end's own. */
    int peerAddress();

    int liveAddress();

    /** Sends {@code p} (already rewritten to the live addresses) to the live end. */
    void inject(ReplayPacket p);

    /** The TCP and UDP packets the live end sent since the last call, in order. */
    List<ReplayPacket> takeSent();

    /** Lets {@code nanos} of time pass for the live end (virtual or real), processing what is due. */
    void pass(long nanos);

    /** Makes one call of the script on the live socket; {@code peerPort} is the replayed side's port. */
    void call(AppScript script, AppScript.Step step, int peerPort, int livePort) throws Exception;

    /**
     * Lets the application catch up: accept a connection that is there, send writes that wait,
     * and when {@code reading}, read whatever the socket holds. Returns the bytes read.
     */
    int service(boolean reading);

    /** What the live end can tell about itself for a report (its counters), or an empty string. */
    String diagnostics();

    /** Whether the live end runs on virtual time (so waiting costs nothing). */
    boolean virtualTime();

    @Override
    void close() throws Exception;
}
