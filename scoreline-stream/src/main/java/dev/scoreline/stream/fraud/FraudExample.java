package dev.scoreline.stream.fraud;

import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.online.OnlineFeatureStore;
import dev.scoreline.core.kv.KvStore;
import dev.scoreline.core.model.InferenceResponse;
import dev.scoreline.core.surface.SnapshotLists;
import dev.scoreline.core.surface.SurfaceEngine;
import dev.scoreline.core.surface.Surfaces;
import dev.scoreline.core.tensor.Tensor;
import dev.scoreline.stream.EventScorer;
import dev.scoreline.stream.StreamConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The fraud-check example project ({@code examples/fraud}): its feature and surface definitions,
 * and the training of its model on {@link CardTransactions}.
 *
 * <p>The training set is built by running the synthetic transactions, in time order, through the
 * streaming surface's own per-event steps ({@link EventScorer}: the same feature updates and the
 * same column transforms), with a scorer that records each model input instead of running a model.
 * So the model is trained on exactly the inputs that streaming feeds it.
 */
public final class FraudExample {
  /** The model's input columns, for reports. */
  public static final List<String> COLUMNS =
      List.of(
          "log1p(amount)",
          "log1p(avg_amount)",
          "log1p(txn_count_10m)",
          "log1p(amount_sum_10m)",
          "log1p(txn_count_24h)",
          "distinct_devices_24h",
          "distinct_countries_24h",
          "log1p(seconds_since_previous)",
          "log1p(max_amount_24h)",
          "home_country");

  public static final String FEATURES_YAML =
      String.join(
          "\n",
          "# Cards, their profile (batch: materialized from data/cards.csv) and their velocity",
          "# features (streaming: written by the fraud-check surface from each transaction).",
          "entities:",
          "  - name: card",
          "    keys: [{name: card_id, type: int64}]",
          "feature-views:",
          "  - name: card_profile",
          "    entity: card",
          "    source: {path: data/cards.csv}",
          "    features:",
          "      - {name: home_country, type: string}",
          "      - {name: avg_amount, type: fp64}",
          "  - name: card_velocity",
          "    entity: card",
          "    source: {path: data/card_velocity.csv}   # not materialized: the stream writes it",
          "    features:",
          "      - {name: txn_count_10m, type: int64}",
          "      - {name: amount_sum_10m, type: fp64}",
          "      - {name: txn_count_24h, type: int64}",
          "      - {name: distinct_devices_24h, type: int64}",
          "      - {name: distinct_countries_24h, type: int64}",
          "      - {name: seconds_since_previous, type: fp64}",
          "      - {name: max_amount_24h, type: fp64}",
          "      - {name: recent_merchants, type: string_list}",
          "");

  /** The surface, with {@code %SOURCE%} for the source section. */
  private static final String SURFACE_TEMPLATE =
      String.join(
          "\n",
          "# Scores every card transaction seconds after it happens. Switch the source to Kafka by",
          "# replacing the source section (see docs/streaming.md).",
          "name: fraud-check",
          "description: probability that a card transaction is fraudulent",
          "entity: card",
          "mode: streaming",
          "model: {name: fraud, output: score}",
          "inputs:",
          "  - name: features",
          "    columns:",
          "      - log1p: context.amount",
          "      - log1p: card_profile:avg_amount",
          "      - log1p: card_velocity:txn_count_10m",
          "      - log1p: card_velocity:amount_sum_10m",
          "      - log1p: card_velocity:txn_count_24h",
          "      - value: card_velocity:distinct_devices_24h",
          "      - value: card_velocity:distinct_countries_24h",
          "      - log1p: card_velocity:seconds_since_previous",
          "        default: 11.37            # log1p(one day) when the card has no earlier transaction",
          "      - log1p: card_velocity:max_amount_24h",
          "      - equals: [context.country, card_profile:home_country]",
          "      - one-hot: context.merchant_category",
          "        vocabulary: [grocery, restaurant, fuel, online, electronics, travel, jewelry,"
              + " gambling]",
          "      - one-hot: context.channel",
          "        vocabulary: [chip, contactless, online]",
          "stream:",
          "%SOURCE%",
          "  key: {card_id: card_id}",
          "  event-id: txn_id",
          "  event-time: ts",
          "  updates:",
          "    - view: card_velocity",
          "      features:",
          "        txn_count_10m: {count: {window: 10m}}",
          "        amount_sum_10m: {sum: {field: amount, window: 10m}}",
          "        txn_count_24h: {count: {window: 24h}}",
          "        distinct_devices_24h: {distinct: {field: device_id, window: 24h}}",
          "        distinct_countries_24h: {distinct: {field: country, window: 24h}}",
          "        seconds_since_previous: {seconds-since-previous: {}}",
          "        max_amount_24h: {max: {field: amount, window: 24h}}",
          "        recent_merchants: {last-n: {field: merchant_id, n: 5}}",
          "  rules:",
          "    - alert: {name: fraud-suspected, score-above: 0.9}",
          "  sinks:",
          "    kv: {}                       # latest result per card",
          "    log: {}                      # every result, .scoreline/stream/surfaces/fraud-check/results",
          "%SINKS%",
          "  lanes: 2",
          "");

  public static final String EMBEDDED_SOURCE = "  source: {type: embedded, stream: transactions}";

  public static final String MODEL_CONFIG =
      String.join(
          "\n",
          "# The fraud model: an MLP trained on synthetic card transactions (see training.json).",
          "platform: onnx",
          "max-batch-size: 256",
          "inputs:",
          "  - {name: features, datatype: FP32, shape: [-1, 21]}",
          "outputs:",
          "  - {name: score, datatype: FP32, shape: [-1, 1]}",
          "runtime:",
          "  intra-op-threads: 1",
          "  inter-op-threads: 1",
          "");

  private FraudExample() {}

  /** The surface YAML with the given source section and extra sink lines. */
  public static String surfaceYaml(String sourceSection, String extraSinks) {
    return SURFACE_TEMPLATE
        .replace("%SOURCE%", sourceSection)
        .replace("%SINKS%\n", extraSinks == null || extraSinks.isEmpty() ? "" : extraSinks + "\n");
  }

  /**
   * Writes the definitions of the example into {@code dir}: features, the surface (embedded source;
   * kept when the file exists, so a switch to Kafka survives), the model config and {@code
   * data/cards.csv}.
   */
  public static void writeProject(Path dir, CardTransactions data, Instant asOf) {
    try {
      Files.createDirectories(dir.resolve("features"));
      Files.createDirectories(dir.resolve("surfaces"));
      Files.createDirectories(dir.resolve("models/fraud"));
      Files.createDirectories(dir.resolve("data"));
      Files.writeString(dir.resolve("features/fraud.yaml"), FEATURES_YAML);
      Path surface = dir.resolve("surfaces/fraud-check.yaml");
      if (!Files.exists(surface)) {
        Files.writeString(surface, surfaceYaml(EMBEDDED_SOURCE, ""));
      }
      Files.writeString(dir.resolve("models/fraud/config.yaml"), MODEL_CONFIG);
      Files.writeString(dir.resolve("data/cards.csv"), data.cardsCsv(asOf));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Pushes the card profiles to the online store (what {@code scoreline materialize} does). */
  public static void pushCards(OnlineFeatureStore store, CardTransactions data, Instant asOf) {
    List<Map<String, Object>> rows = new ArrayList<>();
    for (CardTransactions.Card c : data.cards()) {
      rows.add(
          Map.of(
              "card_id",
              c.id(),
              "home_country",
              c.homeCountry(),
              "avg_amount",
              c.avgAmount(),
              "event_timestamp",
              asOf.toString()));
      if (rows.size() == 1000) {
        store.pushRows("card_profile", rows);
        rows.clear();
      }
    }
    if (!rows.isEmpty()) {
      store.pushRows("card_profile", rows);
    }
  }

  /** Model inputs and labels. */
  public record TrainingSet(float[][] x, int[] y, List<CardTransactions.Txn> txns) {}

  /**
   * Builds the model inputs of {@code data} through the streaming surface of the project in {@code
   * dir}, on an online store over {@code kv} (which it writes: use an empty one).
   */
  public static TrainingSet inputs(Path dir, KvStore kv, CardTransactions data, Instant cardsAsOf) {
    FeatureRegistry registry = FeatureRegistry.load(dir);
    Surfaces surfaces = Surfaces.load(dir, registry);
    MutableClock clock = new MutableClock();
    clock.now = cardsAsOf;
    OnlineFeatureStore store = new OnlineFeatureStore(kv, registry, clock);
    pushCards(store, data, cardsAsOf);
    List<float[]> captured = new ArrayList<>();
    SurfaceEngine.Scorer capture =
        r -> {
          Tensor in = r.inputs().get(0);
          captured.add(in.toFloatArray());
          return CompletableFuture.completedFuture(
              new InferenceResponse(
                  r.model(),
                  "0",
                  "",
                  Map.of(),
                  List.of(Tensor.ofFloats("score", new long[] {1, 1}, 0f))));
        };
    ExecutorService executor = Executors.newSingleThreadExecutor();
    try {
      SurfaceEngine engine =
          new SurfaceEngine(surfaces, store, new SnapshotLists(kv), capture, null, executor, null);
      StreamConfig config = StreamConfig.compile(surfaces.get("fraud-check"), registry);
      EventScorer scorer = new EventScorer(config, engine, store);
      List<CardTransactions.Txn> txns = data.transactions();
      float[][] x = new float[txns.size()][];
      int[] y = new int[txns.size()];
      for (int i = 0; i < txns.size(); i++) {
        CardTransactions.Txn t = txns.get(i);
        clock.now = Instant.ofEpochSecond(t.micros() / 1_000_000, (t.micros() % 1_000_000) * 1000);
        scorer.process(t.toJson(), t.micros());
        x[i] = captured.get(captured.size() - 1);
        y[i] = t.fraud() ? 1 : 0;
        if (captured.size() > 1024) {
          captured.clear();
        }
      }
      return new TrainingSet(x, y, txns);
    } finally {
      executor.shutdownNow();
    }
  }

  /** What training produced. */
  public record Report(
      int trainRows,
      int trainFraud,
      int testRows,
      int testFraud,
      double testAuc,
      double precisionAt09,
      double recallAt09,
      Mlp model) {
    public String toJson() {
      return String.format(
          Locale.ROOT,
          "{\n  \"model\": \"MLP 21-%d-1, ReLU, sigmoid; Adam on binary cross-entropy\",\n"
              + "  \"train\": {\"rows\": %d, \"fraud\": %d},\n"
              + "  \"test\": {\"rows\": %d, \"fraud\": %d, \"auc\": %.4f,"
              + " \"precision_at_0.9\": %.4f, \"recall_at_0.9\": %.4f}\n}\n",
          model.hidden,
          trainRows,
          trainFraud,
          testRows,
          testFraud,
          testAuc,
          precisionAt09,
          recallAt09);
    }
  }

  /** Trains on one dataset and evaluates on another (different seed: other cards and times). */
  public static Report train(TrainingSet train, TrainingSet test, Mlp.Settings settings) {
    Mlp m = Mlp.train(train.x(), train.y(), settings);
    float[] s = new float[test.x().length];
    int tp = 0;
    int fp = 0;
    int pos = 0;
    for (int i = 0; i < s.length; i++) {
      s[i] = m.predict(test.x()[i]);
      pos += test.y()[i];
      if (s[i] > 0.9f) {
        if (test.y()[i] == 1) {
          tp++;
        } else {
          fp++;
        }
      }
    }
    int trainPos = 0;
    for (int v : train.y()) {
      trainPos += v;
    }
    return new Report(
        train.x().length,
        trainPos,
        test.x().length,
        pos,
        Mlp.auc(s, test.y()),
        tp + fp == 0 ? 0 : (double) tp / (tp + fp),
        pos == 0 ? 0 : (double) tp / pos,
        m);
  }

  /** Labels by transaction id (for checking alerts). */
  public static Map<String, Boolean> labels(CardTransactions data) {
    Map<String, Boolean> m = new HashMap<>();
    for (CardTransactions.Txn t : data.transactions()) {
      m.put(t.id(), t.fraud());
    }
    return m;
  }

  /** A clock set by hand: training replays event time. */
  static final class MutableClock extends Clock {
    volatile Instant now = Instant.EPOCH;

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
