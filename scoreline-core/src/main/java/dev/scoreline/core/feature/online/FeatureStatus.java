package dev.scoreline.core.feature.online;

/** The status of one feature value of one entity row in an online read. */
public enum FeatureStatus {
  /** A value is present and within the view's TTL. */
  PRESENT,
  /**
   * No value is stored for this entity and view; or the stored record predates the feature (a
   * feature appended to the view after the value was written), or holds it with another type.
   */
  NOT_FOUND,
  /**
   * A value was stored but is older than the view's TTL ({@code now - event_ts > ttl}); the value
   * is not returned (null), its event timestamp is.
   */
  EXPIRED,
  /** The row was stored with this feature missing (null). */
  NULL;

  private static final FeatureStatus[] VALUES = values();

  static FeatureStatus of(byte code) {
    return VALUES[code];
  }

  byte code() {
    return (byte) ordinal();
  }
}
