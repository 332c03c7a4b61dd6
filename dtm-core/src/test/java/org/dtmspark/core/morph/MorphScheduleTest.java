package org.dtmspark.core.morph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MorphScheduleTest {
  @Test
  void parsesTokensPerIterationAndIterations() {
    assertThat(MorphLevel.parse("7:14")).isEqualTo(new MorphLevel(7, 14));
    assertThat(MorphLevel.parse(" 0 : 1 ")).isEqualTo(new MorphLevel(0, 1));
    assertThat(new MorphLevel(3, 2).toString()).isEqualTo("3:2");
    assertThat(MorphLevel.parse(new MorphLevel(3, 2).toString())).isEqualTo(new MorphLevel(3, 2));
  }

  @Test
  void parse_malformedTextIsNamed() {
    assertThatThrownBy(() -> MorphLevel.parse("7-14"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "Morph level must be written R:K (tokens per iteration:iterations), cannot be: '7-14'");
    assertThatThrownBy(() -> MorphLevel.parse("a:2"))
        .hasMessage("Morph level must be written R:K with integers R and K, cannot be: 'a:2'");
    assertThatThrownBy(() -> MorphLevel.parse("1:2:3")).hasMessageContaining("cannot be: '1:2:3'");
    assertThatThrownBy(() -> MorphLevel.parse("3:0"))
        .hasMessage(
            "Invalid morph level '3:0': Number of iterations (k) must be at least 1, cannot be: 0");
  }

  @Test
  void level_outOfRangeValuesAreRejected() {
    assertThatThrownBy(() -> new MorphLevel(-1, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Tokens merged per iteration (r) must be at least 0, cannot be: -1");
    assertThatThrownBy(() -> new MorphLevel(1, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Number of iterations (k) must be at least 1, cannot be: 0");
  }

  @Test
  void scheduleKeepsAnImmutableCopy() {
    List<MorphLevel> levels = new ArrayList<>(List.of(new MorphLevel(1, 2)));
    MorphSchedule schedule = new MorphSchedule(levels);
    levels.add(new MorphLevel(3, 4));
    assertThat(schedule.levels()).containsExactly(new MorphLevel(1, 2));
    assertThatThrownBy(() -> schedule.levels().add(new MorphLevel(0, 1)))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void schedule_emptyIsRejected() {
    assertThatThrownBy(() -> new MorphSchedule(List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Morph schedule must have at least 1 level, cannot be: empty");
    assertThatThrownBy(() -> MorphSchedule.tokenWise(0))
        .hasMessage("Number of levels must be at least 1, cannot be: 0");
  }

  @Test
  void tokenWiseScheduleMergesNothing() {
    MorphSchedule schedule = MorphSchedule.tokenWise(2);
    assertThat(schedule.levels()).containsExactly(new MorphLevel(0, 1), new MorphLevel(0, 1));
    assertThat(schedule.isTokenWise()).isTrue();
    assertThat(new MorphSchedule(List.of(new MorphLevel(0, 3), new MorphLevel(1, 1))).isTokenWise())
        .isFalse();
  }
}
