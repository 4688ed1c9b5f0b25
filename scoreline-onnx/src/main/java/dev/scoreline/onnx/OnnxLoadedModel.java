package dev.scoreline.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.model.ModelSignature;
import dev.scoreline.core.model.spi.LoadedModel;
import dev.scoreline.core.tensor.DataType;
import dev.scoreline.core.tensor.Tensor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ONNX Runtime session. {@link #run} is thread-safe ({@code OrtSession.run} is); a read-write
 * lock keeps {@link #close} from freeing the native session under a running call.
 */
final class OnnxLoadedModel implements LoadedModel {
  private static final Logger log = LoggerFactory.getLogger(OnnxLoadedModel.class);

  private final String model;
  private final OrtEnvironment env;
  private final OrtSession session;
  private final ModelSignature signature;
  private final String device;
  private final UnsignedCasts casts;
  private final ReadWriteLock lock = new ReentrantReadWriteLock();
  private boolean closed; // guarded by lock

  OnnxLoadedModel(
      String model,
      OrtEnvironment env,
      OrtSession session,
      ModelSignature signature,
      String device,
      UnsignedCasts casts) {
    this.model = model;
    this.env = env;
    this.session = session;
    this.signature = signature;
    this.device = device;
    this.casts = casts;
  }

  @Override
  public ModelSignature signature() {
    return signature;
  }

  @Override
  public String device() {
    return device;
  }

  @Override
  public List<Tensor> run(Map<String, Tensor> inputs, List<String> outputs) {
    lock.readLock().lock();
    try {
      if (closed) {
        throw new ScorelineException(
            ErrorCode.UNAVAILABLE, model + " has been unloaded; retry on a loaded version");
      }
      return runOpen(inputs, outputs);
    } finally {
      lock.readLock().unlock();
    }
  }

  private List<Tensor> runOpen(Map<String, Tensor> inputs, List<String> outputs) {
    Map<String, OnnxTensor> feeds = new HashMap<>(inputs.size() * 2);
    // Everything created for this call, closed at the end: tensors and cast results.
    AutoCloseable[] owned = new AutoCloseable[inputs.size() * 2];
    int ownedCount = 0;
    InputStaging staging = InputStaging.forInputs(inputs.values());
    try {
      for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
        Tensor t = e.getValue();
        DataType type = t.type();
        if (type == DataType.BYTES) {
          OnnxTensor ot = OnnxTensor.createTensor(env, strings(t), t.shape());
          owned[ownedCount++] = ot;
          feeds.put(e.getKey(), ot);
        } else if (OnnxTypes.isWideUnsigned(type)) {
          OnnxTensor signed =
              OnnxTensor.createTensor(
                  env, staging.direct(t.data()), t.shape(), OnnxTypes.carrier(type));
          owned[ownedCount++] = signed;
          OrtSession.Result cast = casts.cast(signed, type);
          owned[ownedCount++] = cast;
          feeds.put(e.getKey(), (OnnxTensor) cast.get(0));
        } else {
          OnnxTensor ot =
              OnnxTensor.createTensor(
                  env, staging.direct(t.data()), t.shape(), OnnxTypes.carrier(type));
          owned[ownedCount++] = ot;
          feeds.put(e.getKey(), ot);
        }
      }
      Set<String> requested =
          outputs.size() == 1
              ? Collections.singleton(outputs.get(0))
              : new LinkedHashSet<>(outputs);
      try (OrtSession.Result result = session.run(feeds, requested)) {
        List<Tensor> out = new ArrayList<>(outputs.size());
        for (String name : outputs) {
          Optional<OnnxValue> value = result.get(name);
          if (value.isEmpty()) {
            throw new ScorelineException(
                ErrorCode.INTERNAL, model + ": ONNX Runtime returned no output '" + name + "'");
          }
          out.add(toTensor(name, value.get()));
        }
        return Collections.unmodifiableList(out);
      }
    } catch (OrtException e) {
      throw runFailure(e);
    } finally {
      for (int i = ownedCount - 1; i >= 0; i--) {
        closeQuietly(owned[i]);
      }
    }
  }

  private static String[] strings(Tensor t) {
    byte[][] bytes = t.bytesData();
    String[] strings = new String[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      strings[i] = new String(bytes[i], StandardCharsets.UTF_8);
    }
    return strings;
  }

  private Tensor toTensor(String name, OnnxValue value) throws OrtException {
    if (!(value instanceof OnnxTensor)) {
      throw new ScorelineException(
          ErrorCode.INTERNAL,
          model + ": output '" + name + "' is a " + value.getType() + ", not a tensor");
    }
    OnnxTensor tensor = (OnnxTensor) value;
    TensorInfo info = tensor.getInfo();
    long[] shape = info.getShape();
    DataType type = OnnxTypes.dataType(info.onnxType);
    if (type == null) {
      throw new ScorelineException(
          ErrorCode.INTERNAL,
          model + ": output '" + name + "' has unsupported element type " + info.onnxType);
    }
    if (type == DataType.BYTES) {
      byte[][] flat = new byte[Math.toIntExact(info.getNumElements())][];
      flattenStrings(tensor.getValue(), flat, 0);
      return Tensor.ofBytes(name, shape, flat);
    }
    if (info.getNumElements() == 0) {
      return Tensor.of(name, type, shape, Tensor.allocate(0));
    }
    // A heap copy in native (= little-endian) order; the native memory is freed with the result.
    return Tensor.of(name, type, shape, tensor.getByteBuffer());
  }

  /** Writes the strings of a String or (nested) String array into {@code out}, row-major. */
  private static int flattenStrings(Object value, byte[][] out, int pos) {
    if (value instanceof String) {
      out[pos] = ((String) value).getBytes(StandardCharsets.UTF_8);
      return pos + 1;
    }
    int p = pos;
    for (Object element : (Object[]) value) {
      p = flattenStrings(element, out, p);
    }
    return p;
  }

  private ScorelineException runFailure(OrtException e) {
    ErrorCode code;
    switch (e.getCode()) {
      case ORT_INVALID_ARGUMENT:
        code = ErrorCode.USER_ERROR;
        break;
      case ORT_NOT_IMPLEMENTED:
        code = ErrorCode.UNSUPPORTED;
        break;
      case ORT_FAIL:
      case ORT_RUNTIME_EXCEPTION:
        // A kernel rejecting the shapes it was given means the request did not fit the graph.
        code = mentionsShape(e.getMessage()) ? ErrorCode.USER_ERROR : ErrorCode.INTERNAL;
        break;
      default:
        code = ErrorCode.INTERNAL;
        break;
    }
    return new ScorelineException(
        code, model + ": ONNX Runtime could not run the model: " + e.getMessage(), e);
  }

  private static boolean mentionsShape(String message) {
    if (message == null) {
      return false;
    }
    String m = message.toLowerCase(Locale.ROOT);
    return m.contains("shape") || m.contains("dimension");
  }

  @Override
  public void close() {
    lock.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      closeQuietly(session);
      casts.close();
    } finally {
      lock.writeLock().unlock();
    }
  }

  private void closeQuietly(AutoCloseable resource) {
    try {
      resource.close();
    } catch (Exception e) {
      log.debug("{}: closing a native ONNX Runtime resource failed", model, e);
    }
  }

  @Override
  public String toString() {
    return "OnnxLoadedModel{" + model + " on " + device + "}";
  }
}
