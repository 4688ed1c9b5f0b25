package dev.scoreline.core.surface;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.scoreline.core.config.Durations;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A surface as written in {@code surfaces/<name>.yaml}: what is predicted, for which entity, from
 * which candidates, features and model, under which rules, deadline and fallback. {@link
 * SurfaceCompiler} checks it against the feature registry and compiles it to a {@link Surface}. The
 * format is documented in {@code docs/recommendations.md}.
 */
public record SurfaceSpec(
    String name,
    String description,
    String entity,
    Mode mode,
    Candidates candidates,
    Features features,
    ModelRef model,
    List<Input> inputs,
    List<Map<String, Object>> rules,
    int size,
    Duration deadline,
    Fallback fallback,
    Map<String, Object> stream,
    Map<String, Object> batch,
    Warmup warmup) {

  /** Default number of results. */
  public static final int DEFAULT_SIZE = 10;

  /** How the surface is served. */
  public enum Mode {
    ONLINE,
    TWO_STAGE,
    BATCH,
    STREAMING;

    static Mode parse(String text) {
      if (text == null) {
        return ONLINE;
      }
      switch (text.trim().toLowerCase(Locale.ROOT)) {
        case "online":
          return ONLINE;
        case "two-stage":
        case "two_stage":
          return TWO_STAGE;
        case "batch":
          return BATCH;
        case "streaming":
          return STREAMING;
        default:
          throw new IllegalArgumentException(
              "mode: unknown value '" + text + "'; use online, two-stage, batch or streaming");
      }
    }

    /** The name used in YAML and JSON ({@code two-stage}). */
    public String label() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }

  public SurfaceSpec {
    if (name == null || name.isBlank() || !name.matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
      throw new IllegalArgumentException(
          "'name' is missing or not of letters, digits, '-', '_', '.': " + name);
    }
    if (entity == null || entity.isBlank()) {
      throw new IllegalArgumentException("surface '" + name + "' needs an 'entity'");
    }
    if (model == null) {
      throw new IllegalArgumentException("surface '" + name + "' needs a 'model'");
    }
    features = features == null ? new Features(List.of(), List.of()) : features;
    inputs = inputs == null ? List.of() : List.copyOf(inputs);
    if (inputs.isEmpty()) {
      throw new IllegalArgumentException(
          "surface '" + name + "' needs 'inputs': the model's input tensors and their columns");
    }
    rules = rules == null ? List.of() : List.copyOf(rules);
    if (size <= 0) {
      throw new IllegalArgumentException("size: must be at least 1, got " + size);
    }
    fallback = fallback == null ? new Fallback(null, true) : fallback;
    stream = stream == null ? Map.of() : stream;
    batch = batch == null ? Map.of() : batch;
    warmup = warmup == null ? Warmup.DEFAULT : warmup;
  }

  @JsonCreator
  static SurfaceSpec of(
      @JsonProperty("name") String name,
      @JsonProperty("description") String description,
      @JsonProperty("entity") String entity,
      @JsonProperty("mode") String mode,
      @JsonProperty("candidates") Candidates candidates,
      @JsonProperty("features") Features features,
      @JsonProperty("model") ModelRef model,
      @JsonProperty("inputs") List<Input> inputs,
      @JsonProperty("rules") List<Map<String, Object>> rules,
      @JsonProperty("size") Integer size,
      @JsonProperty("deadline") String deadline,
      @JsonProperty("fallback") Fallback fallback,
      @JsonProperty("stream") Map<String, Object> stream,
      @JsonProperty("batch") Map<String, Object> batch,
      @JsonProperty("warmup") Warmup warmup) {
    return new SurfaceSpec(
        name,
        description,
        entity,
        Mode.parse(mode),
        candidates,
        features,
        model,
        inputs,
        rules,
        size == null ? DEFAULT_SIZE : size,
        Durations.parse("deadline", deadline),
        fallback,
        stream,
        batch,
        warmup);
  }

  /**
   * Where the items to rank come from.
   *
   * @param entity the candidate entity (its single int64 key column is the item id)
   * @param source {@code precomputed}, {@code ann} or {@code all-items}
   * @param snapshot precomputed: the KV snapshot holding each entity's list ({@link RankedList})
   * @param index ann / all-items: the vector index directory, relative to the project
   * @param query ann / all-items: the query vector: an entity feature {@code view:feature} or
   *     {@code context.<key>}; null when {@code queryModel} computes it
   * @param limit how many candidates at most
   * @param exclude ann, and the candidate job: an int64_list feature of the entity (e.g. the items
   *     it already interacted with) whose ids are skipped during the search, so {@code limit} other
   *     items come back; null for none
   * @param queryModel ann / all-items: a model (a user tower) that computes the query vector at
   *     request time from the entity's features and the request's context ({@code query: {model:
   *     ..., inputs: {...}, output: ...}}); null when {@code query} names the vector
   */
  public record Candidates(
      String entity,
      String source,
      String snapshot,
      String index,
      String query,
      int limit,
      String exclude,
      QueryModel queryModel) {
    public static final int DEFAULT_LIMIT = 200;

    public Candidates {
      if (entity == null || entity.isBlank()) {
        throw new IllegalArgumentException("candidates: 'entity' is missing (e.g. item)");
      }
      source = source == null ? "precomputed" : source.trim().toLowerCase(Locale.ROOT);
      switch (source) {
        case "precomputed":
          if (snapshot == null) {
            throw new IllegalArgumentException(
                "candidates: source precomputed needs 'snapshot' (the KV snapshot name the"
                    + " candidate job publishes)");
          }
          break;
        case "ann":
        case "all-items":
          if (index == null || (query == null && queryModel == null)) {
            throw new IllegalArgumentException(
                "candidates: source "
                    + source
                    + " needs 'index' (a vector index directory) and 'query' (view:feature,"
                    + " context.<key> or {model: ..., inputs: {...}, output: ...})");
          }
          break;
        default:
          throw new IllegalArgumentException(
              "candidates.source: unknown value '"
                  + source
                  + "'; use precomputed, ann or all-items");
      }
      if (limit <= 0) {
        throw new IllegalArgumentException("candidates.limit: must be at least 1, got " + limit);
      }
      if (query != null && queryModel != null) {
        throw new IllegalArgumentException(
            "candidates.query: give either a vector (view:feature or context.<key>) or a model,"
                + " not both");
      }
      if (queryModel != null && source.equals("precomputed")) {
        throw new IllegalArgumentException(
            "candidates.query: a query model runs at request time, so it needs source ann or"
                + " all-items; the candidate job of source precomputed reads the query vectors"
                + " from the offline store (write query: view:feature)");
      }
    }

    /** A surface's candidates without a query model (the form before query models existed). */
    public Candidates(
        String entity,
        String source,
        String snapshot,
        String index,
        String query,
        int limit,
        String exclude) {
      this(entity, source, snapshot, index, query, limit, exclude, null);
    }

    @JsonCreator
    static Candidates of(
        @JsonProperty("entity") String entity,
        @JsonProperty("source") String source,
        @JsonProperty("snapshot") String snapshot,
        @JsonProperty("index") String index,
        @JsonProperty("query") Object query,
        @JsonProperty("limit") Integer limit,
        @JsonProperty("exclude") String exclude) {
      String vector = null;
      QueryModel model = null;
      if (query instanceof Map<?, ?> m) {
        model = QueryModel.parse(m);
      } else if (query instanceof String q) {
        vector = q;
      } else if (query != null) {
        throw new IllegalArgumentException(
            "candidates.query: write view:feature, context.<key> or {model: ..., inputs: {...},"
                + " output: ...}; got "
                + query);
      }
      return new Candidates(
          entity,
          source,
          snapshot,
          index,
          vector,
          limit == null ? DEFAULT_LIMIT : limit,
          exclude,
          model);
    }
  }

  /**
   * A model that computes the ANN query vector at request time (a user tower), called in process
   * with one row: each model input is fed from a value of the request's entity ({@code
   * view:feature}) or context ({@code context.<key>}); its output (shape {@code [1, d]} or {@code
   * [d]}) is the query.
   *
   * @param model the model's name in the repository
   * @param version a version or label; null for the model's default routing
   * @param inputs model input name to the value feeding it, in the model's input order
   * @param output the output holding the vector; null for the model's first output
   */
  public record QueryModel(
      String model, String version, Map<String, String> inputs, String output) {
    static final List<String> KEYS = List.of("inputs", "model", "output", "version");

    public QueryModel {
      if (model == null || model.isBlank()) {
        throw new IllegalArgumentException(
            "candidates.query.model: missing; name the model that computes the query vector"
                + " (e.g. model: user-tower)");
      }
      if (inputs == null || inputs.isEmpty()) {
        throw new IllegalArgumentException(
            "candidates.query.inputs: missing; map each input of model '"
                + model
                + "' to a value (e.g. inputs: {features: user_profile:embedding})");
      }
      inputs = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(inputs));
    }

    static QueryModel parse(Map<?, ?> m) {
      for (Object k : m.keySet()) {
        if (!KEYS.contains(String.valueOf(k))) {
          String near = dev.scoreline.core.config.ConfigLoader.nearest(String.valueOf(k), KEYS);
          throw new IllegalArgumentException(
              "candidates.query: unknown key '"
                  + k
                  + "'"
                  + (near == null ? "" : "; did you mean '" + near + "'?")
                  + " Valid keys: "
                  + String.join(", ", KEYS));
        }
      }
      Object in = m.get("inputs");
      java.util.LinkedHashMap<String, String> inputs = new java.util.LinkedHashMap<>();
      if (in instanceof Map<?, ?> im) {
        for (Map.Entry<?, ?> e : im.entrySet()) {
          if (!(e.getValue() instanceof String v)) {
            throw new IllegalArgumentException(
                "candidates.query.inputs."
                    + e.getKey()
                    + ": write a value name (view:feature or context.<key>), got "
                    + e.getValue());
          }
          inputs.put(String.valueOf(e.getKey()), v);
        }
      } else if (in != null) {
        throw new IllegalArgumentException(
            "candidates.query.inputs: write a map of model input name to value (e.g. {features:"
                + " user_profile:embedding}), got "
                + in);
      }
      return new QueryModel(
          m.get("model") == null ? null : String.valueOf(m.get("model")),
          m.get("version") == null ? null : String.valueOf(m.get("version")),
          inputs,
          m.get("output") == null ? null : String.valueOf(m.get("output")));
    }
  }

  /**
   * Warm-up before the server reports ready: {@code requests} real pipeline calls (ranked path, no
   * deadline, no fallback, not counted as user traffic) over {@code entities}, or over entity keys
   * the server samples (from the offline store) when none are given.
   *
   * @param requests pipeline calls to run; 0 disables warm-up
   * @param entities entity keys: a map of key columns, or one value for a single-column key; empty
   *     means sampled
   * @param context the request context of every warm-up call (for queries read from the context)
   * @param maxDuration the longest the surface's warm-up may take; it stops there
   */
  public record Warmup(
      int requests, List<Object> entities, Map<String, Object> context, Duration maxDuration) {
    public static final int DEFAULT_REQUESTS = 300;
    public static final int MAX_REQUESTS = 100_000;
    public static final Duration DEFAULT_MAX_DURATION = Duration.ofSeconds(30);
    public static final Warmup DEFAULT =
        new Warmup(DEFAULT_REQUESTS, List.of(), Map.of(), DEFAULT_MAX_DURATION);

    public Warmup {
      if (requests < 0 || requests > MAX_REQUESTS) {
        throw new IllegalArgumentException(
            "warmup.requests: must be between 0 (no warm-up) and "
                + MAX_REQUESTS
                + ", got "
                + requests);
      }
      entities = entities == null ? List.of() : List.copyOf(entities);
      context = context == null ? Map.of() : java.util.Collections.unmodifiableMap(context);
      maxDuration = maxDuration == null ? DEFAULT_MAX_DURATION : maxDuration;
      if (maxDuration.isZero() || maxDuration.isNegative()) {
        throw new IllegalArgumentException(
            "warmup.max-duration: must be positive (e.g. 30s), got " + maxDuration);
      }
    }

    @JsonCreator
    static Warmup of(
        @JsonProperty("requests") Integer requests,
        @JsonProperty("entities") List<Object> entities,
        @JsonProperty("context") Map<String, Object> context,
        @JsonProperty("max-duration") String maxDuration) {
      return new Warmup(
          requests == null ? DEFAULT_REQUESTS : requests,
          entities,
          context,
          Durations.parse("warmup.max-duration", maxDuration));
    }
  }

  /**
   * Features read for the request's entity and for every candidate: feature services or {@code
   * view:feature} references. Features used by inputs and rules are added automatically.
   */
  public record Features(List<String> entity, List<String> candidate) {
    public Features {
      entity = entity == null ? List.of() : List.copyOf(entity);
      candidate = candidate == null ? List.of() : List.copyOf(candidate);
    }
  }

  /**
   * The ranking model.
   *
   * @param name model name in the repository
   * @param version a version number or label; null means the model's default routing
   * @param output the output tensor holding one score per row (first column); null means the
   *     model's first output
   */
  public record ModelRef(String name, String version, String output) {
    public ModelRef {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("model: 'name' is missing");
      }
    }
  }

  /**
   * One model input tensor, FP32 {@code [rows, columns]}, built column by column.
   *
   * @param name the model input's name
   * @param columns column transforms, in order (see {@code docs/recommendations.md})
   */
  public record Input(String name, List<Map<String, Object>> columns) {
    public Input {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("inputs: 'name' is missing");
      }
      if (columns == null || columns.isEmpty()) {
        throw new IllegalArgumentException("inputs." + name + ": 'columns' is missing");
      }
      columns = List.copyOf(columns);
    }
  }

  /**
   * What to answer when the ranked path fails or would miss the deadline.
   *
   * @param popular the KV snapshot of the global popularity list (key {@code global})
   * @param precomputed whether to answer from the entity's precomputed candidate list first
   */
  public record Fallback(Popular popular, boolean precomputed) {
    @JsonCreator
    static Fallback of(
        @JsonProperty("popular") Popular popular,
        @JsonProperty("precomputed") Boolean precomputed) {
      return new Fallback(popular, precomputed == null || precomputed);
    }
  }

  /** A popularity list in a KV snapshot. */
  public record Popular(String snapshot, String key) {
    public static final String DEFAULT_KEY = "global";

    public Popular {
      if (snapshot == null) {
        throw new IllegalArgumentException("fallback.popular: 'snapshot' is missing");
      }
      key = key == null ? DEFAULT_KEY : key;
    }
  }
}
