package io.slipstream.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.ChildJvm;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * IPv4 channels under {@code -Djava.net.preferIPv6Addresses=true}: bind(null) and the implicit
 * bind use the IPv4 wildcard, not the {@code ::} java.net prefers. The property is read once
 * per JVM, so each side of the differential suite runs {@link PreferIPv6Program} in a child JVM.
 */
class PreferIPv6DifferentialTest {
    @ParameterizedTest
    @ValueSource(strings = {"jdk", "slipstream", "slipstream-kernel"})
    void ipv4ChannelsUseTheIpv4WildcardWhenIpv6IsPreferred(String env) throws Exception {
        ChildJvm.Result r = ChildJvm.run(List.of("-Djava.net.preferIPv6Addresses=true"), PreferIPv6Program.class, env);
        assertTrue(r.ended(), r.output());
        assertEquals(0, r.exitValue(), r.output());
        assertTrue(r.lines().contains("ok " + env), r.output());
    }
}
