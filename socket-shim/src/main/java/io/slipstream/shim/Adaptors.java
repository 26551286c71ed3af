package io.slipstream.shim;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocketImpl;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketImpl;
import java.net.SocketOption;
import java.net.UnknownHostException;
import java.nio.channels.AlreadyBoundException;
import java.nio.channels.Channel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NetworkChannel;
import java.nio.channels.NotYetBoundException;
import java.nio.channels.NotYetConnectedException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.channels.UnsupportedAddressTypeException;

/**
 * What the socket adaptors (the java.net views of the channels) share: the translation the
 * JDK's adaptors apply (sun.nio.ch.Net.translateException), so channel exceptions become the
 * SocketExceptions java.net callers expect, option access through that translation, and the
 * never-used impls their java.net superclasses' constructors are handed.
 */
final class Adaptors {
    private Adaptors() {}

    /** Sets an option on the channel, with channel exceptions translated. */
    static <T> void set(NetworkChannel channel, SocketOption<T> name, T value) throws SocketException {
        try {
            channel.setOption(name, value);
        } catch (IOException x) {
            throw toSocketException(x);
        }
    }

    /** {@link #set} for a name and value whose type was checked elsewhere (SocketImpl's untyped options). */
    @SuppressWarnings("unchecked")
    static void setUntyped(NetworkChannel channel, SocketOption<?> name, Object value) throws SocketException {
        set(channel, (SocketOption<Object>) name, value);
    }

    static <T> T get(NetworkChannel channel, SocketOption<T> name) throws SocketException {
        try {
            return channel.getOption(name);
        } catch (IOException x) {
            throw toSocketException(x);
        }
    }

    /** A buffer size from Socket.setSendBufferSize and friends: positive, as java.net requires. */
    static void setBufferSize(NetworkChannel channel, SocketOption<Integer> name, int size) throws SocketException {
        if (size <= 0) {
            throw new IllegalArgumentException("Invalid " + (name == java.net.StandardSocketOptions.SO_SNDBUF ? "send" : "receive") + " size");
        }
        set(channel, name, size);
    }

    static void ensureOpen(Channel channel) throws SocketException {
        if (!channel.isOpen()) {
            throw new SocketException("Socket is closed");
        }
    }

    /** Checks a value for setSoTimeout on an open socket and returns it. */
    static int checkTimeout(Channel channel, int timeoutMillis) throws SocketException {
        ensureOpen(channel);
        if (timeoutMillis < 0) {
            throw new IllegalArgumentException("timeout < 0");
        }
        return timeoutMillis;
    }

    /** Runs a call on the channel, what it throws translated by {@link #toSocketException}. */
    static void translated(ChannelLocks.IoAction<?> call) throws SocketException {
        try {
            call.run();
        } catch (Exception x) {
            throw toSocketException(x);
        }
    }

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

    /** The impl handed to DatagramSocket's constructor; never used, since every method is overridden. */
    static final class NoDatagramSocketImpl extends DatagramSocketImpl {
        @Override
        protected void create() {
            throw new UnsupportedOperationException();
        }

        @Override
        protected void bind(int lport, InetAddress laddr) {
            throw new UnsupportedOperationException();
        }

        @Override
        protected void send(DatagramPacket p) {
            throw new UnsupportedOperationException();
        }

        @Override
        protected int peek(InetAddress i) {
            throw new UnsupportedOperationException();
        }

        @Override
        protected int peekData(DatagramPacket p) {
            throw new UnsupportedOperationException();
        }

        @Override
        protected void receive(DatagramPacket p) {
            throw new UnsupportedOperationException();
        }

        @Override
        @Deprecated
        protected void setTTL(byte ttl) {
            throw new UnsupportedOperationException();
        }

        @Override
        @Deprecated
        protected byte getTTL() {
            throw new UnsupportedOperationException();
        }

        @Override
        protected void setTimeToLive(int ttl) {
            throw new UnsupportedOperationException();
        }

        @Override
        protected int getTimeToLive() {
            throw new UnsupportedOperationException();
        }

        @Override
        protected void join(InetAddress inetaddr) {
            throw new UnsupportedOperationException();
        }

        @Override
        protected void leave(InetAddress inetaddr) {
            throw new UnsupportedOperationException();
        }

        @Override
        protected void joinGroup(SocketAddress mcastaddr, NetworkInterface netIf) {
            throw new UnsupportedOperationException();
        }

        @Override
        protected void leaveGroup(SocketAddress mcastaddr, NetworkInterface netIf) {
            throw new UnsupportedOperationException();
        }

        @Override
        protected void close() {
            // nothing was opened
        }

        @Override
        public void setOption(int optID, Object value) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Object getOption(int optID) {
            throw new UnsupportedOperationException();
        }
    }
}
