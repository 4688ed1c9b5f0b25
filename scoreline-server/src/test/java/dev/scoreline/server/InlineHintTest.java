package dev.scoreline.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class InlineHintTest {
  private static ServiceRequestContext ctx() {
    return ServiceRequestContext.of(HttpRequest.of(HttpMethod.POST, "/v2/models/m/infer"));
  }

  @Test
  void aRequestAloneInFlight_mayRunInline_andOneAmongOthers_mayNot() {
    AtomicInteger inFlight = new AtomicInteger(1);
    ServiceRequestContext ctx = ctx();
    InlineHint.attach(ctx, inFlight);
    assertThat(InlineHint.mayRunInline(ctx)).isTrue();
    inFlight.set(2); // a second request arrived: the counter is shared, read when asked
    assertThat(InlineHint.mayRunInline(ctx)).isFalse();
    inFlight.set(1);
    assertThat(InlineHint.mayRunInline(ctx)).isTrue();
  }

  @Test
  void withoutAdmissionControl_theSchedulerDecides() {
    assertThat(InlineHint.mayRunInline(ctx())).isTrue();
    assertThat(InlineHint.mayRunInline(null)).isTrue();
  }

  @Test
  void answersRunOnTheRequestsEventLoop_atOnceWhenAlreadyThere_andInlineWhenItIsShutDown()
      throws Exception {
    EventLoop loop = new DefaultEventLoop();
    try {
      ServiceRequestContext ctx =
          ServiceRequestContext.builder(HttpRequest.of(HttpMethod.POST, "/v2/models/m/infer"))
              .eventLoop(loop)
              .build();
      Executor answerOn = InlineHint.answerOn(ctx);
      // from a model's thread: handed to the loop
      CompletableFuture<Boolean> fromElsewhere = new CompletableFuture<>();
      answerOn.execute(() -> fromElsewhere.complete(loop.inEventLoop()));
      assertThat(fromElsewhere.get(5, TimeUnit.SECONDS)).isTrue();
      // from the loop itself (a call run inline): run before execute returns, not queued
      CompletableFuture<Boolean> ranAtOnce =
          CompletableFuture.supplyAsync(
              () -> {
                boolean[] ran = {false};
                answerOn.execute(() -> ran[0] = true);
                return ran[0];
              },
              loop);
      assertThat(ranAtOnce.get(5, TimeUnit.SECONDS)).isTrue();
      // a loop that refuses work (server shutting down): the answer still runs, on the caller
      loop.shutdownGracefully(0, 0, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
      String caller = Thread.currentThread().getName();
      String[] ranOn = {null};
      answerOn.execute(() -> ranOn[0] = Thread.currentThread().getName());
      assertThat(ranOn[0]).isEqualTo(caller);
    } finally {
      loop.shutdownGracefully(0, 0, TimeUnit.SECONDS);
    }
    assertThat(InlineHint.answerOn(null)).isNull();
  }
}
