package dev.scoreline.batch;

/**
 * An accelerated scoring kernel for {@link DotProductTopK}: scores a block of users against every
 * item in its own layout of the item factors and offers the scores to the {@link
 * DotProductTopK.Scorer}'s lists. The plain loops inside {@link DotProductTopK} are the reference
 * and the fallback; an implementation must give bit-identical scores (the same fused multiply-adds
 * over dimensions {@code 0..dim-1}) and offer every item that reaches a user's threshold ({@link
 * DotProductTopK.Scorer#scanIds}: any order of items gives the same lists).
 *
 * <p>Plain Java on purpose: {@link DotProductTopK} only knows this interface, so a JVM without the
 * implementation's modules never loads the implementation (see {@link VectorTopKKernel}).
 */
interface TopKKernel {
  /** A short name for logs and benchmark reports. */
  String name();

  /**
   * Offers the score of every item for users {@code [from, from + n)} to {@code scorer} (user
   * {@code from + i} is the scorer's slot {@code i}). Safe to call from several threads, each with
   * its own scorer.
   */
  void score(DotProductTopK.Scorer scorer, float[] userFactors, int from, int n);
}
