package dev.scoreline.retrieval;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.progress.ProgressListener;
import dev.scoreline.core.retrieval.Neighbor;
import dev.scoreline.core.retrieval.Similarity;
import dev.scoreline.core.retrieval.VectorIndex;
import io.github.jbellis.jvector.disk.MappedChunkReader;
import io.github.jbellis.jvector.disk.ReaderSupplier;
import io.github.jbellis.jvector.graph.GraphIndexBuilder;
import io.github.jbellis.jvector.graph.GraphSearcher;
import io.github.jbellis.jvector.graph.ImmutableGraphIndex;
import io.github.jbellis.jvector.graph.ListRandomAccessVectorValues;
import io.github.jbellis.jvector.graph.RandomAccessVectorValues;
import io.github.jbellis.jvector.graph.SearchResult;
import io.github.jbellis.jvector.graph.disk.OnDiskGraphIndex;
import io.github.jbellis.jvector.graph.similarity.BuildScoreProvider;
import io.github.jbellis.jvector.graph.similarity.DefaultSearchScoreProvider;
import io.github.jbellis.jvector.graph.similarity.SearchScoreProvider;
import io.github.jbellis.jvector.util.Bits;
import io.github.jbellis.jvector.vector.VectorSimilarityFunction;
import io.github.jbellis.jvector.vector.VectorizationProvider;
import io.github.jbellis.jvector.vector.types.VectorFloat;
import io.github.jbellis.jvector.vector.types.VectorTypeSupport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ForkJoinPool;
import java.util.function.LongPredicate;
import java.util.stream.IntStream;

/**
 * An approximate {@link VectorIndex} over a jvector graph (DiskANN/Vamana with an HNSW-style
 * hierarchy). Item ids are arbitrary longs; the graph's node ordinals are their positions in the
 * build order.
 *
 * <p><b>Scores.</b> The graph search ranks candidates with jvector's normalized similarities; the
 * final {@code k} are then rescored with the stored vectors, so every {@link Neighbor#score()} is
 * exactly {@link Similarity#score(float[], float[])} of the query and the item (negative squared
 * distance for {@link Similarity#EUCLIDEAN}), best first.
 *
 * <p><b>Dot product.</b> jvector's dot-product similarity, {@code (1 + q.x) / 2}, assumes unit
 * vectors: with unnormalized vectors (factorization and two-tower embeddings) it goes negative, and
 * jvector's graph construction drops candidates scoring below 0. So the graph of a {@link
 * Similarity#DOT_PRODUCT} index holds the item vectors divided by (slightly more than) the largest
 * item norm, and searches with the unit-length query: every inner product is then within [-1, 1],
 * and the order of {@code q.x} over the items is unchanged by the two positive scalings. The graph
 * vectors are a second copy of the items (the originals answer {@link #vector} and the exact
 * rescoring). A Euclidean graph over the classic augmentation {@code [x, sqrt(M^2 - |x|^2)]} was
 * measured too and reached only 0.93 recall@10 where this reaches 1.0 (same beam, same data).
 *
 * <p><b>Filters.</b> The filter is applied to results during the graph search (jvector's accept
 * bits), so the search goes on until {@code k} accepted items are found; when the graph search
 * still returns fewer than {@code k}, the index answers with an exact scan of the accepted items.
 * Very selective filters therefore cost up to a full scan.
 *
 * <p><b>Threads.</b> Searches are thread-safe: jvector's {@code GraphSearcher} is not, so each
 * search borrows one from a pool (created on demand, at most one per concurrently searching thread)
 * and returns it. {@link #close()} must not run while searches are in flight.
 */
public final class JVectorIndex implements VectorIndex {
  /** The {@link #kind()} of this index and of its saved manifest. */
  public static final String KIND = "jvector";

  private static final VectorTypeSupport VTS =
      VectorizationProvider.getInstance().getVectorTypeSupport();
  private static final int BUILD_CHUNK = 512;

  private final Similarity similarity;
  private final int dimension;
  private final long[] ids;
  private final LongIntMap ordinals;

  /** Row i: the vector of ids[i], as added. */
  private final float[][] rows;

  /** The vectors of the graph's space: the rows, or scaled copies (dot product). */
  private final RandomAccessVectorValues vectors;

  private final VectorSimilarityFunction function;
  private final ImmutableGraphIndex graph;
  private final ReaderSupplier storage;
  private final JVectorOptions options;
  private final ConcurrentLinkedQueue<GraphSearcher> idleSearchers = new ConcurrentLinkedQueue<>();
  private volatile boolean closed;

  private JVectorIndex(
      Similarity similarity,
      int dimension,
      long[] ids,
      LongIntMap ordinals,
      float[][] rows,
      RandomAccessVectorValues vectors,
      ImmutableGraphIndex graph,
      ReaderSupplier storage,
      JVectorOptions options) {
    this.similarity = similarity;
    this.dimension = dimension;
    this.ids = ids;
    this.ordinals = ordinals;
    this.rows = rows;
    this.vectors = vectors;
    this.function = graphFunction(similarity);
    this.graph = graph;
    this.storage = storage;
    this.options = options;
  }

  // ---------------------------------------------------------------- build

  /**
   * Builds the graph over {@code data} (row-major, {@code ids.length * dimension} floats).
   *
   * @param progress receives {@code start}, one {@code advance} per batch of inserted nodes, and
   *     {@code finish}
   */
  static JVectorIndex build(
      Similarity similarity,
      int dimension,
      long[] ids,
      float[] data,
      LongIntMap ordinals,
      JVectorOptions options,
      ProgressListener progress) {
    float[][] rows = new float[ids.length][];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = Arrays.copyOfRange(data, i * dimension, (i + 1) * dimension);
    }
    RandomAccessVectorValues ravv = randomAccess(graphRows(similarity, rows));
    BuildScoreProvider scores =
        BuildScoreProvider.randomAccessScoreProvider(ravv, graphFunction(similarity));
    int n = ids.length;
    ForkJoinPool pool = new ForkJoinPool(options.threads());
    progress.start("build jvector index", n);
    try (GraphIndexBuilder builder =
        GraphIndexBuilder.builder(scores, dimension, options.maxDegree())
            .withBeamWidth(options.beamWidth())
            .withNeighborOverflow(options.neighborOverflow())
            .withAlpha(options.alpha())
            .withSimdExecutor(pool)
            .withParallelExecutor(pool)
            .build()) {
      int chunks = (n + BUILD_CHUNK - 1) / BUILD_CHUNK;
      pool.submit(
              () ->
                  IntStream.range(0, chunks)
                      .parallel()
                      .forEach(
                          c -> {
                            int from = c * BUILD_CHUNK;
                            int to = Math.min(n, from + BUILD_CHUNK);
                            for (int node = from; node < to; node++) {
                              builder.addGraphNode(node, ravv.getVector(node));
                            }
                            progress.advance(to - from);
                          }))
          .join();
      builder.cleanup();
      return new JVectorIndex(
          similarity, dimension, ids, ordinals, rows, ravv, builder.getGraph(), null, options);
    } catch (IOException e) {
      throw new ScorelineException(ErrorCode.INTERNAL, "jvector graph build failed: " + e, e);
    } finally {
      progress.finish();
      pool.shutdown();
    }
  }

  /**
   * The graph-space vectors: for dot product the rows divided by {@code 1.0001 * M} ({@code M} the
   * largest norm, the margin absorbing rounding), so every inner product of two of them, or of one
   * and a unit query, is within [-1, 1]; otherwise the rows themselves.
   */
  private static float[][] graphRows(Similarity similarity, float[][] rows) {
    if (similarity != Similarity.DOT_PRODUCT) {
      return rows;
    }
    double max = 0;
    for (float[] r : rows) {
      max = Math.max(max, squaredNorm(r));
    }
    double scale = max == 0 ? 1 : 1 / (Math.sqrt(max) * 1.0001);
    float[][] scaled = new float[rows.length][];
    for (int i = 0; i < rows.length; i++) {
      float[] r = rows[i];
      float[] g = new float[r.length];
      for (int j = 0; j < r.length; j++) {
        g[j] = (float) (r[j] * scale);
      }
      scaled[i] = g;
    }
    return scaled;
  }

  private static double squaredNorm(float[] v) {
    double s = 0;
    for (float x : v) {
      s += (double) x * x;
    }
    return s;
  }

  private static RandomAccessVectorValues randomAccess(float[][] rows) {
    List<VectorFloat<?>> list = new ArrayList<>(rows.length);
    for (float[] r : rows) {
      list.add(VTS.createFloatVector(r));
    }
    return new ListRandomAccessVectorValues(list, rows.length == 0 ? 1 : rows[0].length);
  }

  /** The jvector similarity the graph uses for {@code similarity} (see the class comment). */
  private static VectorSimilarityFunction graphFunction(Similarity similarity) {
    switch (similarity) {
      case DOT_PRODUCT:
        return VectorSimilarityFunction.DOT_PRODUCT;
      case EUCLIDEAN:
        return VectorSimilarityFunction.EUCLIDEAN;
      case COSINE:
        return VectorSimilarityFunction.COSINE;
      default:
        throw new AssertionError(similarity);
    }
  }

  /** How the graph's vectors relate to the items', recorded in the manifest. */
  private static String graphSpace(Similarity similarity) {
    switch (similarity) {
      case DOT_PRODUCT:
        return "dot-product-scaled";
      case EUCLIDEAN:
        return "euclidean";
      case COSINE:
        return "cosine";
      default:
        throw new AssertionError(similarity);
    }
  }

  // ---------------------------------------------------------------- save and load

  /**
   * Saves this index to {@code dir} (created when missing; a previous index there is replaced): the
   * manifest, {@code ids.bin}, {@code vectors.fvecs} and jvector's on-disk graph {@code
   * graph.jvector}.
   *
   * @throws ScorelineException USER_ERROR when the files cannot be written
   */
  public void save(Path dir) {
    requireNonNull(dir, "dir is null");
    ensureOpen();
    try {
      IndexFiles.prepare(dir);
      long idsCrc = IndexFiles.writeIds(dir, ids, ids.length);
      long vectorsCrc =
          IndexFiles.writeVectors(
              dir,
              ids.length,
              dimension,
              new IndexFiles.Rows() {
                @Override
                public float[] array(int ord) {
                  return rows[ord];
                }

                @Override
                public int offset(int ord) {
                  return 0;
                }
              });
      Path graphFile = dir.resolve(IndexFiles.GRAPH);
      OnDiskGraphIndex.write(graph, vectors, graphFile);
      Map<String, String> params = new LinkedHashMap<>();
      params.put("jvector.max-degree", Integer.toString(options.maxDegree()));
      params.put("jvector.beam-width", Integer.toString(options.beamWidth()));
      params.put("jvector.neighbor-overflow", Float.toString(options.neighborOverflow()));
      params.put("jvector.alpha", Float.toString(options.alpha()));
      params.put("jvector.hierarchy", Boolean.toString(graph.isHierarchical()));
      params.put("jvector.graph-space", graphSpace(similarity));
      params.put("jvector.graph-crc32", Long.toString(IndexFiles.crc32(graphFile)));
      IndexFiles.writeManifest(
          dir,
          new IndexFiles.Manifest(
              KIND, similarity, dimension, ids.length, idsCrc, vectorsCrc, params));
    } catch (IOException e) {
      throw IndexFiles.saveFailed(dir, e);
    }
  }

  /**
   * Opens the jvector index saved in {@code dir}. The graph is memory-mapped; ids and vectors are
   * read into the heap.
   *
   * @param searchOptions supplies the search parameters ({@code searchBeamWidth}, {@code
   *     overquery}); the build parameters come from the manifest
   * @throws ScorelineException NOT_FOUND when there is no index in {@code dir}, USER_ERROR naming
   *     the file when it is damaged, of another format version or of another kind
   */
  public static JVectorIndex load(Path dir, JVectorOptions searchOptions) {
    requireNonNull(searchOptions, "searchOptions is null");
    IndexFiles.Manifest m = IndexFiles.readManifest(dir);
    Path manifestFile = dir.resolve(IndexFiles.MANIFEST);
    if (!KIND.equals(m.kind())) {
      throw ScorelineException.userError(
          manifestFile.toString(),
          manifestFile
              + ": kind="
              + m.kind()
              + ", not "
              + KIND
              + "; open it with DefaultVectorIndexes, which opens any kind");
    }
    String space = m.param(dir, "jvector.graph-space");
    if (!space.equals(graphSpace(m.similarity()))) {
      throw IndexFiles.corrupt(
          manifestFile,
          "jvector.graph-space="
              + space
              + " is not the "
              + graphSpace(m.similarity())
              + " this Scoreline uses for "
              + IndexFiles.name(m.similarity())
              + "; rebuild the index");
    }
    int maxDegree = m.intParam(dir, "jvector.max-degree");
    int beamWidth = m.intParam(dir, "jvector.beam-width");
    float overflow = m.floatParam(dir, "jvector.neighbor-overflow");
    float alpha = m.floatParam(dir, "jvector.alpha");
    JVectorOptions options;
    try {
      options =
          new JVectorOptions(
              maxDegree,
              beamWidth,
              overflow,
              alpha,
              searchOptions.searchBeamWidth(),
              searchOptions.overquery(),
              searchOptions.buildThreads());
    } catch (ScorelineException e) {
      // the search options were valid when constructed: the recorded build parameters are not
      throw IndexFiles.corrupt(manifestFile, e.getMessage());
    }
    long graphCrc;
    try {
      graphCrc = Long.parseLong(m.param(dir, "jvector.graph-crc32"));
    } catch (NumberFormatException e) {
      throw IndexFiles.corrupt(manifestFile, "jvector.graph-crc32 is not an integer");
    }

    long[] ids = IndexFiles.readIds(dir, m);
    LongIntMap ordinals = ExactIndex.ordinals(dir, ids);
    int dim = m.dimension();
    float[][] rows = new float[m.count()][];
    IndexFiles.readVectors(dir, m, (ord, row) -> rows[ord] = row.clone());

    Path graphFile = dir.resolve(IndexFiles.GRAPH);
    if (!Files.isRegularFile(graphFile)) {
      throw IndexFiles.corrupt(
          graphFile, "the file is missing; the index is incomplete, build it again");
    }
    long actualCrc;
    try {
      actualCrc = IndexFiles.crc32(graphFile);
    } catch (IOException e) {
      throw IndexFiles.corrupt(graphFile, "it cannot be read (" + e + ")");
    }
    if (actualCrc != graphCrc) {
      throw IndexFiles.corrupt(
          graphFile, "its CRC-32 does not match the manifest (the file was modified or damaged)");
    }
    ReaderSupplier storage = null;
    try {
      // plain mapped chunks: works on Java 17 and for graph files over 2 GB
      storage = new MappedChunkReader.Supplier(graphFile);
      OnDiskGraphIndex graph = OnDiskGraphIndex.load(storage);
      int nodes = graph.size(0); // the base layer holds every node
      if (nodes != m.count()
          || graph.getIdUpperBound() != m.count()
          || graph.getDimension() != dim) {
        String found =
            "the graph has "
                + nodes
                + " nodes of dimension "
                + graph.getDimension()
                + ", the manifest says "
                + m.count()
                + " of dimension "
                + dim;
        graph.close();
        throw IndexFiles.corrupt(graphFile, found);
      }
      return new JVectorIndex(
          m.similarity(),
          dim,
          ids,
          ordinals,
          rows,
          randomAccess(graphRows(m.similarity(), rows)),
          graph,
          storage,
          options);
    } catch (IOException | RuntimeException e) {
      closeQuietly(storage);
      if (e instanceof ScorelineException) {
        throw (ScorelineException) e;
      }
      throw new ScorelineException(
          ErrorCode.USER_ERROR,
          graphFile.toString(),
          graphFile + " is not a valid jvector graph: " + e,
          e);
    }
  }

  // ---------------------------------------------------------------- VectorIndex

  @Override
  public String kind() {
    return KIND;
  }

  @Override
  public int dimension() {
    return dimension;
  }

  @Override
  public long[] ids() {
    return ids.clone();
  }

  @Override
  public int size() {
    return ids.length;
  }

  @Override
  public Similarity similarity() {
    return similarity;
  }

  /** The build parameters of the graph and the search parameters in use. */
  public JVectorOptions options() {
    return options;
  }

  @Override
  public boolean contains(long id) {
    return ordinals.get(id) >= 0;
  }

  @Override
  public float[] vector(long id) {
    int ord = ordinals.get(id);
    return ord < 0 ? null : rows[ord].clone();
  }

  /**
   * {@inheritDoc}
   *
   * <p>The candidate list holds {@link JVectorOptions#searchBeamWidth()} items, at least {@code k *
   * overquery}.
   */
  @Override
  public List<Neighbor> search(float[] query, int k, LongPredicate filter) {
    return search(query, k, filter, options.searchBeamFor(k));
  }

  /**
   * Searches with an explicit candidate list size (HNSW's {@code ef}; at least {@code k} is used):
   * larger is slower and finds more of the true nearest neighbors.
   */
  public List<Neighbor> search(float[] query, int k, LongPredicate filter, int searchBeamWidth) {
    ensureOpen();
    Scores.checkQuery(query, dimension);
    Scores.checkK(k);
    int n = ids.length;
    if (k == 0 || n == 0) {
      return List.of();
    }
    int topK = Math.min(k, n);
    SearchScoreProvider scores =
        DefaultSearchScoreProvider.exact(
            VTS.createFloatVector(graphQuery(query)), function, vectors);
    Bits accept = filter == null ? Bits.ALL : ord -> filter.test(ids[ord]);
    SearchResult result;
    GraphSearcher searcher = acquire();
    try {
      result = searcher.search(scores, topK, Math.max(topK, searchBeamWidth), 0f, 0f, accept);
    } finally {
      release(searcher);
    }
    SearchResult.NodeScore[] nodes = result.getNodes();
    if (nodes.length < topK) {
      // fewer accepted items were reachable than asked for: the exact scan is the answer
      return scan(query, topK, filter);
    }
    Scores.TopK top = new Scores.TopK(topK);
    for (SearchResult.NodeScore node : nodes) {
      top.offer(node.node, Scores.score(similarity, query, rows[node.node], 0, dimension));
    }
    return top.drain(ids);
  }

  /** The graph-space query: the unit-length query for dot product, else the query itself. */
  private float[] graphQuery(float[] query) {
    if (similarity != Similarity.DOT_PRODUCT) {
      return query;
    }
    double norm = Math.sqrt(squaredNorm(query));
    float[] unit = new float[query.length];
    if (norm > 0) {
      for (int i = 0; i < query.length; i++) {
        unit[i] = (float) (query[i] / norm);
      }
    }
    return unit;
  }

  /** The exact top {@code k} of the accepted items. */
  private List<Neighbor> scan(float[] query, int k, LongPredicate filter) {
    Scores.TopK top = new Scores.TopK(k);
    for (int i = 0; i < ids.length; i++) {
      if (filter == null || filter.test(ids[i])) {
        float s = Scores.score(similarity, query, rows[i], 0, dimension);
        if (top.accepts(s)) {
          top.offer(i, s);
        }
      }
    }
    return top.drain(ids);
  }

  private GraphSearcher acquire() {
    GraphSearcher s = idleSearchers.poll();
    return s != null ? s : new GraphSearcher(graph);
  }

  private void release(GraphSearcher s) {
    idleSearchers.offer(s);
    if (closed) {
      closeSearchers();
    }
  }

  private void closeSearchers() {
    GraphSearcher s;
    while ((s = idleSearchers.poll()) != null) {
      closeQuietly(s);
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new ScorelineException(ErrorCode.UNAVAILABLE, "the vector index is closed");
    }
  }

  /** Closes the pooled searchers and, for a loaded index, unmaps the graph file. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    closeSearchers();
    closeQuietly(graph);
    closeQuietly(storage);
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      // nothing useful to do: the resource is released as far as it can be
    }
  }

  @Override
  public String toString() {
    return "JVectorIndex["
        + similarity
        + ", dimension="
        + dimension
        + ", size="
        + ids.length
        + ", "
        + options
        + "]";
  }
}
