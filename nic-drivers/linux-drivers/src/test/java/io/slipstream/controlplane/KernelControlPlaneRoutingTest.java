package io.slipstream.controlplane;

import static io.slipstream.controlplane.ControlPlaneSandbox.PEER_IP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.NetNs;
import io.slipstream.wire.Ipv4Address;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Longest-prefix matching agrees with the kernel's own answer ({@code ip route get}). */
class KernelControlPlaneRoutingTest extends SandboxedControlPlaneTest {
    @Test
    void nextHopAndSourceAgreeWithIpRouteGet() throws IOException {
        // A second interface (the other end of a veth pair stays in our namespace), for routes
        // whose best match leaves elsewhere.
        box.ip("link", "add", "w0", "type", "veth", "peer", "name", "w1");
        box.ip("link", "set", "w1", "up");
        box.ip("addr", "add", "198.18.50.1/24", "dev", "w0");
        box.ip("link", "set", "w0", "up");
        box.ip("addr", "add", "198.18.10.1/28", "dev", "v0");
        box.ip("route", "add", "default", "via", "198.18.9.2");
        box.ip("route", "add", "198.18.0.0/16", "via", "198.18.9.3");
        box.ip("route", "add", "198.18.128.0/24", "via", "198.18.9.4");
        box.ip("route", "add", "198.18.200.7/32", "via", "198.18.9.5");
        box.ip("route", "add", "198.18.60.0/24", "via", "198.18.50.2");
        box.ip("route", "add", "blackhole", "198.18.70.0/24");
        box.ip("route", "add", "198.18.80.0/24", "via", "198.18.9.6", "metric", "10");
        box.ip("route", "add", "198.18.80.0/24", "via", "198.18.9.7", "metric", "5");
        box.ip("route", "add", "198.18.90.0/24", "dev", "v0", "src", "198.18.10.1");

        KernelControlPlane cp = box.open();
        InterfaceSnapshot s = box.awaitMatchesKernel();

        String[] destinations = {
            "198.19.1.1", "198.19.255.254", "198.18.1.1", "198.18.127.255", "198.18.128.9", "198.18.129.9",
            "198.18.200.7", "198.18.200.8", "198.18.9.77", "198.18.9.2", "198.18.10.5", "198.18.50.9",
            "198.18.60.1", "198.18.70.1", "198.18.80.1", "198.18.90.3", "255.255.255.255",
        };
        List<String> kernel = new ArrayList<>();
        List<String> ours = new ArrayList<>();
        for (String d : destinations) {
            int dst = Ipv4Address.parse(d);
            kernel.add(d + " -> " + kernelAnswer(d));
            int hop = s.nextHop(dst);
            ours.add(d + " -> " + (hop == InterfaceSnapshot.NO_ROUTE ? "none"
                    : Ipv4Address.format(hop) + " src " + Ipv4Address.format(s.sourceAddress(dst))));
        }
        assertEquals(String.join("\n", kernel), String.join("\n", ours), s.toString());
        // The cases the list is made of, spelt out.
        assertEquals(PEER_IP, s.nextHop(Ipv4Address.parse("198.19.1.1")), "default");
        assertEquals(Ipv4Address.parse("198.18.9.3"), s.nextHop(Ipv4Address.parse("198.18.1.1")), "/16");
        assertEquals(Ipv4Address.parse("198.18.9.4"), s.nextHop(Ipv4Address.parse("198.18.128.9")), "/24");
        assertEquals(Ipv4Address.parse("198.18.9.5"), s.nextHop(Ipv4Address.parse("198.18.200.7")), "/32");
        assertEquals(Ipv4Address.parse("198.18.9.7"), s.nextHop(Ipv4Address.parse("198.18.80.1")), "lower metric");
        assertEquals(Ipv4Address.parse("198.18.9.77"), s.nextHop(Ipv4Address.parse("198.18.9.77")), "on-link");
        assertEquals(InterfaceSnapshot.NO_ROUTE, s.nextHop(Ipv4Address.parse("198.18.60.1")), "via w0");
        assertEquals(InterfaceSnapshot.NO_ROUTE, s.nextHop(Ipv4Address.parse("198.18.70.1")), "blackhole");
        assertEquals(Ipv4Address.parse("198.18.10.1"), s.sourceAddress(Ipv4Address.parse("198.18.90.3")), "src");
        assertEquals(0, cp.counters().get(ControlPlaneCounter.PARSE_ERRORS));
    }

    /** What the kernel routes {@code dst} to: "none" unless it leaves through v0 to a neighbour. */
    private String kernelAnswer(String dst) {
        NetNs.Result r = box.ours.exec("ip", "-j", "route", "get", dst);
        if (!r.ok()) {
            return "none"; // e.g. a blackhole: "RTNETLINK answers: Invalid argument"
        }
        Map<String, Object> route = Json.parseArray(r.stdout()).get(0);
        Object type = route.get("type");
        if (!"v0".equals(route.get("dev")) || type != null && !"unicast".equals(type) && !"broadcast".equals(type)) {
            return "none";
        }
        Object gw = route.get("gateway");
        return (gw != null ? gw : dst) + " src " + route.get("prefsrc");
    }

    @Test
    void aFarAddressGoesThroughTheGatewayWhoseMacTheKernelResolves() throws IOException {
        // The peer namespace is the gateway: it forwards, and the far network is behind it.
        box.peer.exec("sysctl", "-q", "-w", "net.ipv4.ip_forward=1").orThrow();
        box.peer.exec("ip", "link", "add", "far0", "type", "veth", "peer", "name", "far1").orThrow();
        box.peer.exec("ip", "addr", "add", "198.19.1.254/24", "dev", "far0").orThrow();
        box.peer.exec("ip", "link", "set", "far1", "up").orThrow();
        box.peer.exec("ip", "link", "set", "far0", "up").orThrow();
        box.ip("route", "add", "default", "via", "198.18.9.2", "dev", "v0");
        KernelControlPlane cp = box.open();
        int far = Ipv4Address.parse("198.19.1.1");

        int hop = cp.nextHop(far);
        assertEquals(Ipv4Address.format(PEER_IP), Ipv4Address.format(hop), "the gateway");
        assertEquals("198.18.9.2 src 198.18.9.1", kernelAnswer("198.19.1.1"));
        assertEquals(-1, cp.neighbourMac(hop), "not resolved yet");

        assertTrue(cp.resolve(hop));
        box.await("the gateway's MAC", x -> x.macOf(hop) == box.peerMac);
        box.awaitMatchesKernel();
        // The kernel's own traffic to the far side now goes through the same, resolved gateway.
        box.ours.exec("ping", "-c", "1", "-W", "2", "198.19.1.254").orThrow();
    }
}
