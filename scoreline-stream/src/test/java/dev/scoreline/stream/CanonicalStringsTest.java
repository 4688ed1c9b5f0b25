package dev.scoreline.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class CanonicalStringsTest {
  @Test
  void equalStrings_shareOneInstance_andEveryAnswerEqualsItsQuestion() {
    CanonicalStrings c = new CanonicalStrings(4); // 16 slots: collisions are certain below
    String first = new String("device-42");
    String again = new String("device-42");
    assertThat(again).isNotSameAs(first);
    assertThat(c.canonical(first)).isSameAs(first);
    assertThat(c.canonical(again)).isSameAs(first);
    for (int i = 0; i < 1_000; i++) {
      String s = "v" + (i % 37);
      assertThat(c.canonical(s)).isEqualTo(s);
    }
  }

  @Test
  void aCollision_replacesTheSlot_andNeverAnswersAnotherValue() {
    CanonicalStrings c = new CanonicalStrings(1); // 2 slots
    String a = "a";
    String b = "b";
    String cc = "c"; // 'a' and 'c' differ by 2: same slot of 2
    assertThat(c.canonical(a)).isSameAs(a);
    assertThat(c.canonical(cc)).isSameAs(cc);
    assertThat(c.canonical(new String("a"))).isEqualTo("a").isNotSameAs(a); // replaced by 'c'
    assertThat(c.canonical(b)).isSameAs(b);
    assertThatThrownBy(() -> new CanonicalStrings(0)).isInstanceOf(IllegalArgumentException.class);
  }
}
