package io.slipstream.testing;

import io.slipstream.shim.SlipstreamAgent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/**
 * Agent jars for child JVMs in tests: a jar holding only a manifest that names Slipstream's
 * premain, so the child can take its classes from the test class path (where the shim may be
 * a directory of classes rather than its packaged jar).
 */
public final class AgentJars {
    private AgentJars() {}

    public static Path premainOnly(Path dir) throws IOException {
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().putValue("Premain-Class", SlipstreamAgent.class.getName());
        Path jar = dir.resolve("agent.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), m)) {
            out.flush();
        }
        return jar;
    }
}
