package dev.scoreline.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.scoreline.core.model.TensorSpec;
import dev.scoreline.core.tensor.DataType;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Feeds UINT16, UINT32 and UINT64 inputs, which ONNX Runtime's Java API cannot create ({@code
 * OnnxJavaType} has no such types, and ORT rejects a signed tensor for an unsigned input).
 *
 * <p>The bytes go in as the signed type of the same width and pass through a one-node ONNX model
 * {@code Cast(to = UINT*)} that Scoreline builds in memory; integer-to-integer Cast is a C++ {@code
 * static_cast}, which keeps the bit pattern for same-width signed-to-unsigned conversion. The
 * result is a native unsigned tensor that the real session accepts. It costs one extra copy of
 * those inputs only; other datatypes never come here.
 */
final class UnsignedCasts implements AutoCloseable {
  static final UnsignedCasts NONE = new UnsignedCasts(new EnumMap<>(DataType.class));

  private final Map<DataType, OrtSession> sessions;

  private UnsignedCasts(Map<DataType, OrtSession> sessions) {
    this.sessions = sessions;
  }

  /** Builds the cast sessions needed by {@code inputs}; NONE when none needs one. */
  static UnsignedCasts forInputs(OrtEnvironment env, List<TensorSpec> inputs) throws OrtException {
    Map<DataType, OrtSession> sessions = new EnumMap<>(DataType.class);
    try {
      for (TensorSpec spec : inputs) {
        DataType type = spec.datatype();
        if (OnnxTypes.isWideUnsigned(type) && !sessions.containsKey(type)) {
          sessions.put(type, createCastSession(env, type));
        }
      }
    } catch (OrtException | RuntimeException e) {
      sessions.values().forEach(UnsignedCasts::closeQuietly);
      throw e;
    }
    return sessions.isEmpty() ? NONE : new UnsignedCasts(sessions);
  }

  private static OrtSession createCastSession(OrtEnvironment env, DataType unsigned)
      throws OrtException {
    int from = OnnxTypes.onnxElementType(signedOfSameWidth(unsigned));
    int to = OnnxTypes.onnxElementType(unsigned);
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      // A copy needs no thread pool of its own.
      options.setIntraOpNumThreads(1);
      options.setInterOpNumThreads(1);
      return env.createSession(OnnxProto.castModel(from, to), options);
    }
  }

  private static DataType signedOfSameWidth(DataType unsigned) {
    switch (unsigned) {
      case UINT16:
        return DataType.INT16;
      case UINT32:
        return DataType.INT32;
      case UINT64:
        return DataType.INT64;
      default:
        throw new IllegalArgumentException(unsigned + " is not a wide unsigned type");
    }
  }

  /**
   * Reinterprets {@code signed} (carrying the bytes of an unsigned tensor) as {@code unsigned}. The
   * caller closes the returned result after use; {@code result.get(0)} is the unsigned tensor.
   */
  OrtSession.Result cast(OnnxTensor signed, DataType unsigned) throws OrtException {
    OrtSession session = sessions.get(unsigned);
    if (session == null) {
      throw new IllegalStateException("no cast session for " + unsigned);
    }
    return session.run(Map.of("x", signed));
  }

  @Override
  public void close() {
    sessions.values().forEach(UnsignedCasts::closeQuietly);
  }

  private static void closeQuietly(OrtSession session) {
    try {
      session.close();
    } catch (OrtException | RuntimeException e) {
      // Closing releases native memory; nothing useful to do on failure.
    }
  }
}
