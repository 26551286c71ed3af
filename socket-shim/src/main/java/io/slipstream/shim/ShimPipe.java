package io.slipstream.shim;

import io.slipstream.shim.kernel.FdIo;
import io.slipstream.shim.kernel.KernelFd;
import io.slipstream.shim.kernel.KernelPipe;
import java.io.IOException;
import java.nio.ByteBuffer;
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

    static final class Source extends SourceChannel implements ShimChannel {
        private final KernelFd fd;
        private final Backend backend;
        private final ReentrantLock lock = new ReentrantLock();

        Source(SelectorProvider provider, KernelFd fd) {
            super(provider);
            this.fd = fd;
            this.backend = new Backend.Descriptor(fd, new SelectionKeys(SelectionKey.OP_READ, 0));
        }

        @Override
        public Backend backend() {
            return backend;
        }

        @Override
        protected void implConfigureBlocking(boolean block) {
            // Always non-blocking underneath: blocking mode is how read waits.
        }

        @Override
        protected void implCloseSelectableChannel() {
            backend.close();
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            if (dst.isReadOnly()) {
                throw new IllegalArgumentException("Read-only buffer");
            }
            return (int) read(dst, null, 0, 0);
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            Objects.checkFromIndexSize(offset, length, dsts.length);
            return read(null, dsts, offset, length);
        }

        @Override
        public long read(ByteBuffer[] dsts) throws IOException {
            return read(dsts, 0, dsts.length);
        }

        private long read(ByteBuffer dst, ByteBuffer[] dsts, int offset, int length) throws IOException {
            lock.lock();
            try {
                ensureOpen();
                boolean blocking = isBlocking();
                long n = FdIo.UNAVAILABLE;
                try {
                    if (blocking) {
                        begin();
                    }
                    n = FdIo.read(fd, dst, dsts, offset, length, false, blocking, 0);
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

    }

    static final class Sink extends SinkChannel implements ShimChannel {
        private final KernelFd fd;
        private final Backend backend;
        private final ReentrantLock lock = new ReentrantLock();

        Sink(SelectorProvider provider, KernelFd fd) {
            super(provider);
            this.fd = fd;
            this.backend = new Backend.Descriptor(fd, new SelectionKeys(0, SelectionKey.OP_WRITE));
        }

        @Override
        public Backend backend() {
            return backend;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            Objects.requireNonNull(src);
            return (int) write(src, null, 0, 0);
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            Objects.checkFromIndexSize(offset, length, srcs.length);
            return write(null, srcs, offset, length);
        }

        @Override
        public long write(ByteBuffer[] srcs) throws IOException {
            return write(srcs, 0, srcs.length);
        }

        private long write(ByteBuffer src, ByteBuffer[] srcs, int offset, int length) throws IOException {
            lock.lock();
            try {
                ensureOpen();
                boolean blocking = isBlocking();
                long written = 0;
                try {
                    if (blocking) {
                        begin();
                    }
                    written = FdIo.write(fd, src, srcs, offset, length, false, blocking);
                    return written;
                } finally {
                    if (blocking) {
                        end(written > 0);
                    }
                }
            } finally {
                lock.unlock();
            }
        }

        @Override
        protected void implCloseSelectableChannel() {
            backend.close();
        }

        @Override
        protected void implConfigureBlocking(boolean block) {
            // Always non-blocking underneath.
        }
    }
}
