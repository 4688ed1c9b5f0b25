package dev.scoreline.bench.ann;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code .fvecs} vector file of the ANN benchmarks (TEXMEX, ann-benchmarks, faiss): per vector
 * a little-endian int32 dimension, then that many little-endian float32. A saved Scoreline index
 * keeps its vectors in this layout too ({@code <index>/vectors.fvecs}).
 */
final class Fvecs {
  private Fvecs() {}

  /** Reads every vector of {@code file} (all of one dimension). */
  static float[][] read(Path file) throws IOException {
    List<float[]> out = new ArrayList<>();
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
      DataInputStream data = new DataInputStream(in);
      byte[] header = new byte[4];
      int dim = -1;
      while (true) {
        int n = in.readNBytes(header, 0, 4);
        if (n == 0) {
          break;
        }
        if (n < 4) {
          throw new EOFException(file + ": truncated record header");
        }
        int d = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (d <= 0 || (dim >= 0 && d != dim)) {
          throw new IOException(
              file + ": vector " + out.size() + " has dimension " + d + ", expected " + dim);
        }
        dim = d;
        byte[] body = new byte[d * Float.BYTES];
        data.readFully(body);
        float[] v = new float[d];
        ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        out.add(v);
      }
    }
    if (out.isEmpty()) {
      throw new IOException(file + ": no vectors");
    }
    return out.toArray(new float[0][]);
  }

  /** Writes {@code vectors} to {@code file}. */
  static void write(Path file, float[][] vectors) throws IOException {
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
      for (float[] v : vectors) {
        ByteBuffer buf =
            ByteBuffer.allocate(Integer.BYTES + v.length * Float.BYTES)
                .order(ByteOrder.LITTLE_ENDIAN);
        buf.putInt(v.length);
        buf.asFloatBuffer().put(v);
        out.write(buf.array());
      }
    }
  }
}
