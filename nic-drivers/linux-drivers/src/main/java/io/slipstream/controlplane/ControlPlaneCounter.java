package io.slipstream.controlplane;

/**
 * What the kernel control plane counts. The kinds of update count changes the kernel
 * announced in notifications (not what a dump re-read); the rest count the plane's own work.
 */
public enum ControlPlaneCounter {
    /** A link notification for the interface changed its name, MAC, MTU or flags. */
    LINK_UPDATES,
    /** The interface's MTU changed. */
    MTU_CHANGES,
    /** The interface went administratively up (IFF_UP set). */
    LINK_UP,
    /** The interface went administratively down (IFF_UP cleared). */
    LINK_DOWN,
    /** The interface was deleted. */
    LINK_REMOVED,
    ADDRESSES_ADDED,
    ADDRESSES_REMOVED,
    ROUTES_ADDED,
    ROUTES_REMOVED,
    /** A neighbour entry of the interface appeared or changed state or address. */
    NEIGHBOURS_UPDATED,
    NEIGHBOURS_REMOVED,
    /** Messages of no concern here: other interfaces, tables, families or types. */
    IGNORED,
    /** Bytes from the kernel that did not hold together; skipped. */
    PARSE_ERRORS,
    /** The notification socket overflowed (ENOBUFS): notifications were lost. */
    OVERRUNS,
    /** Full re-reads of every table (at open, and after an overrun or a truncated datagram). */
    RESYNCS,
    /** Re-reads of routes and neighbours after a link or address change the kernel does not announce in full. */
    PARTIAL_RESYNCS,
    /** Dump requests sent. */
    DUMPS,
    /** Dumps the kernel marked inconsistent (NLM_F_DUMP_INTR), read again. */
    DUMPS_INTERRUPTED,
    /** Dump requests the kernel refused. */
    DUMP_ERRORS,
    /** New immutable snapshots made visible to readers. */
    SNAPSHOTS,
    /** Requests that the kernel resolve a neighbour. */
    RESOLVE_REQUESTS,
    /** A resolution request could not be sent. */
    RESOLVE_SEND_FAILURES,
    /** The kernel answered a resolution request with an error. */
    RESOLVE_REJECTED,
    /** A receive failed with an unexpected errno. */
    RECEIVE_ERRORS,
    /** An exception while applying a message (a bug): caught, counted, the message skipped. */
    INTERNAL_ERRORS
}
