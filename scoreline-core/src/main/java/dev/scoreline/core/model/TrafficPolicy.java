package dev.scoreline.core.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How requests that name no version are spread over versions: a weighted {@code split} (canary,
 * A/B; keys are versions or labels, weights are relative), sticky by routing key when the request
 * carries one, and an optional {@code shadow} version that receives a copy of a fraction of the
 * traffic whose answers are discarded.
 */
public record TrafficPolicy(Map<String, Integer> split, Shadow shadow) {
  public TrafficPolicy {
    split = split == null ? Map.of() : new LinkedHashMap<>(split);
    int total = 0;
    for (Map.Entry<String, Integer> e : split.entrySet()) {
      if (e.getValue() == null || e.getValue() < 0) {
        throw new IllegalArgumentException(
            "traffic.split weight of '" + e.getKey() + "' must be >= 0");
      }
      total += e.getValue();
    }
    if (!split.isEmpty() && total == 0) {
      throw new IllegalArgumentException("traffic.split weights must not all be 0");
    }
    // sorted, so that sticky routing picks the same version on every replica and restart
    split = java.util.Collections.unmodifiableSortedMap(new java.util.TreeMap<>(split));
  }

  /** A copy of a fraction of the traffic sent to another version, its answers discarded. */
  public record Shadow(String version, double fraction) {
    public Shadow {
      if (version == null || version.isBlank()) {
        throw new IllegalArgumentException("traffic.shadow.version is missing");
      }
      if (!(fraction > 0 && fraction <= 1)) {
        throw new IllegalArgumentException("traffic.shadow.fraction must be in (0, 1]");
      }
    }

    @JsonCreator
    static Shadow of(
        @JsonProperty("version") Object version, @JsonProperty("fraction") Double fraction) {
      return new Shadow(
          version == null ? null : version.toString(), fraction == null ? 1.0 : fraction);
    }
  }

  @JsonCreator
  static TrafficPolicy of(
      @JsonProperty("split") Map<String, Integer> split, @JsonProperty("shadow") Shadow shadow) {
    return new TrafficPolicy(split, shadow);
  }
}
