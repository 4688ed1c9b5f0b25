package dev.scoreline.core.model;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Which versions of a model are served: the newest {@code latest} ones, {@code all}, or a {@code
 * specific} list. Exactly one may be set; the default is {@code latest: 1}.
 */
public record VersionPolicy(Integer latest, Boolean all, List<Long> specific) {
  public static final VersionPolicy DEFAULT = new VersionPolicy(1, null, null);

  public VersionPolicy {
    int set = (latest != null ? 1 : 0) + (all != null && all ? 1 : 0) + (specific != null ? 1 : 0);
    if (set != 1) {
      throw new IllegalArgumentException(
          "version-policy needs exactly one of 'latest: N', 'all: true' or 'specific: [..]'");
    }
    if (latest != null && latest < 1) {
      throw new IllegalArgumentException("version-policy.latest must be >= 1");
    }
    specific = specific == null ? null : List.copyOf(specific);
  }

  /** The versions to serve out of those present, ascending. */
  public List<Long> select(Collection<Long> present) {
    List<Long> sorted = new ArrayList<>(present);
    sorted.sort(null);
    if (all != null && all) {
      return sorted;
    }
    if (specific != null) {
      List<Long> out = new ArrayList<>();
      for (Long v : sorted) {
        if (specific.contains(v)) {
          out.add(v);
        }
      }
      return out;
    }
    return sorted.subList(Math.max(0, sorted.size() - latest), sorted.size());
  }
}
