package io.slipstream.shim;

import io.slipstream.shim.kernel.EpollSet;
import io.slipstream.shim.kernel.KernelFd;
import io.slipstream.linux.Sockets;
import io.slipstream.stack.Stack;
import io.slipstream.stack.WaitCondition;
import io.slipstream.stack.WaitQueue;
import java.io.IOException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.IllegalSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.spi.AbstractSelectableChannel;
import java.nio.channels.spi.AbstractSelector;
import java.nio.channels.spi.SelectorProvider;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * The Selector of Slipstream channels. It waits on one epoll set holding the kernel sockets'
 * descriptors, two eventfds (one for {@link #wakeup}, one that accelerated sockets signal when
 * they become ready while the selector waits) and the NIC descriptors of the stacks of its
 * accelerated keys ({@link NicWatches}): it spins over the stacks' poll hooks and a zero-timeout
 * epoll_wait for {@code slipstream.poll.usec}, then sleeps with the NICs armed by their
 * interrupt rules, so a frame wakes it and it polls the stack itself. A selector whose keys are
 * all accelerated sockets of one stack waits as a blocked thread of that stack instead. Before
 * it blocks it runs the poll hook of the stacks of its accelerated keys, so readiness the stack
 * already holds is reported without waiting.
 *
 * <p>Semantics follow the JDK's SelectorImpl: interest changes are queued and applied at the
 * start of the next select; cancelled keys are flushed before and after the wait; a key already
 * in the selected-key set has its ready set OR-ed; a wakeup (or Thread.interrupt) with no select
 * in progress ends the next one, and several collapse into one; a select never returns 0 before
 * its timeout unless woken, interrupted or closed.
 */
final class ShimSelector extends AbstractSelector {
    private static final int MAX_EVENTS = 256;

    private final EpollSet epoll;
    private final Set<SelectionKey> keys = ConcurrentHashMap.newKeySet();
    private final Set<SelectionKey> publicKeys = Collections.unmodifiableSet(keys);
    private final Set<SelectionKey> selectedKeys = new HashSet<>();
    private final Set<SelectionKey> publicSelectedKeys = new UngrowableSet<>(selectedKeys);
    private final ConcurrentLinkedQueue<ShimSelectionKey> updates = new ConcurrentLinkedQueue<>();
    /** Keys registered in the epoll set, by descriptor number (selecting thread only). */
    private final Map<Integer, ShimSelectionKey> byFd = new HashMap<>();
    /**
     * Keys whose channel is currently accelerated, each once, in registration order (selecting
     * thread only). A list walked by index: every select walks it, and an iterator per walk
     * was most of a selector-driven server's heap per round trip.
     */
    private final ArrayList<ShimSelectionKey> accelerated = new ArrayList<>();
    /** The stacks of the accelerated keys, polled and watched (selecting thread only). */
    private final NicWatches nics;
    /** Keys changed or left since {@link #nics} last followed them (selecting thread only). */
    private boolean stacksChanged;
    private final Object wakeupLock = new Object();
    private volatile boolean wakeupPending; // written under wakeupLock
    private volatile boolean waiting;
    private final AtomicBoolean signalled = new AtomicBoolean();
    /** Wait queues of the stacks this selector has waited on as a blocked thread (selecting thread only). */
    private final Map<Stack, WaitQueue> queues = new HashMap<>();
    /** The queue the selecting thread waits on right now, or null (it waits in epoll_wait or not at all). */
    private volatile WaitQueue stackQueue;
    /** The stack wait's condition: made once, reads only flags, so waiting allocates nothing. */
    private final WaitCondition woken = () -> signalled.get() || isWakeupPendingUnlocked() || !isOpen();
    /**
     * Whether the selecting thread is spinning in {@link NicWatches#await}, looking at
     * {@link #signalled} itself: an accelerated socket's readiness then needs no eventfd write
     * (a system call, and another to drain it). Written by the selecting thread, read by
     * {@link #acceleratedReady}; the two sides write their own flag and then read the other's,
     * so one of them always sees the other (volatile: sequentially consistent).
     */
    private volatile boolean spinning;
    /** The NIC wait's early end: made once, reads only flags. */
    private final NicWatches.Done wokenOrClosed = new NicWatches.Done() {
        @Override
        public boolean done() {
            return signalled.get() || isWakeupPendingUnlocked() || Thread.currentThread().isInterrupted() || !isOpen();
        }

        @Override
        public boolean mayBlock() {
            spinning = false;
            return !done();
        }
    };
    /** Whether the current pass found any key ready, counted or not (selecting thread only). */
    private boolean sawReadiness;

    ShimSelector(SelectorProvider provider) throws IOException {
        super(provider);
        this.epoll = new EpollSet(MAX_EVENTS);
        this.nics = new NicWatches(epoll);
    }

    @Override
    public Set<SelectionKey> keys() {
        ensureOpen();
        return publicKeys;
    }

    @Override
    public Set<SelectionKey> selectedKeys() {
        ensureOpen();
        return publicSelectedKeys;
    }

    @Override
    public int selectNow() throws IOException {
        return doSelect(null, 0);
    }

    @Override
    public int select(long timeout) throws IOException {
        if (timeout < 0) {
            throw new IllegalArgumentException("Negative timeout");
        }
        return doSelect(null, timeout == 0 ? -1 : timeout);
    }

    @Override
    public int select() throws IOException {
        return doSelect(null, -1);
    }

    @Override
    public int select(Consumer<SelectionKey> action, long timeout) throws IOException {
        Objects.requireNonNull(action);
        if (timeout < 0) {
            throw new IllegalArgumentException("Negative timeout");
        }
        return doSelect(action, timeout == 0 ? -1 : timeout);
    }

    @Override
    public int select(Consumer<SelectionKey> action) throws IOException {
        Objects.requireNonNull(action);
        return doSelect(action, -1);
    }

    @Override
    public int selectNow(Consumer<SelectionKey> action) throws IOException {
        Objects.requireNonNull(action);
        return doSelect(action, 0);
    }

    /** @param timeoutMillis -1 to wait without limit, 0 not to wait */
    private int doSelect(Consumer<SelectionKey> action, long timeoutMillis) throws IOException {
        synchronized (this) {
            ensureOpen();
            long deadline = timeoutMillis > 0 ? System.nanoTime() + timeoutMillis * 1_000_000L : 0;
            while (true) {
                applyUpdates();
                flushCancelled();
                followStacks();
                signalled.set(false);
                waiting = true;
                int wait;
                try {
                    pollStacks();
                    wait = timeoutMillis < 0 ? -1 : (int) Math.min(Integer.MAX_VALUE, remainingMillis(deadline));
                    if (timeoutMillis == 0 || anyAcceleratedReady() || isWakeupPending()) {
                        wait = 0;
                    }
                    int n;
                    begin();
                    try {
                        n = await(wait);
                    } finally {
                        end();
                    }
                    waiting = false;
                    flushCancelled();
                    sawReadiness = false;
                    int updated = processEpoll(n, action) + processAccelerated(action);
                    flushCancelled();
                    boolean woken = consumeWakeup();
                    // Readiness already reported on selected keys ends the select with 0, as the JDK's does.
                    if (updated > 0 || sawReadiness || woken || timeoutMillis == 0 || !isOpen()
                            || Thread.currentThread().isInterrupted()
                            || (timeoutMillis > 0 && remainingMillis(deadline) <= 0)) {
                        return updated;
                    }
                    // Only a signal from an accelerated socket that is no longer of interest: wait on.
                } finally {
                    waiting = false;
                }
            }
        }
    }

    /**
     * Waits up to {@code waitMillis} (-1: no limit). A selector whose keys are all accelerated
     * sockets of one stack waits as a blocked thread of that stack ({@link Stack#await}): it
     * spins, then counts for the stack's interrupt rules, and is woken by the readiness
     * callbacks and by {@link #wakeup}. Any other selector with accelerated keys waits as
     * {@link NicWatches#await} says (spin, then epoll_wait with the stacks' NICs armed), its
     * accelerated keys signalling the eventfd once it sleeps (while it spins, a flag); one without waits in epoll_wait. Returns
     * the epoll entries to process.
     */
    private int await(int waitMillis) throws IOException {
        Stack only = waitMillis != 0 && byFd.isEmpty() ? singleStack() : null;
        if (only == null) {
            if (waitMillis == 0 || nics.isEmpty()) {
                return epoll.await(waitMillis);
            }
            // Kernel keys beside accelerated ones, or several stacks: onload's epoll.
            spinning = true;
            try {
                return nics.await(waitMillis < 0 ? -1 : waitMillis * 1_000_000L, wokenOrClosed);
            } finally {
                spinning = false;
            }
        }
        WaitQueue q = queues.computeIfAbsent(only, Stack::newWaitQueue);
        stackQueue = q;
        try {
            if (!isWakeupPending()) {
                only.await(q, woken, waitMillis < 0 ? -1 : waitMillis * 1_000_000L);
            }
        } finally {
            stackQueue = null;
        }
        return 0;
    }

    /** Brings {@link #nics} in line with the stacks of the accelerated keys. */
    private void followStacks() {
        if (!stacksChanged && !nics.anyClosed()) {
            return;
        }
        nics.update();
        for (int i = 0; i < accelerated.size(); i++) {
            Stack s = accelerated.get(i).shimChannel().stack();
            if (s != null) {
                nics.want(s);
            }
        }
        nics.endUpdate();
        stacksChanged = false;
    }

    /** The one stack all accelerated keys are on, or null if none or several. */
    private Stack singleStack() {
        Stack only = null;
        for (int i = 0; i < accelerated.size(); i++) {
            Stack s = accelerated.get(i).shimChannel().stack();
            if (s == null || (only != null && s != only)) {
                return null;
            }
            only = s;
        }
        return only;
    }

    private static long remainingMillis(long deadline) {
        long left = deadline - System.nanoTime();
        return left <= 0 ? 0 : (left + 999_999) / 1_000_000;
    }

    /** A racy read, good enough for a wait condition: a wakeup also wakes the queue. */
    private boolean isWakeupPendingUnlocked() {
        return wakeupPending;
    }

    private boolean isWakeupPending() {
        synchronized (wakeupLock) {
            return wakeupPending;
        }
    }

    private boolean consumeWakeup() {
        synchronized (wakeupLock) {
            if (!wakeupPending) {
                return false;
            }
            wakeupPending = false;
            epoll.drainWakeup();
            return true;
        }
    }

    @Override
    public Selector wakeup() {
        synchronized (wakeupLock) {
            if (!wakeupPending) {
                wakeupPending = true;
                epoll.wakeup();
            }
        }
        WaitQueue q = stackQueue;
        if (q != null) {
            q.wakeAll();
        }
        return this;
    }

    /** An accelerated socket in this selector became ready (any thread, often under a stack lock). */
    void acceleratedReady() {
        if (waiting && signalled.compareAndSet(false, true)) {
            WaitQueue q = stackQueue;
            if (q != null) {
                q.wakeAll();
            } else if (!spinning) {
                epoll.signal();
            }
        }
    }

    void updateKey(ShimSelectionKey key) {
        updates.add(key);
    }

    private void ensureOpen() {
        if (!isOpen()) {
            throw new ClosedSelectorException();
        }
    }

    @Override
    protected SelectionKey register(AbstractSelectableChannel ch, int ops, Object attachment) {
        if (!(ch instanceof ShimChannel sc)) {
            throw new IllegalSelectorException();
        }
        ensureOpen();
        ShimSelectionKey key = new ShimSelectionKey(ch, this);
        key.attach(attachment);
        keys.add(key);
        sc.keys().add(key);
        try {
            key.interestOps(ops);
        } catch (java.nio.channels.CancelledKeyException e) {
            // Another thread saw the key in keys() and cancelled it: returned cancelled, as the JDK's.
            return key;
        }
        updates.add(key);
        return key;
    }

    /** Brings the epoll set and the accelerated set in line with queued interest/backing changes. */
    private void applyUpdates() throws IOException {
        ShimSelectionKey key;
        while ((key = updates.poll()) != null) {
            if (!key.isValid()) {
                continue;
            }
            ShimChannel ch = key.shimChannel();
            KernelFd fd = ch.kernelFd();
            if (key.registeredFd != null && key.registeredFd != fd) {
                unregisterFd(key);
            }
            if (fd != null && !fd.isReleased()) {
                int want = ch.epollEvents(key.interest());
                if (key.registeredFd == null) {
                    if (want != 0) {
                        epoll.control(Sockets.EPOLL_CTL_ADD, fd.fd(), want);
                        key.registeredFd = fd;
                        key.registeredEvents = want;
                        byFd.put(fd.fd(), key);
                    }
                } else if (want == 0) {
                    // ERR and HUP are reported whatever the mask, so a key without interest leaves the set.
                    unregisterFd(key);
                } else if (want != key.registeredEvents) {
                    epoll.control(Sockets.EPOLL_CTL_MOD, fd.fd(), want);
                    key.registeredEvents = want;
                }
            }
            if (ch.stack() != null) {
                if (!accelerated.contains(key)) {
                    accelerated.add(key);
                }
            } else {
                accelerated.remove(key);
            }
            stacksChanged = true;
        }
    }

    private void unregisterFd(ShimSelectionKey key) throws IOException {
        KernelFd fd = key.registeredFd;
        if (fd == null) {
            return;
        }
        key.registeredFd = null;
        key.registeredEvents = 0;
        byFd.remove(fd.fd(), key);
        // A released descriptor left the epoll set when it was closed, and its number may
        // already belong to another channel: never delete by that number.
        if (!fd.isReleased()) {
            epoll.control(Sockets.EPOLL_CTL_DEL, fd.fd(), 0);
        }
    }

    private void flushCancelled() throws IOException {
        Set<SelectionKey> cancelled = cancelledKeys();
        synchronized (cancelled) {
            if (cancelled.isEmpty()) {
                return;
            }
            for (SelectionKey k : cancelled) {
                ShimSelectionKey key = (ShimSelectionKey) k;
                unregisterFd(key);
                stacksChanged |= accelerated.remove(key);
                keys.remove(key);
                selectedKeys.remove(key);
                key.shimChannel().keys().remove(key);
                deregister(key);
            }
            cancelled.clear();
        }
    }

    /**
     * The select poll hook on each stack of the accelerated keys: a poll pass unless the
     * stack's interrupt is enabled (it is then up to date already, DESIGN §1).
     */
    private void pollStacks() {
        nics.pollStacks();
    }

    private boolean anyAcceleratedReady() {
        for (int i = 0; i < accelerated.size(); i++) {
            ShimSelectionKey k = accelerated.get(i);
            if (k.isValid() && k.shimChannel().acceleratedReadyOps(k.interest()) != 0) {
                return true;
            }
        }
        return false;
    }

    private int processEpoll(int n, Consumer<SelectionKey> action) {
        int updated = 0;
        for (int i = 0; i < n; i++) {
            long data = epoll.data(i);
            if (data == EpollSet.SIGNAL) {
                epoll.drainSignal();
                continue;
            }
            if (data == EpollSet.WAKEUP) {
                continue; // consumed with the pending flag
            }
            if ((data & EpollSet.NIC) != 0) {
                // A frame for a stack: polled here, before processAccelerated reads readiness.
                nics.fired(data);
                continue;
            }
            ShimSelectionKey key = byFd.get((int) data);
            if (key == null || !key.isValid()) {
                continue;
            }
            int ops = key.shimChannel().readyOps(epoll.events(i), key.interest());
            sawReadiness = true;
            if (key.shimChannel().stack() != null) {
                // Both kernel and stack readiness (a wildcard listener): reported once, with the stack's.
                key.kernelReady |= ops;
                continue;
            }
            updated += report(key, ops, action);
        }
        return updated;
    }

    private int processAccelerated(Consumer<SelectionKey> action) {
        int updated = 0;
        for (int i = 0; i < accelerated.size(); i++) {
            ShimSelectionKey key = accelerated.get(i);
            if (key.isValid()) {
                int ops = key.shimChannel().acceleratedReadyOps(key.interest()) | key.kernelReady;
                key.kernelReady = 0;
                if (ops != 0) {
                    sawReadiness = true;
                    updated += report(key, ops, action);
                }
            }
        }
        return updated;
    }

    /** Reports {@code ops} ready on {@code key} as SelectorImpl.processReadyEvents does. */
    private int report(ShimSelectionKey key, int ops, Consumer<SelectionKey> action) {
        if (action != null) {
            key.setReady(ops);
            if ((ops & key.interest()) != 0) {
                action.accept(key);
                ensureOpen();
                return 1;
            }
            return 0;
        }
        if (selectedKeys.contains(key)) {
            int old = key.ready();
            key.setReady(old | ops);
            return (ops & ~old) != 0 ? 1 : 0;
        }
        key.setReady(ops);
        if ((ops & key.interest()) != 0) {
            selectedKeys.add(key);
            return 1;
        }
        return 0;
    }

    @Override
    protected void implCloseSelector() throws IOException {
        wakeup();
        synchronized (this) {
            for (SelectionKey k : new ArrayList<>(keys)) {
                ShimSelectionKey key = (ShimSelectionKey) k;
                unregisterFd(key);
                key.shimChannel().keys().remove(key);
                deregister(key);
            }
            keys.clear();
            selectedKeys.clear();
            accelerated.clear();
            byFd.clear();
            nics.close();
            synchronized (cancelledKeys()) {
                cancelledKeys().clear();
            }
            epoll.close();
        }
    }
}
