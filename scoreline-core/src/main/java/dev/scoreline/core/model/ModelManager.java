package dev.scoreline.core.model;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.model.spi.LoadedModel;
import dev.scoreline.core.model.spi.ModelRuntime;
import dev.scoreline.core.model.spi.ModelSource;
import dev.scoreline.core.schedule.DirectScheduler;
import dev.scoreline.core.schedule.DynamicBatcher;
import dev.scoreline.core.schedule.Job;
import dev.scoreline.core.schedule.Scheduler;
import dev.scoreline.core.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the loaded models of one process: loads versions from a {@link ModelRepository} with the
 * {@link ModelRuntime} of their platform, routes inference calls to a version, reports readiness
 * and metadata, and drains in-flight calls before a version is closed.
 *
 * <p>This is the in-process inference API used by the server, batch and streaming modes alike.
 */
public final class ModelManager implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ModelManager.class);
  private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(30);

  private final ModelRepository repository;
  private final Map<String, ModelRuntime> runtimes;
  private final InferenceMetrics metrics;
  private final Executor executor;
  private final ConcurrentHashMap<String, ModelEntry> models = new ConcurrentHashMap<>();
  private final Set<String> required = ConcurrentHashMap.newKeySet();
  private final AtomicInteger inFlight = new AtomicInteger();
  private volatile boolean shuttingDown;

  /**
   * @param executor runs {@link #inferAsync} calls; its threads are the inference workers
   */
  public ModelManager(
      ModelRepository repository,
      Collection<? extends ModelRuntime> runtimes,
      InferenceMetrics metrics,
      Executor executor) {
    this.repository = requireNonNull(repository, "repository is null");
    this.metrics = requireNonNull(metrics, "metrics is null");
    this.executor = requireNonNull(executor, "executor is null");
    Map<String, ModelRuntime> byPlatform = new HashMap<>();
    for (ModelRuntime r : runtimes) {
      byPlatform.put(r.platform(), r);
    }
    this.runtimes = Map.copyOf(byPlatform);
  }

  public ModelRepository repository() {
    return repository;
  }

  public InferenceMetrics metrics() {
    return metrics;
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Loads the named models (all models in the repository when {@code names} is empty). A model that
   * fails to load is reported in {@link #index()} and keeps the server not ready; others still
   * load.
   *
   * @return the statuses after loading
   */
  public List<ModelStatus> loadAll(Collection<String> names) {
    List<String> toLoad = names.isEmpty() ? repository.modelNames() : List.copyOf(names);
    for (String name : toLoad) {
      required.add(name);
      try {
        load(name);
      } catch (ScorelineException e) {
        log.error("model '{}' failed to load: {}", name, e.getMessage());
      }
    }
    return index();
  }

  /**
   * Loads (or refreshes) one model from the repository: versions its policy selects are loaded,
   * versions no longer selected are drained and unloaded. A version that fails to load never takes
   * down a version that is serving. Throws when no version of the model is ready afterwards.
   */
  public void load(String name) {
    ModelEntry entry = models.computeIfAbsent(name, ModelEntry::new);
    synchronized (entry) {
      ModelRepository.Definition def;
      try {
        def = repository.read(name);
      } catch (ScorelineException e) {
        if (e.code() == ErrorCode.NOT_FOUND && entry.versions.isEmpty()) {
          models.remove(
              name, entry); // never leave a phantom entry for a name not in the repository
        } else {
          entry.failures.put(0L, e.getMessage());
        }
        throw e;
      }
      ModelRuntime runtime = runtimes.get(def.config().platform());
      if (runtime == null) {
        String msg =
            "model '"
                + name
                + "' has platform '"
                + def.config().platform()
                + "' but this server has runtimes "
                + runtimes.keySet();
        entry.failures.put(0L, msg);
        throw new ScorelineException(ErrorCode.USER_ERROR, msg);
      }
      entry.failures.remove(0L);
      if (def.versions().isEmpty()) {
        String msg =
            "model '"
                + name
                + "' has no version directories; put the model at "
                + repository
                    .root()
                    .resolve(name)
                    .resolve("1")
                    .resolve(def.config().defaultModelFilename());
        entry.failures.put(0L, msg);
        throw ScorelineException.userError("versions", msg);
      }
      List<Long> wanted = def.config().versionPolicy().select(def.versions().keySet());
      boolean executionChanged = !def.config().sameExecutionAs(entry.config);
      entry.config = def.config();
      entry.traffic = def.config().traffic();
      entry.platform = runtime.metadataPlatform();
      String firstError = null;
      for (Long v : wanted) {
        Path file = def.versions().get(v);
        VersionHandle current = entry.versions.get(v);
        if (current != null && !executionChanged && current.file.equals(FileStamp.of(file))) {
          continue;
        }
        entry.loading.add(v);
        try {
          if (!Files.isRegularFile(file)) {
            throw ScorelineException.userError(
                "versions", "model '" + name + "' version " + v + " has no file " + file);
          }
          long t0 = System.nanoTime();
          VersionHandle h = loadVersion(runtime, new ModelSource(name, v, file, def.config()));
          LoadedModel loaded = h.instances.get(0);
          entry.put(h);
          entry.failures.remove(v);
          if (current != null) {
            drainAndClose(current); // a reload: the new instances serve, the old ones drain
          }
          log.info(
              "loaded model '{}' version {} on {} in {} ms",
              name,
              v,
              loaded.device(),
              (System.nanoTime() - t0) / 1_000_000);
        } catch (ScorelineException e) {
          entry.failures.put(v, e.getMessage());
          firstError = firstError == null ? e.getMessage() : firstError;
          log.warn("model '{}' version {} failed to load: {}", name, v, e.getMessage());
        } catch (RuntimeException e) {
          String msg = "model '" + name + "' version " + v + " failed to load: " + e;
          entry.failures.put(v, msg);
          firstError = firstError == null ? msg : firstError;
          log.warn(msg, e);
        } finally {
          entry.loading.remove(v);
        }
      }
      // Versions the policy no longer selects go once a selected version serves; if none does,
      // the old ones keep serving.
      boolean selectedServes = false;
      for (Long v : wanted) {
        selectedServes |= entry.versions.containsKey(v);
      }
      if (selectedServes) {
        for (VersionHandle h : new ArrayList<>(entry.versions.values())) {
          if (!wanted.contains(h.version)) {
            entry.remove(h.version);
            drainAndClose(h);
          }
        }
      }
      entry
          .failures
          .keySet()
          .removeIf(v -> v != 0L && !wanted.contains(v) && !def.versions().containsKey(v));
      if (entry.versions.isEmpty()) {
        throw new ScorelineException(
            ErrorCode.USER_ERROR,
            firstError != null ? firstError : "model '" + name + "' has no ready version");
      }
      if (firstError != null) {
        throw new ScorelineException(ErrorCode.USER_ERROR, firstError);
      }
    }
  }

  /** Unloads every version of a model after draining its in-flight calls. */
  public void unload(String name) {
    ModelEntry entry = models.get(name);
    if (entry == null) {
      throw ScorelineException.notFound(
          "model '" + name + "' is not loaded; loaded models: " + models.keySet());
    }
    synchronized (entry) {
      required.remove(name);
      List<VersionHandle> handles = new ArrayList<>(entry.versions.values());
      for (VersionHandle h : handles) {
        entry.remove(h.version);
      }
      models.remove(name, entry);
      for (VersionHandle h : handles) {
        drainAndClose(h);
      }
    }
  }

  private VersionHandle loadVersion(ModelRuntime runtime, ModelSource source) {
    ModelConfig config = source.config();
    List<LoadedModel> instances = new ArrayList<>();
    try {
      for (int i = 0; i < config.instanceCount(); i++) {
        LoadedModel instance = runtime.load(source);
        instances.add(instance);
        Warmup.run(source.name(), source.version(), instance, config);
      }
      String version = Long.toString(source.version());
      Scheduler scheduler =
          config.dynamicBatching() != null
              ? new DynamicBatcher(
                  source.name(),
                  version,
                  instances,
                  config.maxBatchSize(),
                  config.dynamicBatching(),
                  metrics)
              : new DirectScheduler(
                  source.name(),
                  version,
                  instances,
                  concurrency(config),
                  executor,
                  metrics,
                  config.inlineComputeUs() * 1000L);
      long timeout =
          config.dynamicBatching() != null && config.dynamicBatching().defaultTimeout() != null
              ? config.dynamicBatching().defaultTimeout().toNanos()
              : 0;
      int capacity =
          config.dynamicBatching() != null
              ? instances.size() * Math.max(1, config.maxBatchSize())
              : concurrency(config);
      return new VersionHandle(
          source.name(),
          source.version(),
          instances,
          scheduler,
          timeout,
          capacity,
          FileStamp.of(source.file()));
    } catch (RuntimeException e) {
      instances.forEach(LoadedModel::close);
      throw e;
    }
  }

  private int concurrency(ModelConfig config) {
    return config.maxConcurrency() > 0
        ? config.maxConcurrency()
        : Runtime.getRuntime().availableProcessors();
  }

  private void drainAndClose(VersionHandle h) {
    h.state = ModelState.UNLOADING;
    long deadline = System.nanoTime() + DRAIN_TIMEOUT.toNanos();
    while (h.inFlight.get() > 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(2);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    if (h.inFlight.get() > 0) {
      log.warn(
          "closing model '{}' version {} with {} calls still in flight",
          h.name,
          h.version,
          h.inFlight.get());
    }
    h.close();
    log.info("unloaded model '{}' version {}", h.name, h.version);
  }

  /** Refuses new calls with UNAVAILABLE from now on; in-flight calls go on. */
  public void beginShutdown() {
    shuttingDown = true;
  }

  public boolean isShuttingDown() {
    return shuttingDown;
  }

  /** Waits until no call is in flight or the timeout passes; true when drained. */
  public boolean awaitIdle(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (inFlight.get() > 0) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      try {
        Thread.sleep(2);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return true;
  }

  @Override
  public void close() {
    beginShutdown();
    awaitIdle(DRAIN_TIMEOUT);
    for (ModelEntry e : models.values()) {
      synchronized (e) {
        for (VersionHandle h : e.versions.values()) {
          h.close();
        }
        e.versions = Collections.emptyNavigableMap();
      }
    }
    models.clear();
  }

  // ---------------------------------------------------------------- status

  /**
   * True when not shutting down, at least one model is ready, and every model asked for at start-up
   * has a ready version.
   */
  public boolean isReady() {
    if (shuttingDown || readyModels().isEmpty()) {
      return false; // a server with nothing to serve is not ready (cf. MLServer#2056)
    }
    for (String name : required) {
      ModelEntry e = models.get(name);
      if (e == null || e.versions.isEmpty()) {
        return false;
      }
    }
    return true;
  }

  /** True when the model (and version, if given) is loaded and ready. */
  public boolean isReady(String name, String version) {
    ModelEntry e = models.get(name);
    if (e == null || shuttingDown) {
      return false;
    }
    if (version == null || version.isEmpty()) {
      return !e.versions.isEmpty();
    }
    VersionHandle h = e.versions.get(parseVersion(version));
    return h != null && h.state == ModelState.READY;
  }

  /** Throws NOT_FOUND when the model or version does not exist here. */
  public void checkExists(String name, String version) {
    resolve(entry(name), version);
  }

  /** Every known model version with its state; failed loads carry their reason. */
  public List<ModelStatus> index() {
    List<ModelStatus> out = new ArrayList<>();
    Set<String> names = new java.util.TreeSet<>(models.keySet());
    try {
      names.addAll(repository.modelNames());
    } catch (ScorelineException e) {
      log.debug("repository not listable: {}", e.getMessage());
    }
    for (String name : names) {
      ModelEntry e = models.get(name);
      if (e == null) {
        out.add(new ModelStatus(name, "", ModelState.UNAVAILABLE, "not loaded"));
        continue;
      }
      synchronized (e) {
        TreeMap<Long, ModelStatus> rows = new TreeMap<>();
        for (Long v : e.loading) {
          rows.put(v, new ModelStatus(name, v.toString(), ModelState.LOADING, ""));
        }
        e.failures.forEach(
            (v, reason) ->
                rows.put(
                    v,
                    new ModelStatus(
                        name, v == 0L ? "" : v.toString(), ModelState.UNAVAILABLE, reason)));
        for (VersionHandle h : e.versions.values()) {
          rows.put(h.version, new ModelStatus(name, h.versionString, h.state, ""));
        }
        out.addAll(rows.values());
      }
    }
    return out;
  }

  /** The version number a version string or label names; NOT_FOUND when there is none. */
  public String resolveVersion(String name, String versionOrLabel) {
    return resolve(entry(name), versionOrLabel).versionString;
  }

  /** Metadata of a model; of its default version when {@code version} is null or empty. */
  public ModelMetadata metadata(String name, String version) {
    ModelEntry e = entry(name);
    VersionHandle h = resolve(e, version);
    List<String> versions = new ArrayList<>();
    for (VersionHandle v : e.versions.values()) {
      versions.add(v.versionString);
    }
    ModelSignature sig = h.signature;
    return new ModelMetadata(
        name, versions, e.platform, sig.inputs(), sig.outputs(), sig.maxBatchSize());
  }

  /**
   * How many requests the loaded versions can work on at once: per version, {@code instance-count}
   * x {@code max-batch-size} with dynamic batching (every instance running a full batch of one-row
   * requests), else {@code max-concurrency}. The server derives its default in-flight limit from
   * this. 0 when nothing is loaded.
   */
  public int concurrentCapacity() {
    long total = 0;
    for (ModelEntry e : models.values()) {
      for (VersionHandle h : e.versions.values()) {
        total += h.capacity;
      }
    }
    return (int) Math.min(Integer.MAX_VALUE, total);
  }

  /** Names of the models that have at least one ready version, sorted. */
  public List<String> readyModels() {
    List<String> out = new ArrayList<>();
    for (ModelEntry e : models.values()) {
      if (!e.versions.isEmpty()) {
        out.add(e.name);
      }
    }
    out.sort(null);
    return out;
  }

  // ---------------------------------------------------------------- inference

  /** Runs a request, waiting for its result on the calling thread. */
  public InferenceResponse infer(InferenceRequest request) {
    long enqueued = System.nanoTime();
    Admitted a = admit(request, enqueued, enqueued, true);
    String outcome = "success";
    CompletableFuture<List<Tensor>> served = new CompletableFuture<>();
    maybeShadow(a, served);
    try {
      List<Tensor> outputs = a.handle.scheduler.run(a.job);
      served.complete(outputs);
      return a.response(outputs);
    } catch (ScorelineException e) {
      outcome = outcomeOf(e);
      throw e;
    } catch (RuntimeException e) {
      outcome = "internal";
      throw internal(request, e);
    } finally {
      served.complete(null);
      a.finish(outcome);
    }
  }

  /**
   * Runs a request asynchronously: validation and admission happen on the calling thread, the model
   * runs on the version's scheduler (the worker executor, or the dynamic batcher's threads). A
   * request that cannot be admitted fails at once with RESOURCE_EXHAUSTED.
   */
  public CompletableFuture<InferenceResponse> inferAsync(InferenceRequest request) {
    return inferAsync(request, System.nanoTime());
  }

  /**
   * Like {@link #inferAsync(InferenceRequest)}, with the request's deadline (its {@code timeout}
   * parameter, else the model's default timeout) counted from {@code arrivalNanos}: the {@link
   * System#nanoTime()} at which the request reached the server, before its body was read and
   * decoded. A request whose deadline has passed by admission fails at once with DEADLINE_EXCEEDED
   * and never runs.
   *
   * <p>Cancelling the returned future (the client went away) drops the request before compute if it
   * has not started yet.
   */
  public CompletableFuture<InferenceResponse> inferAsync(
      InferenceRequest request, long arrivalNanos) {
    return inferAsync(request, arrivalNanos, true);
  }

  /**
   * Like {@link #inferAsync(InferenceRequest, long)}; {@code mayRunInline} false tells a scheduler
   * that other requests are in flight with this one (the server is busy), so the call should go to
   * a worker even when the model is small enough to run on the calling thread (see {@code
   * inline-compute-us}).
   */
  public CompletableFuture<InferenceResponse> inferAsync(
      InferenceRequest request, long arrivalNanos, boolean mayRunInline) {
    return inferAsync(request, arrivalNanos, mayRunInline, null);
  }

  /**
   * Like {@link #inferAsync(InferenceRequest, long, boolean)}, with the thread that answers named:
   * when the model's outputs are ready, the response is built (and the returned future completed)
   * on {@code answerOn} instead of the thread that ran the model. A server passes the request's
   * event loop, which writes the answer anyway, so a dynamic batcher's thread hands each caller its
   * rows and goes on to the next batch instead of building every caller's response first. {@code
   * null} answers on the thread that ran the model.
   */
  public CompletableFuture<InferenceResponse> inferAsync(
      InferenceRequest request, long arrivalNanos, boolean mayRunInline, Executor answerOn) {
    long enqueued = System.nanoTime();
    Admitted a;
    CompletableFuture<List<Tensor>> f;
    try {
      a = admit(request, enqueued, arrivalNanos, mayRunInline);
    } catch (ScorelineException e) {
      return CompletableFuture.failedFuture(e);
    }
    try {
      f = a.handle.scheduler.submit(a.job);
    } catch (ScorelineException e) {
      a.finish(outcomeOf(e));
      return CompletableFuture.failedFuture(e);
    }
    maybeShadow(a, f);
    CompletableFuture<InferenceResponse> out = new CompletableFuture<>();
    BiConsumer<List<Tensor>, Throwable> answer =
        (outputs, error) -> {
          if (error == null) {
            a.finish("success");
            out.complete(a.response(outputs));
            return;
          }
          Throwable cause =
              error instanceof CompletionException && error.getCause() != null
                  ? error.getCause()
                  : error;
          if (cause instanceof ScorelineException) {
            a.finish(outcomeOf((ScorelineException) cause));
            out.completeExceptionally(cause);
          } else if (cause instanceof CancellationException) {
            a.finish("cancelled"); // the caller gave up; nobody reads the answer
            out.cancel(false);
          } else {
            a.finish("internal");
            out.completeExceptionally(internal(request, cause));
          }
        };
    if (answerOn == null) {
      f.whenComplete(answer);
    } else {
      f.whenCompleteAsync(answer, answerOn);
    }
    out.whenComplete(
        (r, e) -> {
          if (e instanceof CancellationException) {
            f.cancel(false); // the scheduler skips a cancelled job that has not started
          }
        });
    return out;
  }

  /**
   * Mirrors an unversioned request to the shadow version for the configured fraction of traffic.
   * The shadow's answer is discarded; its latency, outcome and divergence from the served answer go
   * to metrics. Nothing here can fail or delay the served response.
   */
  private void maybeShadow(Admitted a, CompletableFuture<List<Tensor>> served) {
    String version = a.request.version();
    TrafficPolicy.Shadow sh = a.entry.traffic.shadow();
    if (sh == null
        || (version != null && !version.isEmpty())
        || ThreadLocalRandom.current().nextDouble() >= sh.fraction()) {
      return;
    }
    VersionHandle h = target(a.entry, sh.version());
    if (h == null || h == a.handle) {
      return;
    }
    h.inFlight.incrementAndGet();
    inFlight.incrementAndGet();
    long t0 = System.nanoTime();
    CompletableFuture<List<Tensor>> f;
    try {
      if (h.state != ModelState.READY) {
        throw new ScorelineException(ErrorCode.UNAVAILABLE, "shadow version is unloading");
      }
      f = h.scheduler.submit(new Job(a.job.inputs(), a.job.outputs(), 0, t0, 0));
    } catch (RuntimeException e) {
      h.inFlight.decrementAndGet();
      inFlight.decrementAndGet();
      metrics.shadow(a.model, h.versionString, "rejected", System.nanoTime() - t0);
      return;
    }
    f.whenComplete(
        (out, err) -> {
          h.inFlight.decrementAndGet();
          inFlight.decrementAndGet();
          metrics.shadow(
              a.model, h.versionString, err == null ? "success" : "error", System.nanoTime() - t0);
          if (out != null) {
            served.whenComplete(
                (primary, perr) -> {
                  if (primary != null) {
                    metrics.shadowDivergence(a.model, h.versionString, divergence(primary, out));
                  }
                });
          }
        });
  }

  /** Largest absolute difference between two answers; 1 where they cannot be compared. */
  static double divergence(List<Tensor> served, List<Tensor> shadow) {
    double max = 0;
    for (int i = 0; i < served.size(); i++) {
      Tensor a = served.get(i);
      Tensor b = i < shadow.size() ? shadow.get(i) : null;
      if (b == null || a.type() != b.type() || !java.util.Arrays.equals(a.shape(), b.shape())) {
        max = Math.max(max, 1);
        continue;
      }
      if (a.type() == dev.scoreline.core.tensor.DataType.BYTES) {
        if (!java.util.Arrays.deepEquals(a.bytesData(), b.bytesData())) {
          max = Math.max(max, 1);
        }
        continue;
      }
      for (int j = 0; j < a.elementCount(); j++) {
        double d = Math.abs(a.getDouble(j) - b.getDouble(j));
        if (d > max || Double.isNaN(d)) {
          max = Double.isNaN(d) ? 1 : d;
        }
      }
    }
    return max;
  }

  /** The traffic policy of a model now in force. */
  public TrafficPolicy traffic(String name) {
    return entry(name).traffic;
  }

  /**
   * Changes how a model's unversioned traffic is split and shadowed, at once and without a restart.
   * Every split and shadow target must be a version number or a label of the model. A later reload
   * of the model's config.yaml replaces it again.
   */
  public void setTraffic(String name, TrafficPolicy policy) {
    ModelEntry e = entry(name);
    synchronized (e) {
      for (String key : policy.split().keySet()) {
        checkTarget(e, "split." + key, key);
      }
      if (policy.shadow() != null) {
        checkTarget(e, "shadow.version", policy.shadow().version());
      }
      e.traffic = policy;
      log.info("model '{}' traffic is now {}", name, policy);
    }
  }

  private static void checkTarget(ModelEntry e, String field, String key) {
    try {
      versionOrLabel(e, key);
    } catch (ScorelineException ex) {
      throw ScorelineException.userError(
          "traffic." + field,
          "traffic."
              + field
              + ": '"
              + key
              + "' is neither a version number nor a label of model '"
              + e.name
              + "' (labels: "
              + e.config.versionLabels().keySet()
              + ")");
    }
  }

  private static String outcomeOf(ScorelineException e) {
    return e.code().name().toLowerCase(Locale.ROOT);
  }

  /** Clients get a generic message (no Java class names); the detail goes to the log. */
  private static ScorelineException internal(InferenceRequest request, Throwable e) {
    log.error("inference on model '{}' failed", request.model(), e);
    return new ScorelineException(
        ErrorCode.INTERNAL,
        "inference on model '"
            + request.model()
            + "' failed inside the runtime; see the server log",
        e);
  }

  /**
   * Resolves the version, validates the request and counts it in flight. On failure the request is
   * already counted in metrics and released.
   */
  private Admitted admit(
      InferenceRequest request, long enqueued, long arrival, boolean mayRunInline) {
    String modelLabel = InferenceMetrics.UNKNOWN_MODEL;
    String versionLabel = "";
    VersionHandle h = null;
    inFlight.incrementAndGet();
    try {
      if (shuttingDown) {
        throw new ScorelineException(
            ErrorCode.UNAVAILABLE, "the server is shutting down; retry on another replica");
      }
      ModelEntry entry = entry(request.model());
      modelLabel = entry.name;
      h = acquire(entry, request);
      versionLabel = h.versionString;
      ModelSignature sig = h.signature;
      Map<String, Tensor> inputs =
          RequestValidator.validateInputs(sig, entry.name, request.inputs());
      List<String> outputs = RequestValidator.validateOutputs(sig, entry.name, request.outputs());
      int priority = intParameter(request, "priority");
      long timeoutMicros = intParameter(request, "timeout");
      // deadlines count from arrival: reading and decoding the body used part of the time
      long from = enqueued - arrival > 0 ? arrival : enqueued;
      long fromRequest = timeoutMicros > 0 ? from + timeoutMicros * 1000 : 0;
      long fromModel = h.defaultDeadline(from);
      // the shorter of the request's timeout and the model's default timeout
      long deadline =
          fromRequest == 0
              ? fromModel
              : fromModel == 0 ? fromRequest : Math.min(fromRequest, fromModel);
      if (deadline != 0 && enqueued - deadline >= 0) {
        metrics.rejected(entry.name, versionLabel, "expired");
        throw new ScorelineException(
            ErrorCode.DEADLINE_EXCEEDED,
            "the request's deadline passed "
                + TimeUnit.NANOSECONDS.toMicros(enqueued - from)
                + " us after it arrived, before model '"
                + entry.name
                + "' could take it; it was not run. Allow a longer timeout");
      }
      Job job = new Job(inputs, outputs, priority, enqueued, deadline, mayRunInline);
      return new Admitted(request, entry, h, job, enqueued);
    } catch (RuntimeException e) {
      if (h != null) {
        h.inFlight.decrementAndGet();
      }
      inFlight.decrementAndGet();
      String outcome =
          e instanceof ScorelineException ? outcomeOf((ScorelineException) e) : "internal";
      metrics.request(modelLabel, versionLabel, outcome, System.nanoTime() - enqueued);
      if (e instanceof ScorelineException) {
        throw e;
      }
      throw internal(request, e);
    }
  }

  private static int intParameter(InferenceRequest request, String name) {
    Object v = request.parameters().get(name);
    if (v == null) {
      return 0;
    }
    try {
      long n = v instanceof Number ? ((Number) v).longValue() : Long.parseLong(v.toString().trim());
      if (n < 0 || n > Integer.MAX_VALUE || (v instanceof Double && (Double) v != n)) {
        throw new NumberFormatException();
      }
      return (int) n;
    } catch (NumberFormatException e) {
      throw ScorelineException.userError(
          "parameters." + name,
          "parameter '"
              + name
              + "' must be a non-negative integer"
              + (name.equals("timeout") ? " (microseconds)" : " (1 is the highest priority)")
              + ", got "
              + v);
    }
  }

  /** An admitted request: counted in flight until {@link #finish}. */
  private final class Admitted {
    final InferenceRequest request;
    final ModelEntry entry;
    final String model;
    final VersionHandle handle;
    final Job job;
    final long enqueued;

    Admitted(
        InferenceRequest request, ModelEntry entry, VersionHandle handle, Job job, long enqueued) {
      this.request = request;
      this.entry = entry;
      this.model = entry.name;
      this.handle = handle;
      this.job = job;
      this.enqueued = enqueued;
    }

    InferenceResponse response(List<Tensor> outputs) {
      return new InferenceResponse(model, handle.versionString, request.id(), Map.of(), outputs);
    }

    void finish(String outcome) {
      handle.inFlight.decrementAndGet();
      inFlight.decrementAndGet();
      metrics.request(model, handle.versionString, outcome, System.nanoTime() - enqueued);
    }
  }

  private ModelEntry entry(String name) {
    ModelEntry e = models.get(name);
    if (e == null) {
      throw ScorelineException.notFound(
          "unknown model '" + name + "'; loaded models: " + readyModels());
    }
    return e;
  }

  private static long parseVersion(String version) {
    try {
      long v = Long.parseLong(version);
      if (v > 0) {
        return v;
      }
    } catch (NumberFormatException e) {
      // fall through
    }
    throw ScorelineException.userError(
        "model_version", "version '" + version + "' is not a positive integer");
  }

  private VersionHandle resolve(ModelEntry e, String version) {
    NavigableMap<Long, VersionHandle> versions = e.versions;
    if (version == null || version.isEmpty()) {
      Map.Entry<Long, VersionHandle> last = versions.lastEntry();
      if (last == null) {
        throw new ScorelineException(
            ErrorCode.UNAVAILABLE,
            "model '" + e.name + "' has no ready version; see v2/repository/index");
      }
      return last.getValue();
    }
    long v = versionOrLabel(e, version);
    VersionHandle h = versions.get(v);
    if (h == null) {
      List<String> have = new ArrayList<>();
      for (VersionHandle x : versions.values()) {
        have.add(x.versionString);
      }
      throw ScorelineException.notFound(
          "model '" + e.name + "' has no ready version " + version + "; ready versions: " + have);
    }
    return h;
  }

  private static long versionOrLabel(ModelEntry e, String version) {
    if (!version.isEmpty() && Character.isDigit(version.charAt(0))) {
      return parseVersion(version);
    }
    Long v = e.config.versionLabels().get(version);
    if (v == null) {
      throw ScorelineException.notFound(
          "model '"
              + e.name
              + "' has no version label '"
              + version
              + "'; labels: "
              + e.config.versionLabels().keySet()
              + " (set version-labels in config.yaml)");
    }
    return v;
  }

  /** The target of a split or shadow entry, or null when it is not loaded. */
  private static VersionHandle target(ModelEntry e, String versionOrLabel) {
    try {
      return e.versions.get(versionOrLabel(e, versionOrLabel));
    } catch (ScorelineException ex) {
      return null;
    }
  }

  /**
   * Picks the version for a request: the one it names, else by the traffic split (sticky on the
   * {@code routing_key} parameter, random otherwise), else the newest.
   */
  private VersionHandle route(ModelEntry e, InferenceRequest request) {
    String version = request.version();
    if (version != null && !version.isEmpty()) {
      return resolve(e, version);
    }
    Map<String, Integer> split = e.traffic.split();
    if (split.isEmpty()) {
      return resolve(e, null);
    }
    long total = 0;
    for (Map.Entry<String, Integer> w : split.entrySet()) {
      if (target(e, w.getKey()) != null) {
        total += w.getValue();
      }
    }
    if (total == 0) {
      return resolve(e, null);
    }
    Object key = request.parameters().get("routing_key");
    long pick =
        key != null
            ? Math.floorMod(mix(key.toString().hashCode()), total)
            : ThreadLocalRandom.current().nextLong(total);
    for (Map.Entry<String, Integer> w : split.entrySet()) {
      VersionHandle h = target(e, w.getKey());
      if (h == null) {
        continue;
      }
      if (pick < w.getValue()) {
        return h;
      }
      pick -= w.getValue();
    }
    return resolve(e, null);
  }

  /** SplitMix64's finalizer: spreads String.hashCode (stable across JVMs) over 64 bits. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  private VersionHandle acquire(ModelEntry e, InferenceRequest request) {
    for (int attempt = 0; attempt < 3; attempt++) {
      VersionHandle h = route(e, request);
      h.inFlight.incrementAndGet();
      if (h.state == ModelState.READY) {
        return h;
      }
      h.inFlight.decrementAndGet();
    }
    throw new ScorelineException(
        ErrorCode.UNAVAILABLE, "model '" + e.name + "' is being unloaded; retry shortly");
  }

  // ---------------------------------------------------------------- internals

  private static final class ModelEntry {
    final String name;
    volatile NavigableMap<Long, VersionHandle> versions = Collections.emptyNavigableMap();
    final Map<Long, String> failures = new ConcurrentHashMap<>();
    final Set<Long> loading = ConcurrentHashMap.newKeySet();
    volatile ModelConfig config = ModelConfig.DEFAULT;
    volatile TrafficPolicy traffic = new TrafficPolicy(null, null);
    volatile String platform = "";

    ModelEntry(String name) {
      this.name = name;
    }

    /** Copy-on-write so readers never lock. Callers hold the entry's monitor. */
    void put(VersionHandle h) {
      TreeMap<Long, VersionHandle> copy = new TreeMap<>(versions);
      copy.put(h.version, h);
      versions = Collections.unmodifiableNavigableMap(copy);
    }

    void remove(long version) {
      TreeMap<Long, VersionHandle> copy = new TreeMap<>(versions);
      copy.remove(version);
      versions = Collections.unmodifiableNavigableMap(copy);
    }
  }

  private static final class VersionHandle {
    final String name;
    final long version;
    final String versionString;
    final List<LoadedModel> instances;
    final ModelSignature signature;
    final Scheduler scheduler;
    final long defaultTimeoutNanos;
    final int capacity;
    final FileStamp file;
    final AtomicInteger inFlight = new AtomicInteger();
    volatile ModelState state = ModelState.READY;

    VersionHandle(
        String name,
        long version,
        List<LoadedModel> instances,
        Scheduler scheduler,
        long defaultTimeoutNanos,
        int capacity,
        FileStamp file) {
      this.file = file;
      this.capacity = capacity;
      this.name = name;
      this.version = version;
      this.versionString = Long.toString(version);
      this.instances = List.copyOf(instances);
      this.signature = instances.get(0).signature();
      this.scheduler = scheduler;
      this.defaultTimeoutNanos = defaultTimeoutNanos;
    }

    long defaultDeadline(long enqueued) {
      return defaultTimeoutNanos == 0 ? 0 : enqueued + defaultTimeoutNanos;
    }

    void close() {
      scheduler.close();
      instances.forEach(LoadedModel::close);
    }
  }
}
