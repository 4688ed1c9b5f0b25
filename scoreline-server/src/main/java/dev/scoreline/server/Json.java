package dev.scoreline.server;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import dev.scoreline.core.error.ScorelineException;
import java.io.IOException;
import java.io.UncheckedIOException;

/** The JSON factory of the REST endpoints and small helpers to write JSON responses. */
final class Json {
  /**
   * Accepts the {@code NaN} and {@code Infinity} tokens (so a model's allow-nan check can name the
   * element) and strings as long as the body limit allows; writes non-finite numbers as bare
   * tokens, as Python's {@code json} module does.
   */
  static final JsonFactory FACTORY =
      JsonFactory.builder()
          .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
          .disable(JsonWriteFeature.WRITE_NAN_AS_STRINGS)
          .streamReadConstraints(
              StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE).build())
          .build();

  /** Writes JSON with a generator; the body of a {@link #bytes} call. */
  @FunctionalInterface
  interface Writer {
    void write(JsonGenerator g) throws IOException;
  }

  private Json() {}

  static byte[] bytes(Writer writer) {
    ByteArrayBuilder out = new ByteArrayBuilder(256);
    try (JsonGenerator g = FACTORY.createGenerator(out, JsonEncoding.UTF8)) {
      writer.write(g);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  static HttpResponse response(HttpStatus status, Writer writer) {
    return HttpResponse.of(status, MediaType.JSON, bytes(writer));
  }

  static HttpResponse ok(Writer writer) {
    return HttpResponse.of(HttpStatus.OK, MediaType.JSON, bytes(writer));
  }

  /** A user error for JSON that does not parse, naming the line and column. */
  static ScorelineException malformed(JsonProcessingException e) {
    JsonLocation loc = e.getLocation();
    String where =
        loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
    return ScorelineException.userError(
        null, "malformed JSON" + where + ": " + e.getOriginalMessage() + "; send valid JSON");
  }
}
