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

  /** The query model's inputs (candidates.query with a model), in order; empty without one. */
  final List<QueryInput> queryInputs;

  /** The warm-up's explicit entity keys, checked against the entity's key columns. */
  final List<Map<String, Object>> warmupKeys;

  /** The model's max batch size once {@link #checkModel} saw it; 0 means unbounded. */
  volatile int maxRows;

  record CompiledInput(String name, List<Column> columns, int width) {}

  /**
   * One input of the query model: its name, the value feeding it and, once {@link #checkQueryModel}
   * saw the model, its datatype (null: by the value's type) and width (-1: any).
   */
  static final class QueryInput {
    final String name;
    final Operand operand;
    volatile DataType datatype;
    volatile int width = -1;

    QueryInput(String name, Operand operand) {
      this.name = name;
      this.operand = operand;
    }
  }

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
    List<QueryInput> qin = new ArrayList<>();
    if (spec.candidates() != null && spec.candidates().queryModel() != null) {
      for (Map.Entry<String, String> e : spec.candidates().queryModel().inputs().entrySet()) {
        String field = "candidates.query.inputs." + e.getKey();
        Operand o = wrap(field, () -> resolver.apply(e.getValue()));
        if (!(o instanceof Operand.EntityFeature) && !(o instanceof Operand.Context)) {
          throw error(
              field,
              "'"
                  + o
                  + "' is not a value of the request; a query model input is fed from a feature"
                  + " of entity "
                  + entity.name()
                  + " (view:feature) or from context.<key>");
        }
        qin.add(new QueryInput(e.getKey(), o));
      }
    } else if (spec.candidates() != null && !"precomputed".equals(spec.candidates().source())) {
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
    this.queryInputs = List.copyOf(qin);
    List<Map<String, Object>> keys = new ArrayList<>();
    List<Object> given = spec.warmup().entities();
    for (int i = 0; i < given.size(); i++) {
      String field = "warmup.entities[" + i + "]";
      Map<String, Object> key = warmupKey(given.get(i), field);
      try {
        entityKey(key);
      } catch (ScorelineException e) {
        throw error(field, e.getMessage());
      }
      keys.add(key);
    }
    this.warmupKeys = List.copyOf(keys);
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

  /**
   * Checks the query model (candidates.query with a model) against its signature and the vector
   * index: every input it declares is fed by {@code candidates.query.inputs} and every one given
   * exists; the inputs are FP32 or INT64; the output exists, is FP32 and has the index's dimension
   * ({@code [d]} or {@code [-1, d]}).
   *
   * @param model the query model's metadata, or null when the repository has no such model
   * @throws ScorelineException USER_ERROR naming the surface file, the key and the fix
   */
  public void checkQueryModel(ModelMetadata model, int indexDimension) {
    SurfaceSpec.QueryModel q = spec.candidates() == null ? null : spec.candidates().queryModel();
    if (q == null) {
      return;
    }
    if (model == null) {
      throw error(
          "candidates.query.model",
          "model '"
              + q.model()
              + "'"
              + (q.version() == null ? "" : " version '" + q.version() + "'")
              + " is not loaded; add models/"
              + q.model()
              + "/<version>/model.onnx to the repository or fix the name");
    }
    for (QueryInput in : queryInputs) {
      TensorSpec t =
          model.inputs().stream().filter(x -> x.name().equals(in.name)).findFirst().orElse(null);
      String field = "candidates.query.inputs." + in.name;
      if (t == null) {
        throw error(
            field,
            "model '"
                + model.name()
                + "' has no input '"
                + in.name
                + "'; its inputs are "
                + model.inputs().stream().map(TensorSpec::name).toList());
      }
      if (t.datatype() != DataType.FP32 && t.datatype() != DataType.INT64) {
        throw error(
            field,
            "model input '"
                + in.name
                + "' is "
                + t.datatype()
                + "; a query model's inputs must be FP32 or INT64");
      }
      long[] shape = t.shape();
      if (shape.length > 2) {
        throw error(
            field,
            "model input '"
                + in.name
                + "' has shape "
                + java.util.Arrays.toString(shape)
                + "; a query model takes one row: [-1, n], [1, n] or [n]");
      }
      in.datatype = t.datatype();
      long w = shape.length == 0 ? -1 : shape[shape.length - 1];
      in.width = w > 0 ? (int) w : -1;
    }
    for (TensorSpec t : model.inputs()) {
      if (queryInputs.stream().noneMatch(x -> x.name.equals(t.name()))) {
        throw error(
            "candidates.query.inputs",
            "model '"
                + model.name()
                + "' input '"
                + t.name()
                + "' is not fed; add '"
                + t.name()
                + ": <view:feature or context.key>' to candidates.query.inputs");
      }
    }
    TensorSpec out =
        q.output() == null
            ? (model.outputs().isEmpty() ? null : model.outputs().get(0))
            : model.outputs().stream()
                .filter(x -> x.name().equals(q.output()))
                .findFirst()
                .orElse(null);
    if (out == null) {
      throw error(
          "candidates.query.output",
          "model '"
              + model.name()
              + "' has no output '"
              + q.output()
              + "'; its outputs are "
              + model.outputs().stream().map(TensorSpec::name).toList());
    }
    if (out.datatype() != DataType.FP32) {
      throw error(
          "candidates.query.output",
          "model output '" + out.name() + "' is " + out.datatype() + "; the query vector is FP32");
    }
    long[] shape = out.shape();
    long d = shape.length == 0 ? -1 : shape[shape.length - 1];
    if (shape.length == 0 || shape.length > 2 || (d > 0 && d != indexDimension)) {
      throw error(
          "candidates.query.output",
          "model output '"
              + out.name()
              + "' has shape "
              + java.util.Arrays.toString(shape)
              + " but index "
              + spec.candidates().index()
              + " has dimension "
              + indexDimension
              + "; the query vector must be [1, "
              + indexDimension
              + "] or ["
              + indexDimension
              + "] (fix the output or the index)");
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

  /** A warm-up entity as a key map: a map of key columns, or one value for a one-column key. */
  private Map<String, Object> warmupKey(Object given, String field) {
    if (given instanceof Map<?, ?> m) {
      Map<String, Object> key = new LinkedHashMap<>();
      m.forEach((k, v) -> key.put(String.valueOf(k), v));
      return key;
    }
    if (entity.keys().size() != 1 || given == null || given instanceof List<?>) {
      throw error(
          field,
          "write the key of entity "
              + entity.name()
              + " as a map of its key columns "
              + entity.keys().stream().map(c -> c.name()).toList()
              + (entity.keys().size() == 1 ? " or as one value" : "")
              + ", got "
              + given);
    }
    return Map.of(entity.keys().get(0).name(), given);
  }

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
