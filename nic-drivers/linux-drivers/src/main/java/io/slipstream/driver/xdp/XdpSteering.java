package io.slipstream.driver.xdp;

import io.slipstream.linux.Bpf;
import io.slipstream.linux.Errno;
import io.slipstream.linux.Libc;
import io.slipstream.nic.NicException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * What steers frames on one interface: the filter maps, the XSKMAP (one AF_XDP socket per
 * receive queue, indexed by queue id), the loaded {@link XdpProgram}, and the BPF link that
 * attaches it.
 *
 * <p>The program is attached through a link (BPF_LINK_CREATE, attach type BPF_XDP), never
 * through netlink: the link is owned by its descriptor, so when this process exits in any way,
 * SIGKILL included, the kernel detaches the program and frees the maps, and the interface is as
 * it was. A link also refuses to replace a program that is already attached (EBUSY), so
 * Slipstream never takes over an interface another tool is using.
 */
final class XdpSteering implements AutoCloseable {
    /** How the program runs. */
    enum Mode {
        /** In the driver (XDP_FLAGS_DRV_MODE): before any socket buffer is allocated. */
        NATIVE,
        /** In the generic path (XDP_FLAGS_SKB_MODE): for drivers without native XDP. */
        GENERIC
    }

    private final String ifname;
    private final int ifindex;
    private final Arena arena;
    private final Bpf bpf;
    private final XdpFilters filters;
    private final int xskMap;
    private final int queues;
    private final int progFd;
    private final MemorySegment slot;
    private int linkFd = -1;
    private Mode mode;
    private boolean closed;

    private XdpSteering(String ifname, int ifindex, Arena arena, Bpf bpf, XdpFilters filters, int xskMap, int queues,
                        int progFd) {
        this.ifname = ifname;
        this.ifindex = ifindex;
        this.arena = arena;
        this.bpf = bpf;
        this.filters = filters;
        this.xskMap = xskMap;
        this.queues = queues;
        this.progFd = progFd;
        this.slot = arena.allocate(8, 8);
    }

    /**
     * Creates the maps and loads the program; nothing is attached yet. The ports the filters
     * steer are held in {@code namespace}, the interface's.
     */
    static XdpSteering load(String ifname, XdpNamespace namespace, int ifindex, int queues, int maxConnections,
                            int maxListeners) {
        return load(ifname, namespace, ifindex, queues, maxConnections, maxListeners, XdpProgram.XDP_PASS);
    }

    /** With the action a matched frame gets when its queue has no socket (see {@link XdpProgram#instructions}). */
    static XdpSteering load(String ifname, XdpNamespace namespace, int ifindex, int queues, int maxConnections,
                            int maxListeners, int noSocketAction) {
        XdpFilters filters = XdpFilters.create(ifname, namespace, maxConnections, maxListeners);
        Arena arena = Arena.ofShared();
        Bpf bpf = new Bpf(new Libc(arena), arena);
        int xskMap = -1;
        try {
            xskMap = bpf.mapCreate(Bpf.MAP_TYPE_XSKMAP, 4, 4, queues, "ss_xsks");
            if (xskMap < 0) {
                int errno = bpf.libc().errno();
                throw new BpfException("xdp " + ifname + ": BPF_MAP_CREATE of the XSKMAP: " + Errno.describe(errno),
                        errno);
            }
            long[] insns = XdpProgram.instructions(filters.connectionMapFd(), filters.listenerMapFd(), xskMap,
                    noSocketAction);
            int prog = XdpProgram.load(bpf, insns, "slipstream");
            return new XdpSteering(ifname, ifindex, arena, bpf, filters, xskMap, queues, prog);
        } catch (RuntimeException | Error e) {
            if (xskMap >= 0) {
                bpf.libc().close(xskMap);
            }
            arena.close();
            filters.close();
            throw e;
        }
    }

    XdpFilters filters() {
        return filters;
    }

    int programFd() {
        return progFd;
    }

    /** Runs the program once over {@code frame} (BPF_PROG_TEST_RUN): its XDP action. For tests. */
    int testRun(MemorySegment frame) {
        int action = bpf.progTestRun(progFd, frame);
        if (action < 0) {
            int errno = bpf.libc().errno();
            throw new BpfException("xdp " + ifname + ": BPF_PROG_TEST_RUN: " + Errno.describe(errno), errno);
        }
        return action;
    }

    /** Where frames of queue {@code queueId} go: the AF_XDP socket {@code xskFd}. */
    void register(int queueId, int xskFd) {
        if (queueId < 0 || queueId >= queues) {
            throw new IllegalArgumentException("queue " + queueId + " outside 0.." + (queues - 1));
        }
        slot.set(ValueLayout.JAVA_INT, 0, queueId);
        slot.set(ValueLayout.JAVA_INT, 4, xskFd);
        if (bpf.mapUpdate(xskMap, slot.address(), slot.address() + 4, Bpf.BPF_ANY) < 0) {
            int errno = bpf.libc().errno();
            throw new BpfException("xdp " + ifname + ": adding queue " + queueId + "'s socket to the XSKMAP: "
                    + Errno.describe(errno), errno);
        }
    }

    /**
     * Attaches the program through a BPF link: natively when allowed and the driver supports
     * it, else in generic mode when allowed. Refuses, with a message saying so, when another XDP
     * program is attached to the interface.
     */
    Mode attach(boolean allowNative, boolean allowGeneric) {
        if (linkFd >= 0) {
            throw new IllegalStateException("already attached");
        }
        int nativeErrno = 0;
        if (allowNative) {
            linkFd = bpf.linkCreate(progFd, ifindex, Bpf.ATTACH_TYPE_XDP, Bpf.XDP_FLAGS_DRV_MODE);
            if (linkFd >= 0) {
                return mode = Mode.NATIVE;
            }
            nativeErrno = bpf.libc().errno();
            refuseIfBusy(nativeErrno);
            if (!allowGeneric) {
                throw new BpfException("xdp " + ifname + ": attaching the XDP program in native mode: "
                        + Errno.describe(nativeErrno), nativeErrno);
            }
        }
        linkFd = bpf.linkCreate(progFd, ifindex, Bpf.ATTACH_TYPE_XDP, Bpf.XDP_FLAGS_SKB_MODE);
        if (linkFd >= 0) {
            return mode = Mode.GENERIC;
        }
        int errno = bpf.libc().errno();
        refuseIfBusy(errno);
        throw new BpfException("xdp " + ifname + ": attaching the XDP program"
                + (allowNative ? " (native mode: " + Errno.describe(nativeErrno) + ")" : "")
                + " in generic mode: " + Errno.describe(errno), errno);
    }

    private void refuseIfBusy(int errno) {
        if (errno == Errno.EBUSY || errno == Errno.EEXIST) {
            throw AttachedXdpProgram.refusal(ifname, AttachedXdpProgram.find(ifindex),
                    Errno.describe(errno) + " from BPF_LINK_CREATE");
        }
    }

    Mode mode() {
        return mode;
    }

    /** Detaches (closes the link), then closes the program and every map. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Libc libc = bpf.libc();
        if (linkFd >= 0) {
            libc.close(linkFd);
        }
        libc.close(progFd);
        libc.close(xskMap);
        filters.close();
        arena.close();
    }
}
