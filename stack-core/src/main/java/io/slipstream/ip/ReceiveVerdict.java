package io.slipstream.ip;

/**
 * What a transport did with a received datagram ({@link Ipv4Transport#receive}), as an int so
 * the receive path allocates nothing: {@link #KEPT}, {@link #DROPPED} or {@link #reject}(code).
 * The IP layer acts on it: it releases the buffer unless kept, and answers a rejected datagram
 * with the ICMP error itself, since only it knows where the datagram's IP header is (a
 * reassembled datagram's header is not in the transport's buffer range).
 */
public final class ReceiveVerdict {
    /** The transport took the buffer ({@code transfer}red it to an owner of its own). */
    public static final int KEPT = 1;
    /**
     * The transport keeps no reference to the buffer: it copied what it wanted out of it, or
     * it discarded the datagram and counted why. The IP layer releases the buffer.
     */
    public static final int DROPPED = 0;
    /** Set in a verdict that asks for an ICMP destination unreachable; the low byte is the code. */
    private static final int REJECT = 0x100;
    private static final int CODE_MASK = 0xFF;

    private ReceiveVerdict() {}

    /**
     * Nobody here takes the datagram: the IP layer answers it with an ICMP destination
     * unreachable of {@code code} (RFC 792: port unreachable for UDP), within RFC 1122's rules
     * (never about a broadcast, a multicast, a non-initial fragment or an ICMP error) and the
     * rate limit, then releases the buffer.
     */
    public static int reject(int code) {
        return REJECT | (code & CODE_MASK);
    }

    public static boolean isReject(int verdict) {
        return (verdict & REJECT) != 0;
    }

    /** The ICMP code of a {@link #reject} verdict. */
    public static int rejectCode(int verdict) {
        return verdict & CODE_MASK;
    }
}
