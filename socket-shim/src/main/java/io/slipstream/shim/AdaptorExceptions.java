package io.slipstream.shim;

import java.io.IOException;
import java.net.SocketException;
import java.net.SocketImpl;
import java.net.UnknownHostException;
import java.net.InetAddress;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.nio.channels.AlreadyBoundException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NotYetBoundException;
import java.nio.channels.NotYetConnectedException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.channels.UnsupportedAddressTypeException;

/**
 * The translation the JDK's socket adaptors apply (sun.nio.ch.Net.translateException): channel
 * exceptions become the SocketExceptions that java.net callers expect.
 */
final class AdaptorExceptions {
    private AdaptorExceptions() {}

    static SocketException toSocketException(Exception x) {
        if (x instanceof SocketException se) {
            return se;
        }
        String message;
        if (x instanceof ClosedChannelException) {
            message = "Socket is closed";
        } else if (x instanceof NotYetConnectedException) {
            message = "Socket is not connected";
        } else if (x instanceof AlreadyBoundException) {
            message = "Already bound";
        } else if (x instanceof NotYetBoundException) {
            message = "Socket is not bound yet";
        } else if (x instanceof UnsupportedAddressTypeException) {
            message = "Unsupported address type";
        } else if (x instanceof UnresolvedAddressException) {
            message = "Unresolved address";
        } else {
            message = x.getMessage();
        }
        SocketException se = new SocketException(message);
        se.initCause(x);
        return se;
    }

    /** For connect: an unresolved address is an UnknownHostException. */
    static IOException toConnectException(Exception x) {
        if (x instanceof UnresolvedAddressException) {
            return new UnknownHostException();
        }
        if (x instanceof IOException io && !(x instanceof ClosedChannelException)) {
            return io;
        }
        return toSocketException(x);
    }

    /** The SocketImpl the adaptors hand to their superclass constructors; every method is unreachable. */
    static final class NoSocketImpl extends SocketImpl {
        @Override
        protected void create(boolean stream) {
            throw new UnsupportedOperationException();
        }

        @Override
        protected void connect(String host, int port) {
            throw new UnsupportedOperationException();
        }

        @Override
        protected void connect(InetAddress address, int port) {
            throw new UnsupportedOperationException();
        }

        @Override
        protected void connect(SocketAddress address, int timeout) {
            throw new UnsupportedOperationException();
        }

        @Override
        protected void bind(InetAddress host, int port) {
            throw new UnsupportedOperationException();
        }

        @Override
        protected void listen(int backlog) {
            throw new UnsupportedOperationException();
        }

        @Override
        protected void accept(SocketImpl s) {
            throw new UnsupportedOperationException();
        }

        @Override
        protected InputStream getInputStream() {
            throw new UnsupportedOperationException();
        }

        @Override
        protected OutputStream getOutputStream() {
            throw new UnsupportedOperationException();
        }

        @Override
        protected int available() {
            throw new UnsupportedOperationException();
        }

        @Override
        protected void close() {
            // nothing was opened
        }

        @Override
        protected void sendUrgentData(int data) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void setOption(int optID, Object value) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Object getOption(int optID) {
            throw new UnsupportedOperationException();
        }

        @Override
        protected <T> void setOption(SocketOption<T> name, T value) {
            throw new UnsupportedOperationException();
        }

        @Override
        protected <T> T getOption(SocketOption<T> name) {
            throw new UnsupportedOperationException();
        }
    }
}
