package io.slipstream.bench;

import java.util.List;
import java.util.Map;

/**
 * One case of a namespace bench ({@link XdpBench}, {@link ServerBench}): the client's and the
 * server's {@code result} values (see {@link NamespacePrograms#result}), or why there are none.
 */
public record Outcome(String id, String label, Map<String, String> client, Map<String, String> server,
                      String failure) {
    public boolean ok() {
        return failure == null;
    }

    /** The client's figure under {@code key}. */
    public double value(String key) {
        return Double.parseDouble(client.get(key));
    }

    /** The outcome of case {@code id} in {@code outcomes}; a failed one, "not run", if it is not there. */
    static Outcome find(List<Outcome> outcomes, String id) {
        return outcomes.stream().filter(o -> o.id().equals(id)).findFirst()
                .orElse(failed(id, "(" + id + ")", "not run"));
    }

    static Outcome failed(String id, String label, String why) {
        return new Outcome(id, label, Map.of(), Map.of(), why);
    }
}
