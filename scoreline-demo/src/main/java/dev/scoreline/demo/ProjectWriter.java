package dev.scoreline.demo;

import dev.scoreline.core.progress.ProgressListener;
import java.io.BufferedOutputStream;
import java.io.BufferedWriter;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes the demo project: {@code scoreline.yaml}, {@code features/shop.yaml} and its CSV sources,
 * the interactions and their split, the ranker ({@code models/ranker}), the {@code home-feed}
 * surface, the embeddings as {@code .fvecs} and a README with the evaluation.
 *
 * <p>Feature sources are CSV that DuckDB reads directly: list features are written as quoted {@code
 * "[v1,v2,...]"} text, which the offline store casts to lists; floats are written with {@link
 * Float#toString} (shortest text that reads back as the same float), event times as epoch
 * milliseconds.
 */
final class ProjectWriter {
  static final String USER_PROFILE = "data/user_profile.csv";
  static final String ITEM_PROFILE = "data/item_profile.csv";
  static final String USER_RECENT = "data/user_recent.csv";
  static final String INTERACTIONS = "data/interactions.csv";
  static final String RANK = "data/rank.csv";
  static final String TEST = "data/test.csv";
  static final String MODEL = "models/ranker/1/model.onnx";
  static final String MODEL_CONFIG = "models/ranker/config.yaml";
  static final String SURFACE = "surfaces/home-feed.yaml";
  static final String DAILY_SURFACE = "surfaces/home-feed-daily.yaml";

  /**
   * The same surface in batch mode: {@code scoreline batch home-feed-daily} ranks every user's
   * candidates with the same pipeline and publishes the top 20 as a snapshot; {@code GET
   * /v1/surfaces/home-feed-daily/<user>} answers from it (an email digest, a daily widget).
   */
  static String dailySurfaceYaml(double priceMean, double priceStd) {
    String online = surfaceYaml(priceMean, priceStd);
    String daily =
        online
            .replace("name: home-feed\n", "name: home-feed-daily\n")
            .replace("mode: two-stage\n", "mode: batch\n")
            .replace("size: 10\n", "size: 20\nbatch:\n  entities: user_profile\n");
    return "# home-feed in batch mode: the same definition, run for every user by `scoreline batch`\n"
        + daily.substring(daily.indexOf("name: home-feed-daily"));
  }

  static final int RECENT = 50;

  private final Path dir;
  private final RankerFeatures features;

  ProjectWriter(Path dir, RankerFeatures features) {
    this.dir = dir;
    this.features = features;
  }

  /** Writes every file; {@code model} is the ONNX bytes. */
  void write(byte[] model, Evaluation.Report evaluation, ProgressListener progress) {
    Shop shop = features.shop;
    progress.start("write project", 3L * shop.users + shop.items + shop.interactions());
    text("scoreline.yaml", scorelineYaml());
    text(".gitignore", ".scoreline/\nindexes/\n");
    text("features/shop.yaml", featuresYaml());
    userProfile(progress);
    itemProfile(progress);
    userRecent(progress);
    interactions(progress);
    fvecs("data/user_embeddings.fvecs", features.userEmbedding, shop.users);
    fvecs("data/item_embeddings.fvecs", features.itemEmbedding, shop.items);
    ids("data/user_ids.txt", shop.users);
    ids("data/item_ids.txt", shop.items);
    bytes(MODEL, model);
    text(MODEL_CONFIG, modelConfig());
    text(SURFACE, surfaceYaml(features.priceMean, features.priceStd));
    text(DAILY_SURFACE, dailySurfaceYaml(features.priceMean, features.priceStd));
    text("README.md", readme(evaluation));
    progress.finish();
  }

  static String scorelineYaml() {
    return """
        # The Scoreline quickstart demo (written by `scoreline quickstart`).
        online-store:
          type: rocksdb
          path: .scoreline/online
        offline-store:
          type: duckdb
          threads: 2
          memory-limit: 1GB
        """;
  }

  static String featuresYaml() {
    return """
        # A synthetic shop: users, items and what the home-feed ranker reads about them.
        # Written by `scoreline quickstart`; see docs/quickstart-demo.md.
        entities:
          - name: user
            keys: [{name: user_id, type: int64}]
          - name: item
            keys: [{name: item_id, type: int64}]

        feature-views:
          - name: user_profile
            entity: user
            source: {path: data/user_profile.csv}
            timestamp-column: event_ts
            features:
              - {name: embedding, type: fp32_list}          # ALS user factors (32)
              - {name: activity, type: int64}               # train interactions
              - {name: category_affinity, type: fp32_list}  # share of them per category (20)
          - name: item_profile
            entity: item
            source: {path: data/item_profile.csv}
            timestamp-column: event_ts
            features:
              - {name: embedding, type: fp32_list}          # ALS item factors (32)
              - {name: category, type: int64}               # 0..19
              - {name: price, type: fp64}
              - {name: popularity, type: int64}             # train interactions
              - {name: in_stock, type: bool}
          - name: user_recent
            entity: user
            source: {path: data/user_recent.csv}
            timestamp-column: event_ts
            features:
              - {name: recent_items, type: int64_list}      # last 50 items, newest first

        feature-services:
          - name: home-feed-user
            features:
              - user_profile:embedding
              - user_profile:activity
              - user_profile:category_affinity
              - user_recent:recent_items
          - name: home-feed-item
            features: [item_profile:*]
        """;
  }

  static String modelConfig() {
    return """
        # The home-feed ranker: an MLP 90 -> 64 -> 32 -> 1 trained by `scoreline quickstart`.
        # One request scores every candidate of a user (200 rows).
        platform: onnx
        max-batch-size: 1024
        inputs:
          - {name: features, datatype: FP32, shape: [-1, 90]}
        outputs:
          - {name: score, datatype: FP32, shape: [-1, 1]}
        runtime: {intra-op-threads: 1, inter-op-threads: 1}
        warmup: {requests: 1, batch-size: 200}
        """;
  }

  static String surfaceYaml(double priceMean, double priceStd) {
    return """
        # Two-stage home feed: each user's top-200 items by ANN over the ALS embeddings (precomputed
        # by `scoreline candidates home-feed`), ranked online by the MLP with the user's and the
        # items' features and the request context, then rules.
        name: home-feed
        entity: user
        mode: two-stage
        candidates:
          entity: item
          source: precomputed          # precomputed | ann | all-items
          snapshot: home-feed-candidates
          index: indexes/items         # the jvector index the candidate job searches
          query: user_profile:embedding
          exclude: user_recent:recent_items  # skip what the user already interacted with
          limit: 200
        features:
          entity: [home-feed-user]
          candidate: [home-feed-item]
        model:
          name: ranker
          output: score
        inputs:
          - name: features
            columns:                   # 90 columns, in the order the ranker was trained with
              - dot: [user_profile:embedding, item_profile:embedding]
              - log1p: item_profile:popularity
              - standardize: item_profile:price
                mean: %s
                std: %s
              - one-hot: item_profile:category
                size: 20
              - pick: user_profile:category_affinity
                index: item_profile:category
              - log1p: user_profile:activity
              - equals: [item_profile:category, context.category]
              - value: user_profile:embedding
                size: 32
              - value: item_profile:embedding
                size: 32
        rules:
          - filter-seen: {feature: user_recent:recent_items, context: seen}
          - filter: {feature: item_profile:in_stock, equals: true}
          - diversity: {feature: item_profile:category, max-per-value: 4}
        size: 10
        deadline: 50ms
        fallback:
          popular: {snapshot: popular}
        """
        .formatted(Double.toString(priceMean), Double.toString(priceStd));
  }

  private String readme(Evaluation.Report evaluation) {
    Shop shop = features.shop;
    return """
        # Scoreline quickstart demo

        A synthetic shop (%,d users, %,d items, %,d interactions), item and user embeddings
        learned from the interactions (implicit ALS, 32 dimensions) and a ranker (MLP) trained on
        them, served as the two-stage surface `home-feed`. How it is made: `docs/quickstart-demo.md`
        in the Scoreline repository.

        | path | what |
        |---|---|
        | `scoreline.yaml` | stores: RocksDB online store under `.scoreline/online`, DuckDB offline |
        | `features/shop.yaml` | entities `user`, `item`; views `user_profile`, `item_profile`, `user_recent` |
        | `data/*_profile.csv`, `data/user_recent.csv` | the feature views' sources |
        | `data/interactions.csv` | every interaction `user_id,item_id,ts` (epoch ms) |
        | `data/rank.csv`, `data/test.csv` | each user's second-to-last (ranker training) and last (held out) interaction; the rest is train |
        | `data/*_embeddings.fvecs`, `data/*_ids.txt` | the embeddings (fvecs) and their ids, line by line |
        | `models/ranker/` | the ranker (ONNX) and its config |
        | `surfaces/home-feed.yaml` | candidates, features, model inputs, rules, fallback |

        ## Offline evaluation (held-out last interaction, %,d users)

        %s
        """
        .formatted(
            shop.users,
            shop.items,
            shop.interactions(),
            evaluation.rows().isEmpty() ? 0 : evaluation.rows().get(0).users(),
            evaluation.table());
  }

  private void userProfile(ProgressListener progress) {
    Shop shop = features.shop;
    long ts = shop.end.toEpochMilli();
    try (Writer w = writer(USER_PROFILE)) {
      w.write("user_id,embedding,activity,category_affinity,event_ts\n");
      StringBuilder sb = new StringBuilder(1024);
      for (int u = 0; u < shop.users; u++) {
        sb.setLength(0);
        sb.append(Shop.userId(u)).append(',');
        floats(sb, features.userEmbedding, u * RankerFeatures.DIM, RankerFeatures.DIM);
        sb.append(',').append(features.userActivity[u]).append(',');
        floats(sb, features.userAffinity, u * Shop.CATEGORIES, Shop.CATEGORIES);
        sb.append(',').append(ts).append('\n');
        w.append(sb);
        if ((u & 1023) == 1023) {
          progress.advance(1024);
        }
      }
      progress.advance(shop.users & 1023);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void itemProfile(ProgressListener progress) {
    Shop shop = features.shop;
    long ts = shop.end.toEpochMilli();
    try (Writer w = writer(ITEM_PROFILE)) {
      w.write("item_id,embedding,category,price,popularity,in_stock,event_ts\n");
      StringBuilder sb = new StringBuilder(1024);
      for (int i = 0; i < shop.items; i++) {
        sb.setLength(0);
        sb.append(Shop.itemId(i)).append(',');
        floats(sb, features.itemEmbedding, i * RankerFeatures.DIM, RankerFeatures.DIM);
        sb.append(',').append(shop.itemCategory[i]);
        sb.append(',').append(Double.toString(shop.itemPrice[i]));
        sb.append(',').append(features.itemPopularity[i]);
        sb.append(',').append(shop.itemInStock[i]);
        sb.append(',').append(ts).append('\n');
        w.append(sb);
      }
      progress.advance(shop.items);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Each user's last {@value #RECENT} train and rank items, newest first, at the rank time. */
  private void userRecent(ProgressListener progress) {
    Shop shop = features.shop;
    try (Writer w = writer(USER_RECENT)) {
      w.write("user_id,recent_items,event_ts\n");
      StringBuilder sb = new StringBuilder(1024);
      for (int u = 0; u < shop.users; u++) {
        sb.setLength(0);
        sb.append(Shop.userId(u)).append(",\"[");
        int last = shop.rankPosition(u);
        int first = Math.max(shop.trainStart(u), last - RECENT + 1);
        for (int p = last; p >= first; p--) {
          if (p != last) {
            sb.append(',');
          }
          sb.append(Shop.itemId(shop.interactionItem[p]));
        }
        sb.append("]\",").append(shop.interactionTs[last]).append('\n');
        w.append(sb);
      }
      progress.advance(shop.users);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void interactions(ProgressListener progress) {
    Shop shop = features.shop;
    try (Writer all = writer(INTERACTIONS);
        Writer rank = writer(RANK);
        Writer test = writer(TEST)) {
      String header = "user_id,item_id,ts\n";
      all.write(header);
      rank.write(header);
      test.write(header);
      StringBuilder sb = new StringBuilder(64);
      for (int u = 0; u < shop.users; u++) {
        for (int p = shop.userStart[u]; p < shop.userStart[u + 1]; p++) {
          sb.setLength(0);
          sb.append(Shop.userId(u))
              .append(',')
              .append(Shop.itemId(shop.interactionItem[p]))
              .append(',')
              .append(shop.interactionTs[p])
              .append('\n');
          all.append(sb);
          if (p == shop.rankPosition(u)) {
            rank.append(sb);
          } else if (p == shop.testPosition(u)) {
            test.append(sb);
          }
        }
        progress.advance(shop.userStart[u + 1] - shop.userStart[u]);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void floats(StringBuilder sb, float[] v, int offset, int n) {
    sb.append("\"[");
    for (int d = 0; d < n; d++) {
      if (d > 0) {
        sb.append(',');
      }
      sb.append(Float.toString(v[offset + d]));
    }
    sb.append("]\"");
  }

  /** {@code n} vectors of {@link RankerFeatures#DIM}: int32 dimension then the floats, LE. */
  private void fvecs(String path, float[] rows, int n) {
    int f = RankerFeatures.DIM;
    ByteBuffer b = ByteBuffer.allocate(4 + 4 * f).order(ByteOrder.LITTLE_ENDIAN);
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file(path)), 1 << 16)) {
      for (int r = 0; r < n; r++) {
        b.clear();
        b.putInt(f);
        for (int d = 0; d < f; d++) {
          b.putFloat(rows[r * f + d]);
        }
        out.write(b.array());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void ids(String path, int n) {
    try (Writer w = writer(path)) {
      for (int i = 0; i < n; i++) {
        w.write(Long.toString(i + 1L));
        w.write('\n');
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void text(String path, String content) {
    bytes(path, content.getBytes(StandardCharsets.UTF_8));
  }

  private void bytes(String path, byte[] content) {
    try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(file(path)))) {
      out.write(content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private Writer writer(String path) throws IOException {
    return new BufferedWriter(
        new java.io.OutputStreamWriter(Files.newOutputStream(file(path)), StandardCharsets.UTF_8),
        1 << 16);
  }

  private Path file(String path) {
    Path f = dir.resolve(path);
    try {
      Files.createDirectories(f.getParent());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return f;
  }
}
