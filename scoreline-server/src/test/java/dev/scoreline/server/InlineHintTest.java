package dev.scoreline.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.server.ServiceRequestContext;
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
}
