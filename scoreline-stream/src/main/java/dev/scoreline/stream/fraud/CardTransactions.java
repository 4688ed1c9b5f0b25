package dev.scoreline.stream.fraud;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * A synthetic card-transaction dataset with injected fraud, for the fraud-check example, its tests
 * and the streaming benchmark. Deterministic for a seed.
 *
 * <p><b>Cards.</b> Each card has a home country, a typical spend (log-normal), one or two devices
 * and preferred merchant categories. Legitimate use: a few transactions a day at home, with
 * occasional trips abroad (several days in one foreign country) and occasional big purchases.
 *
 * <p><b>Fraud patterns</b> (every transaction of an episode is labelled fraud):
 *
 * <ul>
 *   <li><em>card testing</em>: a burst of 4–12 tiny online payments within minutes from a new
 *       device;
 *   <li><em>account takeover</em>: 1–3 large electronics or jewelry purchases within an hour, from
 *       a new device, often abroad;
 *   <li><em>cloned card</em>: several in-person payments in a foreign country within half an hour
 *       while the card is in use at home.
 * </ul>
 */
public final class CardTransactions {
  /** Merchant categories, in the order of the example's one-hot column. */
  public static final List<String> CATEGORIES =
      List.of(
          "grocery",
          "restaurant",
          "fuel",
          "online",
          "electronics",
          "travel",
          "jewelry",
          "gambling");

  /** Payment channels, in the order of the example's one-hot column. */
  public static final List<String> CHANNELS = List.of("chip", "contactless", "online");

  private static final List<String> COUNTRIES =
      List.of("US", "GB", "DE", "FR", "ES", "IT", "NL", "CA", "BR", "JP", "MX", "NG", "RU");
  private static final double[] HOME_WEIGHTS = {
    0.45, 0.12, 0.1, 0.08, 0.05, 0.05, 0.04, 0.05, 0.03, 0.03, 0, 0, 0
  };
  private static final double[] LEGIT_CATEGORY = {0.3, 0.22, 0.12, 0.2, 0.05, 0.06, 0.02, 0.03};

  /** One card's profile (what {@code data/cards.csv} holds). */
  public record Card(long id, String homeCountry, double avgAmount, List<String> devices) {}

  /** One transaction and its label. */
  public record Txn(
      String id,
      long cardId,
      double amount,
      String merchantId,
      String category,
      String country,
      String deviceId,
      String channel,
      long micros,
      boolean fraud,
      String pattern) {

    /** The event as a stream receives it (no label). */
    public byte[] toJson() {
      return String.format(
              Locale.ROOT,
              "{\"txn_id\":\"%s\",\"card_id\":%d,\"amount\":%.2f,\"merchant_id\":\"%s\","
                  + "\"merchant_category\":\"%s\",\"country\":\"%s\",\"device_id\":\"%s\","
                  + "\"channel\":\"%s\",\"ts\":\"%s\"}",
              id,
              cardId,
              amount,
              merchantId,
              category,
              country,
              deviceId,
              channel,
              Instant.ofEpochSecond(micros / 1_000_000, (micros % 1_000_000) * 1000))
          .getBytes(StandardCharsets.UTF_8);
    }
  }

  private final List<Card> cards;
  private final List<Txn> txns;

  private CardTransactions(List<Card> cards, List<Txn> txns) {
    this.cards = cards;
    this.txns = txns;
  }

  /**
   * Generates {@code days} of transactions of {@code cardCount} cards ending at {@code endMicros},
   * sorted by time.
   *
   * @param fraudRate the share of cards with a fraud episode (about 0.02–0.05)
   */
  public static CardTransactions generate(
      long seed, int cardCount, int days, long endMicros, double fraudRate) {
    SplittableRandom r = new SplittableRandom(seed);
    List<Card> cards = new ArrayList<>(cardCount);
    for (int i = 0; i < cardCount; i++) {
      String home = COUNTRIES.get(pick(r, HOME_WEIGHTS));
      double avg = Math.exp(3.2 + 0.7 * r.nextGaussian());
      List<String> devices = new ArrayList<>();
      int nd = r.nextDouble() < 0.4 ? 2 : 1;
      for (int d = 0; d < nd; d++) {
        devices.add("d-" + (i + 1) + "-" + (d + 1));
      }
      cards.add(new Card(i + 1, home, Math.round(avg * 100) / 100.0, List.copyOf(devices)));
    }
    long span = days * 86_400_000_000L;
    long start = endMicros - span;
    List<Txn> txns = new ArrayList<>();
    long[] seq = {0};
    for (Card c : cards) {
      double perDay = 1 + r.nextDouble() * 4;
      // a trip abroad for some cards
      long tripStart = -1;
      long tripEnd = -1;
      String tripCountry = null;
      if (r.nextDouble() < 0.15) {
        tripStart = start + (long) (r.nextDouble() * span);
        tripEnd = tripStart + (1 + r.nextInt(5)) * 86_400_000_000L;
        tripCountry = other(r, c.homeCountry());
      }
      long t = start + (long) (r.nextDouble() * 86_400_000_000L / perDay);
      List<String> devices = new ArrayList<>(c.devices());
      boolean burster = r.nextDouble() < 0.05; // commuters: bursts of small contactless payments
      boolean gambler = r.nextDouble() < 0.03;
      while (t < endMicros) {
        boolean abroad = t >= tripStart && t < tripEnd;
        int cat = pick(r, LEGIT_CATEGORY);
        double amount = c.avgAmount() * Math.exp(0.6 * r.nextGaussian());
        if (r.nextDouble() < (abroad ? 0.08 : 0.02)) {
          amount *= 4 + r.nextDouble() * 6; // an occasional big purchase, more often abroad
          cat = r.nextBoolean() ? 4 : (r.nextBoolean() ? 5 : 6);
        }
        if (r.nextDouble() < 0.01) {
          devices.add("d-" + c.id() + "-n" + devices.size()); // a new phone
        }
        if (gambler && r.nextDouble() < 0.3) {
          cat = 7;
        }
        String channel =
            cat == 3 || cat == 7 ? "online" : (r.nextDouble() < 0.5 ? "chip" : "contactless");
        String device =
            channel.equals("online") && r.nextDouble() < 0.15
                ? "d-w-" + Long.toHexString(r.nextLong() & 0xffffffL) // a guest checkout
                : r.nextDouble() < 0.8
                    ? devices.get(devices.size() - 1)
                    : devices.get(r.nextInt(devices.size()));
        String country = abroad ? tripCountry : c.homeCountry();
        txns.add(
            txn(seq, c, amount, r, CATEGORIES.get(cat), country, device, channel, t, false, null));
        if (burster && r.nextDouble() < 0.15) {
          int n = 3 + r.nextInt(4);
          long bt = t;
          for (int i = 0; i < n; i++) {
            bt += 30_000_000L + (long) (r.nextDouble() * 120_000_000L);
            txns.add(
                txn(
                    seq,
                    c,
                    1 + r.nextDouble() * 7,
                    r,
                    r.nextBoolean() ? "restaurant" : "fuel",
                    country,
                    device,
                    "contactless",
                    bt,
                    false,
                    null));
          }
        }
        // gaps: exponential
        t += (long) (-Math.log(1 - r.nextDouble()) * 86_400_000_000L / perDay);
      }
      if (r.nextDouble() < fraudRate) {
        long when = start + (long) ((0.1 + 0.9 * r.nextDouble()) * span) - 3_600_000_000L;
        injectFraud(r, seq, c, when, txns);
      }
    }
    txns.sort((a, b) -> Long.compare(a.micros(), b.micros()));
    return new CardTransactions(List.copyOf(cards), List.copyOf(txns));
  }

  private static void injectFraud(SplittableRandom r, long[] seq, Card c, long t, List<Txn> out) {
    String newDevice = "d-x-" + Long.toHexString(r.nextLong() & 0xffffffL);
    switch (r.nextInt(3)) {
      case 0:
        {
          // card testing: tiny online payments in a burst
          int n = 4 + r.nextInt(9);
          for (int i = 0; i < n; i++) {
            t += 5_000_000L + (long) (r.nextDouble() * 60_000_000L);
            String cat = r.nextDouble() < 0.7 ? "online" : "gambling";
            out.add(
                txn(
                    seq,
                    c,
                    0.5 + r.nextDouble() * 4.5,
                    r,
                    cat,
                    c.homeCountry(),
                    newDevice,
                    "online",
                    t,
                    true,
                    "card-testing"));
          }
          break;
        }
      case 1:
        {
          // account takeover: big-ticket purchases from a new device, often abroad
          int n = 1 + r.nextInt(3);
          String country = r.nextDouble() < 0.6 ? other(r, c.homeCountry()) : c.homeCountry();
          for (int i = 0; i < n; i++) {
            t += 60_000_000L + (long) (r.nextDouble() * 1_200_000_000L);
            double amount = Math.max(300, c.avgAmount() * (6 + r.nextDouble() * 14));
            String cat = r.nextBoolean() ? "electronics" : "jewelry";
            out.add(
                txn(
                    seq,
                    c,
                    amount,
                    r,
                    cat,
                    country,
                    newDevice,
                    r.nextBoolean() ? "online" : "chip",
                    t,
                    true,
                    "account-takeover"));
          }
          break;
        }
      default:
        {
          // cloned card: in-person payments abroad while the card is in use at home
          out.add(
              txn(
                  seq,
                  c,
                  c.avgAmount(),
                  r,
                  "grocery",
                  c.homeCountry(),
                  c.devices().get(0),
                  "contactless",
                  t,
                  false,
                  null));
          String country = other(r, c.homeCountry());
          int n = 2 + r.nextInt(4);
          for (int i = 0; i < n; i++) {
            t += 120_000_000L + (long) (r.nextDouble() * 400_000_000L);
            double amount = c.avgAmount() * (0.8 + r.nextDouble() * 4);
            String cat = r.nextBoolean() ? "electronics" : (r.nextBoolean() ? "jewelry" : "fuel");
            out.add(
                txn(
                    seq,
                    c,
                    amount,
                    r,
                    cat,
                    country,
                    "d-pos-" + country,
                    "chip",
                    t,
                    true,
                    "cloned-card"));
          }
        }
    }
  }

  private static Txn txn(
      long[] seq,
      Card c,
      double amount,
      SplittableRandom r,
      String category,
      String country,
      String device,
      String channel,
      long micros,
      boolean fraud,
      String pattern) {
    long n = ++seq[0];
    return new Txn(
        "t-" + n,
        c.id(),
        Math.round(amount * 100) / 100.0,
        "m-" + category.charAt(0) + (1 + r.nextInt(400)),
        category,
        country,
        device,
        channel,
        micros,
        fraud,
        pattern);
  }

  private static String other(SplittableRandom r, String home) {
    String c;
    do {
      c = COUNTRIES.get(r.nextInt(COUNTRIES.size()));
    } while (c.equals(home));
    return c;
  }

  private static int pick(SplittableRandom r, double[] weights) {
    double total = 0;
    for (double w : weights) {
      total += w;
    }
    double x = r.nextDouble() * total;
    for (int i = 0; i < weights.length; i++) {
      x -= weights[i];
      if (x < 0) {
        return i;
      }
    }
    return weights.length - 1;
  }

  public List<Card> cards() {
    return cards;
  }

  /** Every transaction, by time. */
  public List<Txn> transactions() {
    return txns;
  }

  /** {@code data/cards.csv}: card_id, home_country, avg_amount, event_timestamp. */
  public String cardsCsv(Instant asOf) {
    StringBuilder sb = new StringBuilder("card_id,home_country,avg_amount,event_timestamp\n");
    for (Card c : cards) {
      sb.append(c.id())
          .append(',')
          .append(c.homeCountry())
          .append(',')
          .append(String.format(Locale.ROOT, "%.2f", c.avgAmount()))
          .append(',')
          .append(asOf)
          .append('\n');
    }
    return sb.toString();
  }
}
