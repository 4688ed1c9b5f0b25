package dev.scoreline.bench.features;

import dev.scoreline.core.feature.FeatureRef;
import dev.scoreline.core.feature.FeatureRow;
import dev.scoreline.core.feature.online.OnlineFeatureStore;
import dev.scoreline.core.progress.ProgressListener;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The synthetic feature project of the benchmark: entity {@code user} with {@value #USER_VIEWS}
 * views of {@value #FEATURES_PER_VIEW} features ({@code user_v0..user_v4}) and entity {@code item}
 * with one view of {@value #FEATURES_PER_VIEW} ({@code item_v0}), each view a recommender-like mix:
 * one 16-dim fp32 embedding, 7 fp64, 6 int64, 4 fp32, one short string, one bool. No TTL, so every
 * value read is PRESENT.
 */
final class SyntheticFeatures {
  static final int USER_VIEWS = 5;
  static final int FEATURES_PER_VIEW = 20;
  static final int EMBEDDING_DIM = 16;

  private SyntheticFeatures() {}

  /** The type of feature {@code f} of every view. */
  static String type(int f) {
    if (f == 0) {
      return "fp32_list";
    }
    if (f <= 7) {
      return "fp64";
    }
    if (f <= 13) {
      return "int64";
    }
    if (f <= 17) {
      return "fp32";
    }
    return f == 18 ? "string" : "bool";
  }

  static String yaml() {
    StringBuilder sb = new StringBuilder();
    sb.append("entities:\n");
    sb.append("  - name: user\n    keys: [{name: user_id, type: int64}]\n");
    sb.append("  - name: item\n    keys: [{name: item_id, type: int64}]\n");
    sb.append("feature-views:\n");
    for (int v = 0; v < USER_VIEWS; v++) {
      view(sb, "user_v" + v, "user");
    }
    view(sb, "item_v0", "item");
    return sb.toString();
  }

  private static void view(StringBuilder sb, String name, String entity) {
    sb.append("  - name: ").append(name).append('\n');
    sb.append("    entity: ").append(entity).append('\n');
    sb.append("    source: {path: data/").append(name).append(".parquet}\n");
    sb.append("    timestamp-column: event_ts\n");
    sb.append("    features:\n");
    for (int f = 0; f < FEATURES_PER_VIEW; f++) {
      sb.append("      - {name: f").append(f).append(", type: ").append(type(f)).append("}\n");
    }
  }

  /** All features of {@code views}, in view order. */
  static List<FeatureRef> features(String... views) {
    List<FeatureRef> out = new ArrayList<>();
    for (String v : views) {
      for (int f = 0; f < FEATURES_PER_VIEW; f++) {
        out.add(new FeatureRef(v, "f" + f));
      }
    }
    return List.copyOf(out);
  }

  static List<FeatureRef> userFeatures() {
    String[] views = new String[USER_VIEWS];
    for (int v = 0; v < USER_VIEWS; v++) {
      views[v] = "user_v" + v;
    }
    return features(views);
  }

  static Object[] values(SplittableRandom rnd, long id) {
    Object[] values = new Object[FEATURES_PER_VIEW];
    float[] embedding = new float[EMBEDDING_DIM];
    for (int i = 0; i < EMBEDDING_DIM; i++) {
      embedding[i] = (float) rnd.nextGaussian();
    }
    values[0] = embedding;
    for (int f = 1; f < FEATURES_PER_VIEW; f++) {
      switch (type(f)) {
        case "fp64":
          values[f] = rnd.nextDouble() * 100;
          break;
        case "int64":
          values[f] = (long) rnd.nextInt(1_000_000);
          break;
        case "fp32":
          values[f] = rnd.nextFloat();
          break;
        case "string":
          values[f] = "seg-" + (id % 97);
          break;
        default:
          values[f] = rnd.nextBoolean();
          break;
      }
    }
    return values;
  }

  /** Writes every view of ids {@code [0, n)} of {@code entity}, in batches of 5,000. */
  static void populate(
      OnlineFeatureStore store,
      String entity,
      int views,
      int n,
      Instant eventTime,
      ProgressListener progress) {
    SplittableRandom rnd = new SplittableRandom(entity.hashCode());
    int batch = 5_000;
    progress.start("populate " + entity, (long) n * views);
    for (int v = 0; v < views; v++) {
      String view = entity + "_v" + v;
      for (int from = 0; from < n; from += batch) {
        int to = Math.min(n, from + batch);
        List<FeatureRow> rows = new ArrayList<>(to - from);
        for (long id = from; id < to; id++) {
          rows.add(new FeatureRow(List.of(id), eventTime, eventTime, values(rnd, id)));
        }
        store.write(view, rows);
        progress.advance(to - from);
      }
    }
    progress.finish();
  }

  /** {@code count} pre-built requests of {@code rows} random distinct-ish ids in {@code [0, n)}. */
  static List<List<Map<String, Object>>> requests(
      String keyColumn, int n, int rows, int count, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    List<List<Map<String, Object>>> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      List<Map<String, Object>> request = new ArrayList<>(rows);
      for (int r = 0; r < rows; r++) {
        request.add(Map.of(keyColumn, (long) rnd.nextInt(n)));
      }
      out.add(List.copyOf(request));
    }
    return out;
  }
}
