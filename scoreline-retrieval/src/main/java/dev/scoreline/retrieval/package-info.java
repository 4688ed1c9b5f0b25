/**
 * Vector indexes for candidate retrieval: {@link dev.scoreline.retrieval.JVectorIndex} (a jvector
 * graph, approximate and fast) and {@link dev.scoreline.retrieval.ExactIndex} (brute force, the
 * recall baseline), both implementing {@link dev.scoreline.core.retrieval.VectorIndex}. {@link
 * dev.scoreline.retrieval.IndexBuilder} validates items, builds and saves an index; {@link
 * dev.scoreline.retrieval.DefaultVectorIndexes} opens a saved one by its manifest. A saved index is
 * a directory: {@code index.properties} (versioned manifest), {@code ids.bin}, {@code
 * vectors.fvecs} and, for jvector, {@code graph.jvector}.
 */
package dev.scoreline.retrieval;
