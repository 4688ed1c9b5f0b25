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
    Map<String, Object> batch) {

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
      @JsonProperty("batch") Map<String, Object> batch) {
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
        batch);
  }

  /**
   * Where the items to rank come from.
   *
   * @param entity the candidate entity (its single int64 key column is the item id)
   * @param source {@code precomputed}, {@code ann} or {@code all-items}
   * @param snapshot precomputed: the KV snapshot holding each entity's list ({@link RankedList})
   * @param index ann / all-items: the vector index directory, relative to the project
   * @param query ann / all-items: the query vector: an entity feature {@code view:feature} or
   *     {@code context.<key>}
   * @param limit how many candidates at most
   * @param exclude ann, and the candidate job: an int64_list feature of the entity (e.g. the items
   *     it already interacted with) whose ids are skipped during the search, so {@code limit} other
   *     items come back; null for none
   */
  public record Candidates(
      String entity,
      String source,
      String snapshot,
      String index,
      String query,
      int limit,
      String exclude) {
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
          if (index == null || query == null) {
            throw new IllegalArgumentException(
                "candidates: source "
                    + source
                    + " needs 'index' (a vector index directory) and 'query' (view:feature or"
                    + " context.<key>)");
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
    }

    @JsonCreator
    static Candidates of(
        @JsonProperty("entity") String entity,
        @JsonProperty("source") String source,
        @JsonProperty("snapshot") String snapshot,
        @JsonProperty("index") String index,
        @JsonProperty("query") String query,
        @JsonProperty("limit") Integer limit,
        @JsonProperty("exclude") String exclude) {
      return new Candidates(
          entity, source, snapshot, index, query, limit == null ? DEFAULT_LIMIT : limit, exclude);
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
