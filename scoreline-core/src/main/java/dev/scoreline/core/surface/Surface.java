package dev.scoreline.core.surface;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.Definitions.Entity;
import dev.scoreline.core.feature.Definitions.FeatureView;
import dev.scoreline.core.feature.FeatureRef;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.ValueType;
import dev.scoreline.core.feature.online.EntityKeys;
import dev.scoreline.core.model.ModelMetadata;
import dev.scoreline.core.model.TensorSpec;
import dev.scoreline.core.tensor.DataType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A compiled surface: the {@link SurfaceSpec} checked against the feature registry, with its
 * operands bound to feature columns, its transforms and rules compiled, and the exact feature lists
 * to read for the entity and the candidates. Immutable and shared by all requests; {@link
 * SurfaceEngine} runs it.
 */
public final class Surface {
  /** Deadline of online and two-stage surfaces that set none. */
  public static final Duration DEFAULT_DEADLINE = Duration.ofMillis(100);

  final SurfaceSpec spec;
  final String origin;
  final Entity entity;
  final Entity candidateEntity;
  final List<FeatureRef> entityFeatures;
  final List<FeatureRef> candidateFeatures;
  final Map<String, Operand> operands;
  final List<CompiledInput> inputs;
  final List<Rule> rules;
  final Duration deadline;

  /** The model's max batch size once {@link #checkModel} saw it; 0 means unbounded. */
  volatile int maxRows;

  record CompiledInput(String name, List<Column> columns, int width) {}

  private Surface(SurfaceSpec spec, String origin, FeatureRegistry registry) {
    this.spec = spec;
    this.origin = origin;
    this.entity = entity(registry, spec.entity(), "entity");
    this.candidateEntity =
        spec.candidates() == null
            ? null
            : entity(registry, spec.candidates().entity(), "candidates.entity");
    if (candidateEntity != null
        && (candidateEntity.keys().size() != 1
            || candidateEntity.keys().get(0).type() != ValueType.INT64)) {
      throw error(
          "candidates.entity",
          "candidate entity '"
              + candidateEntity.name()
              + "' must have one int64 key column (item ids are int64); it has "
              + candidateEntity.keys());
    }
    this.operands = new LinkedHashMap<>();
    List<FeatureRef> ef = new ArrayList<>();
    List<FeatureRef> cf = new ArrayList<>();
    Function<String, Operand> resolver = name -> resolve(registry, name, ef, cf);
    for (String s : spec.features().entity()) {
      for (FeatureRef r : refs(registry, s, "features.entity")) {
        resolver.apply(r.toString());
      }
    }
    for (String s : spec.features().candidate()) {
      for (FeatureRef r : refs(registry, s, "features.candidate")) {
        resolver.apply(r.toString());
      }
    }
    this.inputs = new ArrayList<>();
    for (SurfaceSpec.Input in : spec.inputs()) {
      List<Column> cols = new ArrayList<>();
      int width = 0;
      for (int i = 0; i < in.columns().size(); i++) {
        String field = "inputs." + in.name() + ".columns[" + i + "]";
        Map<String, Object> colSpec = in.columns().get(i);
        Column c = wrap(field, () -> Column.compile(field, colSpec, resolver));
        cols.add(c);
        width += c.width;
      }
      inputs.add(new CompiledInput(in.name(), List.copyOf(cols), width));
    }
    this.rules = new ArrayList<>();
    for (int i = 0; i < spec.rules().size(); i++) {
      String field = "rules[" + i + "]";
      Map<String, Object> r = spec.rules().get(i);
      rules.add(wrap(field, () -> Rule.compile(field, r, resolver)));
    }
    if (spec.candidates() != null && !"precomputed".equals(spec.candidates().source())) {
      Operand q = resolver.apply(spec.candidates().query());
      if (q.type() != null && q.type() != ValueType.FP32_LIST) {
        throw error(
            "candidates.query",
            "'" + q + "' is " + q.type() + "; the query vector must be an fp32_list feature");
      }
      if (q instanceof Operand.CandidateFeature) {
        throw error(
            "candidates.query",
            "'" + q + "' is a candidate feature; the query must be the entity's or the context's");
      }
    }
    if (spec.candidates() != null && spec.candidates().exclude() != null) {
      Operand x = resolver.apply(spec.candidates().exclude());
      if (!(x instanceof Operand.EntityFeature) || x.type() != ValueType.INT64_LIST) {
        throw error(
            "candidates.exclude",
            "'"
                + x
                + "' must be an int64_list feature of entity "
                + entity.name()
                + " (the item ids to skip)");
      }
    }
    this.entityFeatures = List.copyOf(ef);
    this.candidateFeatures = List.copyOf(cf);
    this.deadline =
        spec.deadline() != null
            ? spec.deadline()
            : (spec.mode() == SurfaceSpec.Mode.BATCH ? null : DEFAULT_DEADLINE);
  }

  /**
   * Compiles a surface.
   *
   * @param origin where it was written ({@code surfaces/home-feed.yaml}), for messages
   * @throws ScorelineException USER_ERROR naming the file, the field and the fix
   */
  public static Surface compile(SurfaceSpec spec, FeatureRegistry registry, String origin) {
    return new Surface(spec, origin, registry);
  }

  public String name() {
    return spec.name();
  }

  public SurfaceSpec spec() {
    return spec;
  }

  /** Where the surface was defined. */
  public String origin() {
    return origin;
  }

  /** The entity a request names. */
  public Entity entity() {
    return entity;
  }

  /** The candidate entity, or null for a scoring surface without candidates. */
  public Entity candidateEntity() {
    return candidateEntity;
  }

  /** The features read for the entity, in column order. */
  public List<FeatureRef> entityFeatures() {
    return entityFeatures;
  }

  /** The features read for each candidate, in column order. */
  public List<FeatureRef> candidateFeatures() {
    return candidateFeatures;
  }

  /**
   * The KV snapshot name of a batch surface's results: {@code batch.snapshot}, or the surface's
   * name.
   */
  public String batchSnapshot() {
    Object v = spec.batch().get("snapshot");
    return v == null ? spec.name() : String.valueOf(v);
  }

  /** The deadline of a ranked answer, or null (batch). */
  public Duration deadline() {
    return deadline;
  }

  /** Model input names and their widths (columns). */
  public Map<String, Integer> inputWidths() {
    Map<String, Integer> m = new LinkedHashMap<>();
    for (CompiledInput in : inputs) {
      m.put(in.name(), in.width());
    }
    return m;
  }

  /**
   * Checks the surface against its model's signature: every declared input exists, is FP32 and has
   * as many columns as the transforms write; the output exists.
   *
   * @throws ScorelineException USER_ERROR naming the surface file, the input and the fix
   */
  public void checkModel(ModelMetadata model) {
    for (CompiledInput in : inputs) {
      TensorSpec t =
          model.inputs().stream().filter(x -> x.name().equals(in.name())).findFirst().orElse(null);
      if (t == null) {
        throw error(
            "inputs." + in.name(),
            "model '"
                + model.name()
                + "' has no input '"
                + in.name()
                + "'; its inputs are "
                + model.inputs().stream().map(TensorSpec::name).toList());
      }
      if (t.datatype() != DataType.FP32) {
        throw error(
            "inputs." + in.name(),
            "model input '" + in.name() + "' is " + t.datatype() + "; surfaces feed FP32 inputs");
      }
      long[] shape = t.shape();
      long cols = shape.length == 0 ? -1 : shape[shape.length - 1];
      if (shape.length < 1 || shape.length > 2 || (cols > 0 && cols != in.width())) {
        throw error(
            "inputs." + in.name(),
            "the columns write "
                + in.width()
                + " values per row but model input '"
                + in.name()
                + "' has shape "
                + java.util.Arrays.toString(shape)
                + " (expected [-1, "
                + in.width()
                + "]); fix the columns or the model");
      }
    }
    maxRows = Math.max(0, model.maxBatchSize());
    String out = spec.model().output();
    if (out != null && model.outputs().stream().noneMatch(x -> x.name().equals(out))) {
      throw error(
          "model.output",
          "model '"
              + model.name()
              + "' has no output '"
              + out
              + "'; its outputs are "
              + model.outputs().stream().map(TensorSpec::name).toList());
    }
  }

  /** Column labels of an input, one per float (a list column repeats its label with [i]). */
  List<String> columnLabels() {
    List<String> out = new ArrayList<>();
    for (CompiledInput in : inputs) {
      for (Column c : in.columns()) {
        if (c.width == 1) {
          out.add(in.name() + ":" + c.label);
        } else {
          for (int i = 0; i < c.width; i++) {
            out.add(in.name() + ":" + c.label + "[" + i + "]");
          }
        }
      }
    }
    return out;
  }

  /** Encodes a request's entity key ({@link EntityKeys}), converting JSON values. */
  public byte[] entityKey(Map<String, Object> key) {
    List<Object> values = new ArrayList<>(entity.keys().size());
    for (var col : entity.keys()) {
      Object v = key.get(col.name());
      if (v == null) {
        throw ScorelineException.userError(
            "key." + col.name(),
            "surface '"
                + name()
                + "' needs the "
                + entity.name()
                + " key column '"
                + col.name()
                + "'; got "
                + key.keySet());
      }
      values.add(EntityKeys.fromJson(entity.name(), col, v, "key." + col.name()));
    }
    if (key.size() == values.size()) {
      return EntityKeys.encode(entity, values); // every key column given, and nothing else
    }
    for (String k : key.keySet()) {
      if (entity.keys().stream().noneMatch(c -> c.name().equals(k))) {
        throw ScorelineException.userError(
            "key." + k,
            "'"
                + k
                + "' is not a key column of entity "
                + entity.name()
                + "; its key columns are "
                + entity.keys().stream().map(c -> c.name()).toList());
      }
    }
    return EntityKeys.encode(entity, values);
  }

  /** Compiles the rules with a request's overrides (a rule type to {@code false} or parameters). */
  List<Rule> rulesFor(Map<String, Object> overrides) {
    if (overrides.isEmpty()) {
      return rules;
    }
    for (String type : overrides.keySet()) {
      boolean known = spec.rules().stream().anyMatch(r -> r.containsKey(type));
      if (!known && !Rule.TYPES.contains(type)) {
        throw ScorelineException.userError(
            "rules." + type, "unknown rule '" + type + "'; rules of this surface: " + ruleTypes());
      }
    }
    Function<String, Operand> fetched =
        name -> {
          Operand o = operands.get(name);
          if (o == null && name.startsWith("context.")) {
            return new Operand.Context(name.substring("context.".length()));
          }
          if (o == null && name.equals("candidate.score")) {
            return new Operand.RetrievalScore();
          }
          if (o == null) {
            throw new IllegalArgumentException(
                "'" + name + "' is not read by this surface; add it to the surface's features");
          }
          return o;
        };
    List<Rule> out = new ArrayList<>();
    for (int i = 0; i < spec.rules().size(); i++) {
      Map<String, Object> r = spec.rules().get(i);
      String type = r.keySet().iterator().next();
      Object o = overrides.get(type);
      if (o == null) {
        out.add(rules.get(i));
      } else if (Boolean.FALSE.equals(o)) {
        continue;
      } else if (o instanceof Map<?, ?> m) {
        Map<String, Object> merged = new LinkedHashMap<>();
        Object base = r.get(type);
        if (base instanceof Map<?, ?> bm) {
          bm.forEach((k, v) -> merged.put((String) k, v));
        } else if (base != null) {
          merged.put("k", base);
        }
        m.forEach((k, v) -> merged.put(String.valueOf(k), v));
        String field = "rules." + type;
        try {
          out.add(Rule.compile(field, type, merged, fetched));
        } catch (IllegalArgumentException e) {
          throw ScorelineException.userError(field, e.getMessage());
        }
      } else if (Boolean.TRUE.equals(o)) {
        out.add(rules.get(i));
      } else {
        throw ScorelineException.userError(
            "rules." + type,
            "rules." + type + ": use false to switch it off or a map of parameters, got " + o);
      }
    }
    // a rule type the surface does not declare, given with parameters, is appended
    for (Map.Entry<String, Object> e : overrides.entrySet()) {
      boolean declared = spec.rules().stream().anyMatch(r -> r.containsKey(e.getKey()));
      if (!declared && e.getValue() instanceof Map<?, ?>) {
        String field = "rules." + e.getKey();
        try {
          out.add(Rule.compile(field, e.getKey(), e.getValue(), fetched));
        } catch (IllegalArgumentException ex) {
          throw ScorelineException.userError(field, ex.getMessage());
        }
      }
    }
    return out;
  }

  List<String> ruleTypes() {
    return spec.rules().stream().map(r -> r.keySet().iterator().next()).toList();
  }

  // ---------------------------------------------------------------- compile helpers

  private Operand resolve(
      FeatureRegistry registry, String name, List<FeatureRef> ef, List<FeatureRef> cf) {
    Operand known = operands.get(name);
    if (known != null) {
      return known;
    }
    Operand o;
    if (name.startsWith("context.") && name.length() > "context.".length()) {
      o = new Operand.Context(name.substring("context.".length()));
    } else if (name.equals("candidate.score")) {
      o = new Operand.RetrievalScore();
    } else if (name.equals("candidate.id")) {
      o = new Operand.CandidateId();
    } else if (name.indexOf(':') > 0) {
      FeatureRef ref = FeatureRef.parse("feature", name);
      FeatureView v;
      try {
        v = registry.view(ref.view());
      } catch (ScorelineException e) {
        throw new IllegalArgumentException("'" + name + "': " + e.getMessage());
      }
      int idx = v.indexOf(ref.feature());
      if (idx < 0) {
        throw new IllegalArgumentException(
            "'"
                + name
                + "': view '"
                + v.name()
                + "' has no feature '"
                + ref.feature()
                + "'; it has "
                + v.features().stream().map(f -> f.name()).toList());
      }
      if (!v.online()) {
        throw new IllegalArgumentException(
            "'" + name + "': view '" + v.name() + "' is not online (online: false)");
      }
      ValueType type = v.features().get(idx).type();
      if (v.entity().equals(entity.name())) {
        Operand.EntityFeature f = new Operand.EntityFeature(name, type);
        f.column = ef.size();
        ef.add(ref);
        o = f;
      } else if (candidateEntity != null && v.entity().equals(candidateEntity.name())) {
        Operand.CandidateFeature f = new Operand.CandidateFeature(name, type);
        f.column = cf.size();
        cf.add(ref);
        o = f;
      } else {
        throw new IllegalArgumentException(
            "'"
                + name
                + "': view '"
                + v.name()
                + "' belongs to entity '"
                + v.entity()
                + "', which is neither the surface's entity '"
                + entity.name()
                + "'"
                + (candidateEntity == null
                    ? ""
                    : " nor its candidate entity '" + candidateEntity.name() + "'"));
      }
    } else {
      throw new IllegalArgumentException(
          "'"
              + name
              + "' is not a value name; write view:feature, context.<key>, candidate.score or"
              + " candidate.id");
    }
    operands.put(name, o);
    return o;
  }

  private List<FeatureRef> refs(FeatureRegistry registry, String s, String field) {
    if (s.indexOf(':') > 0) {
      return List.of(FeatureRef.parse(field, s)).stream()
          .flatMap(
              r -> {
                if (!r.feature().equals("*")) {
                  return java.util.stream.Stream.of(r);
                }
                FeatureView v = wrap(field, () -> registry.view(r.view()));
                return v.features().stream().map(f -> new FeatureRef(v.name(), f.name()));
              })
          .toList();
    }
    return wrap(field, () -> registry.service(s));
  }

  private Entity entity(FeatureRegistry registry, String name, String field) {
    return wrap(field, () -> registry.entity(name));
  }

  private <T> T wrap(String field, java.util.function.Supplier<T> s) {
    try {
      return s.get();
    } catch (IllegalArgumentException e) {
      throw error(field, e.getMessage());
    } catch (ScorelineException e) {
      throw error(field, e.getMessage());
    }
  }

  private ScorelineException error(String field, String message) {
    String m = message.startsWith(field + ":") ? message : field + ": " + message;
    return new ScorelineException(ErrorCode.USER_ERROR, field, origin + ": " + m, null);
  }
}
