#!/usr/bin/env python3
"""One side of a recorded conversation, on the kernel's sockets (run by record-conversations.sh).

Usage: actor.py KIND HOST PORT STEP...  (KIND: tcp-client, tcp-server, udp-client, udp-server)
Steps, in order: mss=N rcvbuf=N sndbuf=N nodelay keepalive=IDLE,INTERVAL,COUNT (options, set
before connect/listen), connect, listen (bind, listen, write the ready file, accept one),
send=N, recv=N, recveof, shutwr, close, abort (SO_LINGER 0, then close: an RST),
sleep=SECONDS, until=FILE (wait for a file), touch=FILE. A reset or a refused connection ends
the steps quietly: several conversations are about exactly that.
"""
import os, socket, struct, sys, time

READY = os.environ.get("ACTOR_READY", "/tmp/actor.ready")


def pattern(offset, n):
    # Printable, position-dependent bytes: a misplaced byte shows in a diff.
    return bytes(97 + (offset + i) % 26 for i in range(n))


def main():
    kind, host, port, steps = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    udp = kind.startswith("udp")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    conn, peer, sent, received = s, (host, port), 0, 0
    try:
        for step in steps:
            name, _, arg = step.partition("=")
            if name == "mss":
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, int(arg))
            elif name == "rcvbuf":
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, int(arg))
            elif name == "sndbuf":
                s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, int(arg))
            elif name == "nodelay":
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            elif name == "keepalive":
                idle, interval, count = (int(x) for x in arg.split(","))
                s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, interval)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, count)
            elif name == "connect":
                s.connect((host, port))
            elif name == "listen":
                s.bind((host, port))
                if udp:
                    open(READY, "w").close()
                    continue
                s.listen(1)
                open(READY, "w").close()
                conn, _ = s.accept()
            elif name == "send":
                data = pattern(sent, int(arg))
                if udp:
                    s.sendto(data, peer)
                else:
                    conn.sendall(data)
                sent += len(data)
            elif name == "recv":
                want = int(arg)
                if udp:
                    data, peer = s.recvfrom(65535)
                    assert len(data) == want, (len(data), want)
                    continue
                while want > 0:
                    data = conn.recv(want)
                    if not data:
                        raise EOFError("end of stream with %d bytes still expected" % want)
                    want -= len(data)
                    received += len(data)
            elif name == "recveof":
                while conn.recv(65536):
                    pass
            elif name == "shutwr":
                conn.shutdown(socket.SHUT_WR)
            elif name == "close":
                conn.close()
            elif name == "abort":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
            elif name == "sleep":
                time.sleep(float(arg))
            elif name == "until":
                for _ in range(500):
                    if os.path.exists(arg):
                        break
                    time.sleep(0.001)
            elif name == "touch":
                open(arg, "w").close()
            else:
                raise SystemExit("unknown step " + step)
    except (ConnectionResetError, ConnectionRefusedError, BrokenPipeError) as e:
        print("%s: %s" % (kind, e), file=sys.stderr)


main()
