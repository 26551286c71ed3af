package io.slipstream.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * docs/CONFIGURATION.md and the code agree: every {@code slipstream.*} setting the main code of
 * any module reads is in a table of that page, and every setting in those tables is read by
 * the code. Settings are found in the sources as whole string literals ({@code
 * "slipstream.mtu"}) or as a prefix constant joined to a literal ({@code PREFIX + "rcvbuf"}
 * with {@code PREFIX = "slipstream.tcp."}), the two ways the code names them.
 */
class ConfigurationDocsTest {
    private static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();
    private static final Pattern LITERAL = Pattern.compile("\"(slipstream\\.[A-Za-z0-9_.]*[A-Za-z0-9_])\"");
    private static final Pattern PREFIX_CONSTANT =
            Pattern.compile("static final String (\\w+) = \"(slipstream\\.[A-Za-z0-9_.]*\\.)\";");
    /** A table row's first cell: the property. */
    private static final Pattern DOCUMENTED = Pattern.compile("(?m)^\\| `(slipstream\\.[A-Za-z0-9_.]+)` \\|");

    @Test
    void everySettingTheCodeReadsIsDocumentedAndNoOther() throws IOException {
        Set<String> read = settingsReadByTheCode();
        Set<String> documented = new TreeSet<>();
        Matcher m = DOCUMENTED.matcher(Files.readString(ROOT.resolve("docs/CONFIGURATION.md")));
        while (m.find()) {
            documented.add(m.group(1));
        }
        assertTrue(read.size() > 50, "the scan found the settings: " + read);
        Set<String> undocumented = new TreeSet<>(read);
        undocumented.removeAll(documented);
        Set<String> stale = new TreeSet<>(documented);
        stale.removeAll(read);
        assertEquals(Set.of(), undocumented, "read by the code but not in docs/CONFIGURATION.md");
        assertEquals(Set.of(), stale, "in docs/CONFIGURATION.md but read by no code");
    }

    private static Set<String> settingsReadByTheCode() throws IOException {
        Set<String> keys = new TreeSet<>();
        try (Stream<Path> files = Files.walk(ROOT)) {
            for (Path file : files.filter(ConfigurationDocsTest::isMainSource).toList()) {
                String source = Files.readString(file);
                Matcher literal = LITERAL.matcher(source);
                while (literal.find()) {
                    keys.add(literal.group(1));
                }
                Matcher constant = PREFIX_CONSTANT.matcher(source);
                while (constant.find()) {
                    Matcher joined = Pattern.compile("\\b" + constant.group(1) + " \\+ \"([A-Za-z0-9_.]+)\"").matcher(source);
                    while (joined.find()) {
                        keys.add(constant.group(2) + joined.group(1));
                    }
                }
            }
        }
        return keys;
    }

    private static boolean isMainSource(Path p) {
        String s = ROOT.relativize(p).toString();
        return s.endsWith(".java") && s.contains("/src/main/java/") && !s.contains("/target/");
    }
}
