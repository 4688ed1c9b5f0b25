package dev.scoreline.bench.batch;

import static org.apache.spark.sql.functions.col;

import dev.scoreline.batch.DotProductTopK;
import dev.scoreline.batch.Exclusions;
import dev.scoreline.batch.TopKBlock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.recommendation.ALSModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The baseline: Spark MLlib {@code ALSModel.recommendForAllUsers(k)} in {@code local[N]} on the
 * same factors, set up as in shared/reference/spark-als-anchor.md: an {@code ALSModel} built from
 * cached factor DataFrames (no training), ALS's default block size 4096, the result run to the
 * built-in {@code noop} sink (the whole plan, no I/O). Factor caching is not timed.
 */
final class SparkPhase {
  /**
   * The options Spark's launcher adds ({@code JavaModuleOptions.DEFAULT_MODULE_OPTIONS} of Spark
   * 4.0.1); an embedded driver passes them itself. {@code jdk.incubator.vector} lets netlib use its
   * VectorBLAS instead of scalar Java BLAS.
   */
  static final List<String> JVM_FLAGS =
      List.of(
          "-XX:+IgnoreUnrecognizedVMOptions",
          "--add-modules=jdk.incubator.vector",
          "--add-opens=java.base/java.lang=ALL-UNNAMED",
          "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
          "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
          "--add-opens=java.base/java.io=ALL-UNNAMED",
          "--add-opens=java.base/java.net=ALL-UNNAMED",
          "--add-opens=java.base/java.nio=ALL-UNNAMED",
          "--add-opens=java.base/java.util=ALL-UNNAMED",
          "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
          "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
          "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
          "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
          "--add-opens=java.base/sun.nio.cs=ALL-UNNAMED",
          "--add-opens=java.base/sun.security.action=ALL-UNNAMED",
          "--add-opens=java.base/sun.util.calendar=ALL-UNNAMED",
          "--add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
          "-Djdk.reflect.useDirectMethodHandle=false",
          "-Dio.netty.tryReflectionSetAccessible=true");

  private SparkPhase() {}

  static void run(Map<String, String> a) throws Exception {
    int users = BatchBenchmark.intArg(a, "users");
    int items = BatchBenchmark.intArg(a, "items");
    int dim = BatchBenchmark.intArg(a, "dim");
    int k = BatchBenchmark.intArg(a, "k");
    int reps = BatchBenchmark.intArg(a, "sparkReps");
    int threads = BatchBenchmark.intArg(a, "threads");
    Factors f = Factors.generate(users, items, dim, 42);

    SparkSession spark =
        SparkSession.builder()
            .master("local[" + threads + "]")
            .appName("scoreline-als-baseline")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.ui.enabled", "false")
            .getOrCreate();
    try {
      System.out.println(
          "RESULT kind=spark-info version="
              + spark.version()
              + " blas="
              + dev.ludovic.netlib.blas.JavaBLAS.getInstance().getClass().getSimpleName());
      StructType schema =
          new StructType()
              .add("id", DataTypes.IntegerType, false)
              .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false);
      Dataset<Row> userDf = spark.createDataFrame(rows(f.user(), users, dim), schema).cache();
      Dataset<Row> itemDf = spark.createDataFrame(rows(f.item(), items, dim), schema).cache();
      userDf.count();
      itemDf.count();
      ALSModel model =
          new ALSModel("als-baseline", dim, userDf, itemDf)
              .setUserCol("user")
              .setItemCol("item")
              .setPredictionCol("prediction")
              .setBlockSize(4096);

      BatchBenchmark.reps(
          a,
          "spark-als",
          reps,
          () -> {
            model.recommendForAllUsers(k).write().format("noop").mode("overwrite").save();
            return "";
          });
      check(spark, model, userDf, f, k);
    } finally {
      spark.stop();
    }
  }

  private static List<Row> rows(float[] factors, int n, int dim) {
    List<Row> rows = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      rows.add(RowFactory.create(i, Arrays.copyOfRange(factors, i * dim, (i + 1) * dim)));
    }
    return rows;
  }

  /** Spark's lists of users 0..19 against Scoreline's: same items at every rank? */
  private static void check(
      SparkSession spark, ALSModel model, Dataset<Row> userDf, Factors f, int k) {
    int n = Math.min(20, f.users());
    List<Row> recs =
        model
            .recommendForUserSubset(userDf.filter(col("id").lt(n)).select(col("id").as("user")), k)
            .collectAsList();
    TopKBlock ours =
        DotProductTopK.referenceTopK(
            f.item(), f.items(), f.dim(), f.user(), 0, n, k, Exclusions.NONE);
    int rankMismatches = 0;
    double maxScoreDiff = 0;
    for (Row r : recs) {
      int user = r.getInt(0);
      List<Row> list = r.getList(1);
      for (int rank = 0; rank < list.size(); rank++) {
        Row entry = list.get(rank);
        if (entry.getInt(0) != ours.item(user, rank)) {
          rankMismatches++;
        }
        maxScoreDiff = Math.max(maxScoreDiff, Math.abs(entry.getFloat(1) - ours.score(user, rank)));
      }
    }
    System.out.println(
        "RESULT kind=spark-check users="
            + recs.size()
            + " rankMismatches="
            + rankMismatches
            + " maxScoreDiff="
            + maxScoreDiff);
  }
}
