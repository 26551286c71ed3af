package io.slipstream.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * System.inheritedChannel() with Slipstream's provider: a parent (a few lines of Python) hands a
 * listening socket to the child JVM as its standard input, as inetd and systemd do.
 */
class InheritedChannelTest {
    private static final String PARENT = String.join("\n",
            "import socket, subprocess, sys",
            "srv = socket.socket()",
            "srv.bind(('127.0.0.1', 0))",
            "srv.listen(4)",
            "p = subprocess.Popen(sys.argv[1:], stdin=srv.fileno(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)",
            "c = socket.create_connection(srv.getsockname(), timeout=60)",
            "c.sendall(b'inherit')",
            "got = b''",
            "while len(got) < 7:",
            "    d = c.recv(7 - len(got))",
            "    if not d: break",
            "    got += d",
            "out, _ = p.communicate(timeout=60)",
            "print('echo ' + got.decode())",
            "print(out.decode())",
            "sys.exit(p.returncode)");

    private static boolean python() {
        try {
            return new ProcessBuilder("python3", "--version").start().waitFor(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void aListeningSocketOnStandardInputIsTheInheritedChannel() throws Exception {
        Assumptions.assumeTrue(python(), "python3 (the parent process of this test) is not installed: skipped");
        List<String> cmd = List.of("python3", "-c", PARENT,
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-Djava.nio.channels.spi.SelectorProvider=" + SlipstreamSelectorProvider.class.getName(),
                "-cp", System.getProperty("java.class.path"), InheritedProgram.class.getName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        boolean ended = p.waitFor(120, TimeUnit.SECONDS);
        if (!ended) {
            p.destroyForcibly();
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(ended, out);
        assertEquals(0, p.exitValue(), out);
        List<String> lines = out.lines().toList();
        assertTrue(lines.contains("echo inherit"), out);
        assertTrue(lines.contains("inherited ShimServerSocketChannel"), out);
        assertTrue(lines.contains("blocking true"), out);
        assertTrue(lines.contains("again true"), out);
    }
}
