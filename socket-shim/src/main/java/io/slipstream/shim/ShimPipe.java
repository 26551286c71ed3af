package io.slipstream.shim;

import io.slipstream.driver.linux.Sockets;
import io.slipstream.shim.kernel.FdIo;
import io.slipstream.shim.kernel.KernelFd;
import io.slipstream.shim.kernel.KernelPipe;
import io.slipstream.shim.kernel.Poller;
import io.slipstream.stack.Stack;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.nio.channels.spi.SelectorProvider;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;

/** Slipstream's Pipe: both ends over one kernel pipe, so a Slipstream selector can hold them. */
final class ShimPipe extends Pipe {
    private final Source source;
    private final Sink sink;

    ShimPipe(SelectorProvider provider) throws IOException {
        KernelPipe pipe = KernelPipe.open();
        this.source = new Source(provider, pipe.source());
        this.sink = new Sink(provider, pipe.sink());
    }

    @Override
    public SourceChannel source() {
        return source;
    }

    @Override
    public SinkChannel sink() {
        return sink;
    }

    private static int epollEventsFor(int interestOps, int op, int event) {
        return (interestOps & op) != 0 ? event : 0;
    }

    private static int readyFor(int events, int interestOps, int op, int event) {
        if ((events & (Sockets.EPOLLERR | Sockets.EPOLLHUP)) != 0) {
            return interestOps;
        }
        return (events & event) != 0 ? interestOps & op : 0;
    }

    static final class Source extends SourceChannel implements ShimChannel {
        private final KernelFd fd;
        private final ReentrantLock lock = new ReentrantLock();
        private final SelectionKeys keys = new SelectionKeys();

        Source(SelectorProvider provider, KernelFd fd) {
            super(provider);
            this.fd = fd;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            Objects.requireNonNull(dst);
            if (dst.isReadOnly()) {
                throw new IllegalArgumentException("Read-only buffer");
            }
            lock.lock();
            try {
                if (!isOpen()) {
                    throw new ClosedChannelException();
                }
                boolean blocking = isBlocking();
                int n = 0;
                try {
                    if (blocking) {
                        begin();
                    }
                    while (true) {
                        n = FdIo.read(fd, dst, false);
                        if (n != FdIo.UNAVAILABLE || !blocking || !isOpen()) {
                            break;
                        }
                        Poller.awaitReadable(fd, 0);
                    }
                    return n == FdIo.UNAVAILABLE ? 0 : n;
                } finally {
                    if (blocking) {
                        end(n != FdIo.UNAVAILABLE);
                    }
                }
            } finally {
                lock.unlock();
            }
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            Objects.checkFromIndexSize(offset, length, dsts.length);
            lock.lock();
            try {
                if (!isOpen()) {
                    throw new ClosedChannelException();
                }
                boolean blocking = isBlocking();
                long n = 0;
                try {
                    if (blocking) {
                        begin();
                    }
                    while (true) {
                        n = FdIo.read(fd, dsts, offset, length, false);
                        if (n != FdIo.UNAVAILABLE || !blocking || !isOpen()) {
                            break;
                        }
                        Poller.awaitReadable(fd, 0);
                    }
                    return n == FdIo.UNAVAILABLE ? 0 : n;
                } finally {
                    if (blocking) {
                        end(n != FdIo.UNAVAILABLE);
                    }
                }
            } finally {
                lock.unlock();
            }
        }

        @Override
        public long read(ByteBuffer[] dsts) throws IOException {
            return read(dsts, 0, dsts.length);
        }

        @Override
        protected void implCloseSelectableChannel() {
            fd.close();
        }

        @Override
        protected void implConfigureBlocking(boolean block) {
            // Always non-blocking underneath.
        }

        @Override
        public KernelFd kernelFd() {
            return fd;
        }

        @Override
        public int epollEvents(int interestOps) {
            return epollEventsFor(interestOps, SelectionKey.OP_READ, Sockets.EPOLLIN);
        }

        @Override
        public int readyOps(int events, int interestOps) {
            return readyFor(events, interestOps, SelectionKey.OP_READ, Sockets.EPOLLIN);
        }

        @Override
        public Stack stack() {
            return null;
        }

        @Override
        public int acceleratedReadyOps(int interestOps) {
            return 0;
        }

        @Override
        public SelectionKeys keys() {
            return keys;
        }
    }

    static final class Sink extends SinkChannel implements ShimChannel {
        private final KernelFd fd;
        private final ReentrantLock lock = new ReentrantLock();
        private final SelectionKeys keys = new SelectionKeys();

        Sink(SelectorProvider provider, KernelFd fd) {
            super(provider);
            this.fd = fd;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            Objects.requireNonNull(src);
            lock.lock();
            try {
                if (!isOpen()) {
                    throw new ClosedChannelException();
                }
                boolean blocking = isBlocking();
                int written = 0;
                try {
                    if (blocking) {
                        begin();
                    }
                    while (true) {
                        int n = FdIo.write(fd, src, false);
                        if (n > 0) {
                            written += n;
                        }
                        if (!blocking || !src.hasRemaining() || !isOpen()) {
                            break;
                        }
                        if (n == FdIo.UNAVAILABLE) {
                            Poller.awaitWritable(fd, 0);
                        }
                    }
                    return written;
                } finally {
                    if (blocking) {
                        end(written > 0 || !src.hasRemaining());
                    }
                }
            } finally {
                lock.unlock();
            }
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            Objects.checkFromIndexSize(offset, length, srcs.length);
            long total = 0;
            for (int i = offset; i < offset + length; i++) {
                int before = srcs[i].remaining();
                int n = write(srcs[i]);
                total += n;
                if (n < before) {
                    break;
                }
            }
            return total;
        }

        @Override
        public long write(ByteBuffer[] srcs) throws IOException {
            return write(srcs, 0, srcs.length);
        }

        @Override
        protected void implCloseSelectableChannel() {
            fd.close();
        }

        @Override
        protected void implConfigureBlocking(boolean block) {
            // Always non-blocking underneath.
        }

        @Override
        public KernelFd kernelFd() {
            return fd;
        }

        @Override
        public int epollEvents(int interestOps) {
            return epollEventsFor(interestOps, SelectionKey.OP_WRITE, Sockets.EPOLLOUT);
        }

        @Override
        public int readyOps(int events, int interestOps) {
            return readyFor(events, interestOps, SelectionKey.OP_WRITE, Sockets.EPOLLOUT);
        }

        @Override
        public Stack stack() {
            return null;
        }

        @Override
        public int acceleratedReadyOps(int interestOps) {
            return 0;
        }

        @Override
        public SelectionKeys keys() {
            return keys;
        }
    }
}
