package dev.scoreline.spark;

import static java.util.Objects.requireNonNull;

import dev.scoreline.batch.BatchRunSummary;
import dev.scoreline.batch.SnapshotWriter;
import dev.scoreline.core.config.ProjectConfig;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.kv.KvStore;
import dev.scoreline.core.progress.ProgressBar;
import dev.scoreline.core.progress.ProgressListener;
import dev.scoreline.core.surface.Surface;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.spark.JobExecutionStatus;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkJobInfo;
import org.apache.spark.SparkStageInfo;
import org.apache.spark.SparkStatusTracker;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Option;

/**
 * Runs a surface in batch on Apache Spark: the same job as {@code scoreline batch <surface>}, with
 * the entities' partitions scored on the executors.
 *
 * <pre>
 * spark-submit --class dev.scoreline.spark.SparkBatchJob scoreline-spark.jar \
 *   --project /shared/my-recs --surface home-feed-daily [--partitions N] [--entities FILE]
 *   [--keep N] [--write-batch N] [--concurrency N] [--fresh]
 * </pre>
 *
 * <h2>How a run goes</h2>
 *
 * <ol>
 *   <li>The driver opens the project (from a path every executor can read: a shared file system),
 *       loads the surface and its model (failing early on a bad definition or model), and lists the
 *       entities by the local engine's rule: every entity of the view named by {@code
 *       batch.entities} in the offline store, or the lines of {@code --entities FILE}.
 *   <li>It makes an RDD of the entity keys with N partitions and runs the partitions through {@link
 *       SnapshotWriter}, the local engine's writer: the run manifest, resume, publish, rollback and
 *       history are the same. Each partition is one Spark job; its task ({@link PartitionScorer})
 *       opens the project once per executor JVM ({@link ScoringContext}: one ONNX Runtime session,
 *       one Redis connection, shared by the executor's tasks), runs the shared pipeline for each
 *       entity and writes the ranked lists into the run's unpublished snapshot namespace with
 *       batched {@code putAll} (pipelined Redis {@code MSET}s).
 *   <li>The writer records each finished partition and publishes (an atomic pointer flip) only
 *       after every partition succeeded, keeping {@code --keep} snapshots for rollback. After a
 *       failed partition the driver cancels the run's other jobs and waits for their tasks to stop;
 *       nothing is published, the current snapshot stays current, and running the same job again
 *       resumes: partitions recorded as done are skipped. {@code --fresh} drops an unfinished run
 *       (its namespace and manifest) instead, and also drops the run it starts if that fails.
 * </ol>
 *
 * <p>The online store must be Redis, shared by the driver and every executor; an embedded RocksDB
 * store belongs to one process, so it is accepted only with a {@code local[N]} master, where the
 * driver and the tasks share one JVM and one opened store.
 */
public final class SparkBatchJob {
  private static final Logger log = LoggerFactory.getLogger(SparkBatchJob.class);
  private static final DateTimeFormatter ID_FORMAT =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

  /** Partitions running at once when not said: more waiting jobs cost driver threads only. */
  static final int MAX_DEFAULT_CONCURRENCY = 512;

  private SparkBatchJob() {}

  /**
   * What to run.
   *
   * @param project the project directory, at the same path on the driver and every executor
   * @param surface the surface to run
   * @param partitions partitions of the entities (0: the larger of 64 and twice Spark's default
   *     parallelism); the unit of parallelism and of resume
   * @param entitiesFile a CSV file of entity keys (header: the key columns), or null: every entity
   *     of the surface's {@code batch.entities} view in the offline store
   * @param keep published snapshots kept for rollback, the new one included
   * @param writeBatch entries per {@code putAll} (one pipelined round trip to Redis)
   * @param concurrency partitions (Spark jobs) submitted at once (0: all, up to {@value
   *     #MAX_DEFAULT_CONCURRENCY})
   * @param fresh drop an unfinished run instead of resuming it, and drop this run if it fails
   */
  public record Options(
      Path project,
      String surface,
      int partitions,
      Path entitiesFile,
      int keep,
      int writeBatch,
      int concurrency,
      boolean fresh) {
    public Options {
      requireNonNull(project, "project is null");
      requireNonNull(surface, "surface is null");
      positive("partitions", partitions, 0);
      positive("keep", keep, 1);
      positive("write-batch", writeBatch, 1);
      positive("concurrency", concurrency, 0);
    }

    /** Defaults: partitions and concurrency automatic, keep 3, batches of 1,024, resume. */
    public static Options of(Path project, String surface) {
      return new Options(project, surface, 0, null, 3, 1024, 0, false);
    }

    public Options withPartitions(int n) {
      return new Options(project, surface, n, entitiesFile, keep, writeBatch, concurrency, fresh);
    }

    public Options withEntitiesFile(Path f) {
      return new Options(project, surface, partitions, f, keep, writeBatch, concurrency, fresh);
    }

    public Options withKeep(int n) {
      return new Options(
          project, surface, partitions, entitiesFile, n, writeBatch, concurrency, fresh);
    }

    public Options withWriteBatch(int n) {
      return new Options(project, surface, partitions, entitiesFile, keep, n, concurrency, fresh);
    }

    public Options withConcurrency(int n) {
      return new Options(project, surface, partitions, entitiesFile, keep, writeBatch, n, fresh);
    }

    public Options withFresh(boolean f) {
      return new Options(
          project, surface, partitions, entitiesFile, keep, writeBatch, concurrency, f);
    }

    private static void positive(String name, int value, int min) {
      if (value < min) {
        throw ScorelineException.userError(
            name, "--" + name + " must be at least " + min + ", got " + value);
      }
    }
  }

  /**
   * What a published run did.
   *
   * @param name the snapshot name (the surface's batch snapshot)
   * @param snapshotId the published snapshot, now current
   * @param partitions partitions of the run
   * @param resumedPartitions partitions an earlier, failed run had completed (not recomputed)
   * @param entities entities in the snapshot
   * @param computedEntities entities this run scored and wrote
   * @param computedScores items ranked by this run
   * @param duration wall time of the run on the driver, listing the entities and publish included
   * @param kept published snapshots kept for rollback, newest (current) first
   */
  public record Result(
      String name,
      String snapshotId,
      int partitions,
      int resumedPartitions,
      long entities,
      long computedEntities,
      long computedScores,
      Duration duration,
      List<String> kept) {
    public Result {
      kept = List.copyOf(kept);
    }

    /** Entities scored per second of this run. */
    public double entitiesPerSecond() {
      return computedEntities / Math.max(1e-9, duration.toNanos() / 1e9);
    }
  }

  /**
   * Runs a surface over every entity on {@code sc} and publishes the snapshot.
   *
   * @throws ScorelineException USER_ERROR for a bad project, surface or option (before any job
   *     runs); the failing partition's code (else INTERNAL) when a partition fails: nothing is
   *     published and the current snapshot stays current
   */
  public static Result run(JavaSparkContext sc, Options o) {
    return run(sc, o, ProgressListener.NONE);
  }

  /** {@link #run(JavaSparkContext, Options)}, reporting entities as partitions finish. */
  public static Result run(JavaSparkContext sc, Options o, ProgressListener progress) {
    long start = System.nanoTime();
    SparkContext spark = sc.sc();
    Path dir = o.project().toAbsolutePath().normalize();
    checkStore(ProjectConfig.load(dir), spark.isLocal(), spark.master());
    String runId = UUID.randomUUID().toString();
    // in local mode the tasks run in this JVM and use this very context (one RocksDB opening)
    ScoringContext context = ScoringContext.get(dir.toString(), o.surface(), runId);
    Broadcast<ModelBundle> model = null;
    try {
      // the model's files go to the executors once, as a broadcast: each executor loads the
      // driver's files, not whatever the shared repository holds when its first task starts
      String modelName = context.surface().spec().model().name();
      ModelBundle bundle = ModelBundle.read(context.stores().dir().resolve("models"), modelName);
      model = sc.broadcast(bundle);
      log.info(
          "broadcast model {} ({} files, {} bytes) for run {}",
          modelName,
          bundle.paths().size(),
          bundle.bytes(),
          runId);
      return run(sc, o, progress, dir, runId, context, model, start);
    } finally {
      if (model != null) {
        model.destroy();
      }
      ScoringContext.release(runId);
    }
  }

  private static Result run(
      JavaSparkContext sc,
      Options o,
      ProgressListener progress,
      Path dir,
      String runId,
      ScoringContext context,
      Broadcast<ModelBundle> modelFiles,
      long start) {
    SparkContext spark = sc.sc();
    Surface surface = context.surface();
    List<Map<String, Object>> entities =
        o.entitiesFile() != null
            ? Entities.read(surface, o.entitiesFile())
            : Entities.scan(context.stores(), surface);
    if (entities.isEmpty()) {
      throw ScorelineException.userError(
          "entities", "no entities to score for surface '" + surface.name() + "'");
    }
    String model = surface.spec().model().name();
    String inputsVersion = model + "/" + context.modelVersion();
    int asked = o.partitions() > 0 ? o.partitions() : Math.max(64, 2 * spark.defaultParallelism());
    int partitions = SparkSnapshotSource.partitions(asked, entities.size());
    int concurrency =
        o.concurrency() > 0
            ? Math.min(o.concurrency(), partitions)
            : Math.min(partitions, MAX_DEFAULT_CONCURRENCY);
    String name = surface.batchSnapshot();
    KvStore kv = context.stores().kvStore();
    SnapshotWriter writer = new SnapshotWriter(kv);
    if (o.fresh()) {
      writer
          .abandon(name)
          .ifPresent(id -> log.info("batch {}: dropped the unfinished run {}", name, id));
    }

    String jobTag = "scoreline-batch-" + runId;
    int size = surface.spec().size();
    String fingerprint =
        SparkSnapshotSource.fingerprint(
            entities, surface.name() + '\0' + surface.spec() + '\0' + size + '\0' + inputsVersion);
    String id = snapshotId(writer, kv, name, partitions, fingerprint);
    JavaRDD<long[]> scored =
        sc.parallelize(entities, partitions)
            .mapPartitionsWithIndex(
                new PartitionScorer(
                    modelFiles,
                    dir.toString(),
                    surface.name(),
                    runId,
                    context.modelVersion(),
                    KvStore.snapshotNamespace(name, id),
                    size,
                    inputsVersion,
                    o.writeBatch()),
                false);
    SparkSnapshotSource source =
        new SparkSnapshotSource(
            spark, scored, name, entities.size(), partitions, fingerprint, jobTag);
    log.info(
        "batch {}: {} entities in {} partitions ({} at once) on {}, snapshot {}",
        name,
        entities.size(),
        partitions,
        concurrency,
        spark.master(),
        id);
    BatchRunSummary s;
    try {
      s =
          writer.write(
              name,
              source,
              SnapshotWriter.Options.defaults()
                  .withSnapshotId(id)
                  .withKeep(o.keep())
                  .withThreads(concurrency)
                  .withWriteBatch(o.writeBatch())
                  .withProgress(progress));
    } catch (RuntimeException | Error e) {
      source.cancel();
      stopJobs(spark, jobTag);
      if (o.fresh()) {
        writer
            .abandon(name)
            .ifPresent(dropped -> log.info("batch {}: dropped the failed run {}", name, dropped));
      }
      throw e;
    }
    return new Result(
        name,
        s.snapshotId(),
        s.partitions(),
        s.resumedPartitions(),
        entities.size(),
        s.computedEntities(),
        s.computedScores(),
        Duration.ofNanos(System.nanoTime() - start),
        s.kept());
  }

  /** RocksDB belongs to one process: only a local master shares it between driver and tasks. */
  static void checkStore(ProjectConfig config, boolean local, String master) {
    ProjectConfig.OnlineStore store = config.onlineStore();
    if (store.type().equals("redis")) {
      String uri = store.uri();
      if (!local && (uri.contains("127.0.0.1") || uri.contains("localhost"))) {
        log.warn(
            "online-store uri {} names the loopback address: each executor will connect to"
                + " its own machine; use an address every executor can reach",
            uri);
      }
      return;
    }
    if (!local) {
      throw ScorelineException.userError(
          "online-store",
          "the project's online store is "
              + store.type()
              + " (embedded, one process), but master "
              + master
              + " runs executors in other processes: set online-store type: redis with a uri"
              + " every executor can reach in scoreline.yaml, or run with --master local[N]");
    }
  }

  /** The pending run's id when it matches this run (resume), else a new id named after now. */
  private static String snapshotId(
      SnapshotWriter writer, KvStore kv, String name, int partitions, String fingerprint) {
    Optional<SnapshotWriter.PendingRun> pending = writer.pending(name);
    if (pending.isPresent()
        && pending.get().partitions() == partitions
        && pending.get().fingerprint().equals(fingerprint)) {
      log.info(
          "batch {}: resuming snapshot {} ({} of {} partitions done)",
          name,
          pending.get().snapshotId(),
          pending.get().completed(),
          pending.get().partitions());
      return pending.get().snapshotId();
    }
    List<String> published = kv.snapshots(name);
    String base = ID_FORMAT.format(Instant.now());
    String id = base;
    for (int n = 2;
        published.contains(id) || (pending.isPresent() && pending.get().snapshotId().equals(id));
        n++) {
      id = base + "-" + n;
    }
    return id;
  }

  /**
   * Cancels the run's jobs and waits (up to a minute) until none of their tasks runs, so that no
   * task writes after a failed run returned.
   */
  static void stopJobs(SparkContext spark, String jobTag) {
    spark.cancelJobsWithTag(jobTag, "scoreline batch run failed");
    SparkStatusTracker status = spark.statusTracker();
    long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
    while (System.nanoTime() < deadline) {
      boolean running = false;
      for (int job : status.getJobIdsForTag(jobTag)) {
        Option<SparkJobInfo> info = status.getJobInfo(job);
        if (info.isEmpty()) {
          continue;
        }
        if (info.get().status() == JobExecutionStatus.RUNNING) {
          running = true;
          spark.cancelJob(job, "scoreline batch run failed");
        }
        for (int stage : info.get().stageIds()) {
          Option<SparkStageInfo> si = status.getStageInfo(stage);
          running |= si.isDefined() && si.get().numActiveTasks() > 0;
        }
      }
      if (!running) {
        return;
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    log.warn("tasks of the failed run {} were still running after a minute", jobTag);
  }

  // ------------------------------------------------------------------ spark-submit entry point

  /** {@code spark-submit --class dev.scoreline.spark.SparkBatchJob scoreline-spark.jar ...}. */
  public static void main(String[] args) {
    int code = main(args, System.out, System.err);
    if (code != 0) {
      System.exit(code);
    }
  }

  static final String USAGE =
      "usage: spark-submit --class dev.scoreline.spark.SparkBatchJob scoreline-spark.jar"
          + " --project DIR --surface NAME [--partitions N] [--entities FILE] [--keep N]"
          + " [--write-batch N] [--concurrency N] [--fresh]";

  /** Runs the job with the command-line arguments; returns the exit code (0 ok, 2 usage, 1). */
  static int main(String[] args, PrintStream out, PrintStream err) {
    Options o;
    try {
      o = parse(args);
    } catch (ScorelineException e) {
      err.println("error: " + e.getMessage());
      err.println(USAGE);
      return 2;
    }
    if (o == null) {
      out.println(USAGE);
      return 0;
    }
    try {
      // before any executor is asked for: a store the cluster cannot share fails at once
      String master = new SparkConf().get("spark.master", "local[*]");
      checkStore(
          ProjectConfig.load(o.project().toAbsolutePath().normalize()),
          master.startsWith("local"),
          master);
    } catch (ScorelineException | IllegalArgumentException e) {
      err.println("error: " + e.getMessage());
      return 2;
    }
    SparkSession session =
        SparkSession.builder().appName("scoreline batch " + o.surface()).getOrCreate();
    try {
      JavaSparkContext sc = JavaSparkContext.fromSparkContext(session.sparkContext());
      Result r =
          run(sc, o, new ProgressBar(err, "entities", System.console() != null, System::nanoTime));
      out.printf(
          "published snapshot %s of %s: %,d entities (%,d computed, %d of %d partitions resumed)"
              + " in %.1f s, %,.0f entities/s%n",
          r.snapshotId(),
          r.name(),
          r.entities(),
          r.computedEntities(),
          r.resumedPartitions(),
          r.partitions(),
          r.duration().toMillis() / 1000.0,
          r.entitiesPerSecond());
      out.println("kept for rollback: " + r.kept());
      return 0;
    } catch (ScorelineException e) {
      err.println("error: " + e.getMessage());
      log.debug("batch run failed", e);
      return e.code() == ErrorCode.USER_ERROR || e.code() == ErrorCode.NOT_FOUND ? 2 : 1;
    } finally {
      session.stop();
    }
  }

  /** The options of a command line; null when help was asked for. */
  static Options parse(String[] args) {
    Path project = null;
    String surface = null;
    int partitions = 0;
    Path entities = null;
    int keep = 3;
    int writeBatch = 1024;
    int concurrency = 0;
    boolean fresh = false;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "-h", "--help" -> {
          return null;
        }
        case "--fresh" -> fresh = true;
        case "--project" -> project = Path.of(value(args, ++i, a));
        case "--surface" -> surface = value(args, ++i, a);
        case "--partitions" -> partitions = number(args, ++i, a);
        case "--entities" -> entities = Path.of(value(args, ++i, a));
        case "--keep" -> keep = number(args, ++i, a);
        case "--write-batch" -> writeBatch = number(args, ++i, a);
        case "--concurrency" -> concurrency = number(args, ++i, a);
        default -> throw ScorelineException.userError("args", "unknown argument '" + a + "'");
      }
    }
    if (project == null || surface == null) {
      throw ScorelineException.userError("args", "--project and --surface are required");
    }
    return new Options(
        project, surface, partitions, entities, keep, writeBatch, concurrency, fresh);
  }

  private static String value(String[] args, int i, String option) {
    if (i >= args.length) {
      throw ScorelineException.userError("args", option + " needs a value");
    }
    return args[i];
  }

  private static int number(String[] args, int i, String option) {
    String v = value(args, i, option);
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw ScorelineException.userError("args", option + " needs a number, got '" + v + "'");
    }
  }
}
