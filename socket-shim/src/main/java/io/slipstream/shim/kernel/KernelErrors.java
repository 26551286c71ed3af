package io.slipstream.shim.kernel;

import io.slipstream.linux.Errno;
import io.slipstream.linux.Libc;
import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;
import java.net.ProtocolException;
import java.net.SocketException;

/**
 * Turns an errno from a socket call into the exception the JDK's own channels throw for it,
 * with the C library's text as the message ("Connection refused"), as the JDK's Net.c and
 * SocketDispatcher.c do on Linux.
 */
public final class KernelErrors {
    private KernelErrors() {}

    /** For connect, bind, listen, accept and option calls (the JDK's handleSocketError). */
    public static IOException socketError(int errno) {
        String text = Libc.strerror(errno);
        return switch (errno) {
            case Errno.ECONNREFUSED, Errno.ETIMEDOUT, Errno.ENOTCONN -> new ConnectException(text);
            case Errno.EHOSTUNREACH -> new NoRouteToHostException(text);
            case Errno.EADDRINUSE, Errno.EADDRNOTAVAIL, Errno.EACCES -> new BindException(text);
            case Errno.EPROTO -> new ProtocolException(text);
            default -> new SocketException(text);
        };
    }

    /** For reads and writes on a stream socket. */
    public static IOException streamError(int errno) {
        if (errno == Errno.ECONNRESET) {
            return new SocketException("Connection reset");
        }
        return new IOException(Libc.strerror(errno));
    }

    /** For datagram sends and receives: an ICMP port unreachable shows as ECONNREFUSED. */
    public static IOException datagramError(int errno) {
        if (errno == Errno.ECONNREFUSED) {
            return new PortUnreachableException();
        }
        return socketError(errno);
    }
}
