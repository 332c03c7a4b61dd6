package org.dtmspark.core.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class LrScheduleTest {
  private static final double PEAK = 1e-3;
  private static final double MIN = 1e-5;
  // 10 warmup steps, then 100 cosine steps.
  private static final CosineSchedule SCHEDULE = CosineSchedule.of(PEAK, MIN, 10, 110);

  @Test
  void warmupRisesLinearlyFromTheStartToExactlyThePeak() {
    assertThat(SCHEDULE.at(0)).isEqualTo(0.0);
    assertThat(SCHEDULE.at(3)).isCloseTo(PEAK * 3 / 9, within(1e-18));
    assertThat(SCHEDULE.at(9)).isEqualTo(PEAK);
  }

  @Test
  void cosineStartsAtThePeakAndIsHalfwayInTheMiddle() {
    assertThat(SCHEDULE.at(10)).isCloseTo(PEAK, within(1e-18));
    assertThat(SCHEDULE.at(60)).isCloseTo((PEAK + MIN) / 2, within(1e-15));
    assertThat(SCHEDULE.at(35))
        .isCloseTo(MIN + 0.5 * (PEAK - MIN) * (1 + Math.cos(Math.PI / 4)), within(1e-15));
  }

  @Test
  void lastStepIsJustAboveTheMinimumAndLaterStepsStayThere() {
    double last = SCHEDULE.at(109);
    assertThat(last)
        .isCloseTo(MIN + 0.5 * (PEAK - MIN) * (1 + Math.cos(Math.PI * 0.99)), within(1e-18));
    assertThat(last).isGreaterThan(MIN).isCloseTo(MIN, within(1e-6));
    assertThat(SCHEDULE.at(110)).isEqualTo(last);
    assertThat(SCHEDULE.at(1_000_000)).isEqualTo(last);
  }

  @Test
  void warmupStartIsUsedAndAOneStepWarmupIsJustTheStart() {
    CosineSchedule fromStart = new CosineSchedule(PEAK, MIN, 5, 20, 1e-6);
    assertThat(fromStart.at(0)).isEqualTo(1e-6);
    assertThat(fromStart.at(4)).isEqualTo(PEAK);
    CosineSchedule oneStep = new CosineSchedule(PEAK, MIN, 1, 20, 1e-6);
    assertThat(oneStep.at(0)).isEqualTo(1e-6);
    assertThat(oneStep.at(1)).isCloseTo(PEAK, within(1e-18));
  }

  @Test
  void withoutWarmupTheFirstStepIsThePeak() {
    assertThat(CosineSchedule.of(PEAK, MIN, 0, 10).at(0)).isEqualTo(PEAK);
  }

  @Test
  void scheduleFieldsAreValidated() {
    assertThatThrownBy(() -> CosineSchedule.of(PEAK, MIN, 11, 10))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("warmupSteps must be in [0, totalSteps = 10], cannot be: 11");
    assertThatThrownBy(() -> CosineSchedule.of(PEAK, MIN, 0, 0))
        .hasMessage("totalSteps must be at least 1, cannot be: 0");
    assertThatThrownBy(() -> CosineSchedule.of(-1, MIN, 0, 10))
        .hasMessage("peak must be finite and at least 0, cannot be: -1.0");
    assertThatThrownBy(() -> SCHEDULE.at(-1)).hasMessage("Step must be at least 0, cannot be: -1");
  }

  @Test
  void constantScheduleIsTheSameEverywhere() {
    ConstantSchedule constant = new ConstantSchedule(2e-4);
    assertThat(constant.at(0)).isEqualTo(2e-4);
    assertThat(constant.at(123_456)).isEqualTo(2e-4);
    assertThatThrownBy(() -> new ConstantSchedule(Double.NaN))
        .hasMessage("Learning rate must be finite and at least 0, cannot be: NaN");
  }

  @Test
  void peakLearningRateScalesBySquareRootOrLinearlyWithTheBatch() {
    assertThat(LrSchedule.scaledPeakLr(1.5e-3, 2048, "sqrt")).isEqualTo(1.5e-3);
    assertThat(LrSchedule.scaledPeakLr(1.5e-3, 1024, "sqrt"))
        .isCloseTo(1.5e-3 * Math.sqrt(0.5), within(1e-15));
    assertThat(LrSchedule.scaledPeakLr(3.75e-5, 1024, "linear")).isCloseTo(1.5e-4, within(1e-18));
    assertThat(LrSchedule.scaledPeakLr(1.5e-4, 1024, "none")).isEqualTo(1.5e-4);
    assertThat(LrSchedule.scaledPeakLr(1e-3, 512, "LINEAR")).isEqualTo(2e-3);
  }

  @Test
  void unknownScalingRuleIsRejectedNamingIt() {
    assertThatThrownBy(() -> LrSchedule.scaledPeakLr(1e-3, 1024, "cubic"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "Learning-rate scaling rule must be one of sqrt, linear, none, cannot be: cubic");
    assertThatThrownBy(() -> LrSchedule.scaledPeakLr(1e-3, 0, "sqrt"))
        .hasMessage("Total batch size must be at least 1, cannot be: 0");
  }
}
