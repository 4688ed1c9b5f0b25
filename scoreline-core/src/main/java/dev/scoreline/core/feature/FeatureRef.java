package dev.scoreline.core.feature;

/** A feature named {@code view:feature}. */
public record FeatureRef(String view, String feature) {
  public static FeatureRef parse(String field, String text) {
    int colon = text.indexOf(':');
    if (colon <= 0 || colon == text.length() - 1 || text.indexOf(':', colon + 1) >= 0) {
      throw dev.scoreline.core.error.ScorelineException.userError(
          field, field + ": '" + text + "' is not a feature reference; write view:feature");
    }
    return new FeatureRef(text.substring(0, colon), text.substring(colon + 1));
  }

  @Override
  public String toString() {
    return view + ":" + feature;
  }
}
