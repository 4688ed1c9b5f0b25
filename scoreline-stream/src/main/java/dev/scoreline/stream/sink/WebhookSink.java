package dev.scoreline.stream.sink;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.scoreline.stream.StreamResult;
import dev.scoreline.stream.spi.ResultSink;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * POSTs results to an HTTP endpoint as {@code {"surface": "...", "results": [<result>...]}}
 * (optionally only those with an alert). A batch is acknowledged on a 2xx answer. Failures (an I/O
 * error, 408, 429, 5xx) are retried with exponential backoff up to {@code maxAttempts}; then the
 * write fails and the processor retries it later, so nothing is lost while the endpoint is down.
 * Other 4xx answers fail the same way (a misconfigured endpoint must not silently drop results).
 * Receivers deduplicate by {@code event_id}: after a crash a result can be delivered again.
 */
public final class WebhookSink implements ResultSink {
  private static final Logger log = LoggerFactory.getLogger(WebhookSink.class);
  private static final JsonFactory JSON = new JsonFactory();

  /** Settings of {@code stream.sinks.webhook}. */
  public record Options(
      URI url,
      boolean onlyAlerts,
      Duration timeout,
      int maxAttempts,
      Duration backoff,
      Map<String, String> headers) {
    public Options {
      requireNonNull(url, "url is null");
      headers = Map.copyOf(headers == null ? Map.of() : headers);
    }
  }

  private final String surface;
  private final Options options;
  private final ExecutorService executor;
  private final HttpClient client;

  public WebhookSink(String surface, Options options) {
    this.surface = requireNonNull(surface, "surface is null");
    this.options = requireNonNull(options, "options is null");
    AtomicInteger n = new AtomicInteger();
    this.executor =
        Executors.newFixedThreadPool(
            2,
            r -> {
              Thread t = new Thread(r, "scoreline-webhook-" + surface + "-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    this.client =
        HttpClient.newBuilder()
            .executor(executor)
            .connectTimeout(options.timeout())
            .version(HttpClient.Version.HTTP_1_1)
            .build();
  }

  @Override
  public String name() {
    return "webhook";
  }

  @Override
  public CompletableFuture<Void> write(List<StreamResult> results) {
    List<StreamResult> send = new ArrayList<>(results.size());
    for (StreamResult r : results) {
      if (!options.onlyAlerts() || r.alerted()) {
        send.add(r);
      }
    }
    if (send.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    byte[] body;
    try {
      body = body(send);
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
    HttpRequest.Builder b =
        HttpRequest.newBuilder(options.url())
            .timeout(options.timeout())
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    options.headers().forEach(b::header);
    HttpRequest req = b.build();
    long backoff = options.backoff().toMillis();
    String last = null;
    for (int attempt = 1; attempt <= options.maxAttempts(); attempt++) {
      try {
        HttpResponse<Void> resp = client.send(req, HttpResponse.BodyHandlers.discarding());
        int s = resp.statusCode();
        if (s >= 200 && s < 300) {
          return CompletableFuture.completedFuture(null);
        }
        last = "HTTP " + s;
      } catch (IOException e) {
        last = e.toString();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return CompletableFuture.failedFuture(e);
      }
      if (attempt < options.maxAttempts()) {
        log.debug("webhook {}: attempt {} failed ({}), retrying", options.url(), attempt, last);
        try {
          Thread.sleep(backoff);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return CompletableFuture.failedFuture(e);
        }
        backoff = Math.min(backoff * 2, 10_000);
      }
    }
    return CompletableFuture.failedFuture(
        new IOException(
            "webhook "
                + options.url()
                + " failed "
                + options.maxAttempts()
                + " times, last: "
                + last));
  }

  private byte[] body(List<StreamResult> results) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256 * results.size());
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("surface", surface);
      g.writeArrayFieldStart("results");
      for (StreamResult r : results) {
        r.write(g);
      }
      g.writeEndArray();
      g.writeEndObject();
    }
    return out.toByteArray();
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
