package dev.scoreline.demo;

/**
 * A small deterministic random generator (SplitMix64) with the few distributions the demo needs.
 * Its sequence is fixed by this code, not by the JDK, so a seed gives the same shop everywhere. Not
 * thread-safe: derive one per task with {@link #derive}.
 */
final class Rng {
  private long state;

  Rng(long seed) {
    this.state = seed;
  }

  /** A generator for stream {@code stream}, item {@code index} of a seed, independent of others. */
  static Rng derive(long seed, long stream, long index) {
    long s = mix(seed ^ mix(stream * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L));
    return new Rng(mix(s + index * 0xD1B54A32D192ED03L));
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  long nextLong() {
    state += 0x9E3779B97F4A7C15L;
    return mix(state);
  }

  /** Uniform in {@code [0, 1)}. */
  double nextDouble() {
    return (nextLong() >>> 11) * 0x1.0p-53;
  }

  /** Uniform in {@code [0, bound)}. */
  int nextInt(int bound) {
    return (int) ((nextLong() >>> 33) * bound >>> 31);
  }

  /** Standard normal (Box-Muller, one value per call). */
  double nextGaussian() {
    double u1 = 1.0 - nextDouble(); // (0, 1]
    double u2 = nextDouble();
    return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
  }

  /** Shuffles {@code a} in place (Fisher-Yates). */
  void shuffle(int[] a) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}
