package dev.scoreline.server;

import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.SimpleDecoratingHttpService;
import dev.scoreline.core.error.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Refuses admin calls (repository load/unload/index, traffic changes) without {@code Authorization:
 * Bearer <token>} when a token is configured: 401 with {@code WWW-Authenticate: Bearer}. The token
 * is compared in constant time.
 */
final class AdminAuth extends SimpleDecoratingHttpService {
  private final byte[] token;

  AdminAuth(HttpService delegate, String token) {
    super(delegate);
    this.token = token.getBytes(StandardCharsets.UTF_8);
  }

  static boolean authorized(String header, byte[] token) {
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return false;
    }
    byte[] given = header.substring(7).trim().getBytes(StandardCharsets.UTF_8);
    return MessageDigest.isEqual(given, token);
  }

  @Override
  public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) throws Exception {
    if (authorized(req.headers().get(HttpHeaderNames.AUTHORIZATION), token)) {
      return unwrap().serve(ctx, req);
    }
    return HttpResponse.of(
        ResponseHeaders.builder(HttpStatus.UNAUTHORIZED)
            .contentType(MediaType.JSON)
            .add(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"scoreline-admin\"")
            .build(),
        HttpData.wrap(
            HttpErrors.body(
                ErrorCode.UNAUTHENTICATED,
                "Authorization",
                "admin calls need 'Authorization: Bearer <token>' (the server's admin token)")));
  }
}
