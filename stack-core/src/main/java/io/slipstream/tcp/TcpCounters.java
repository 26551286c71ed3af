package io.slipstream.tcp;

/** Per-layer TCP counters, per reason. Plain fields: written under the stack lock. */
public final class TcpCounters {
    public long segmentsReceived;
    public long segmentsSent;
    public long dropMalformed;
    public long dropBadChecksum;
    public long dropNoSocket;
    public long dropUnacceptable;
    public long dropPaws;
    public long dropOutOfWindowRst;
    public long dropBadAck;
    public long dropNoBuffer;
    public long dropOutOfOrderFull;
    public long dropListenOverflow;
    public long dropInternalError;
    public long retransmits;
    public long rtoExpiries;
    public long fastRetransmits;
    public long sackRecoveries;
    public long challengeAcks;
    public long challengeAcksThrottled;
    public long synCookiesSent;
    public long synCookiesAccepted;
    public long synCookiesRejected;
    public long resetsSent;
    public long resetsReceived;
    public long connectionsOpened;
    public long connectionsAccepted;
    public long connectionsTimedOut;
    public long keepAliveProbes;
    public long zeroWindowProbes;
    public long timeWaitReused;
    public long outOfOrderSegments;
    public long duplicateSegments;

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("TcpCounters[");
        for (var f : TcpCounters.class.getFields()) {
            try {
                long v = f.getLong(this);
                if (v != 0) {
                    b.append(f.getName()).append('=').append(v).append(' ');
                }
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            }
        }
        return b.append(']').toString();
    }
}
