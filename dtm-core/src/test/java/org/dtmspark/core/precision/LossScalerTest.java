package org.dtmspark.core.precision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LossScalerTest {
  @Test
  void defaultsAreGradScalers() {
    LossScaler fp16 = LossScaler.forPrecision(Precision.FP16);
    assertThat(fp16.enabled()).isTrue();
    assertThat(fp16.scale()).isEqualTo(65536.0);
    LossScaler fp32 = LossScaler.forPrecision(Precision.FP32);
    assertThat(fp32.enabled()).isFalse();
    assertThat(fp32.scale()).isEqualTo(1.0);
  }

  @Test
  void aNonFiniteStepIsSkippedAndHalvesTheScaleAndResetsTheGrowthCount() {
    LossScaler scaler = new LossScaler(true, 1024, 3);
    assertThat(scaler.update(true)).isTrue();
    assertThat(scaler.update(true)).isTrue();
    assertThat(scaler.growthTracker()).isEqualTo(2);
    assertThat(scaler.update(false)).isFalse();
    assertThat(scaler.scale()).isEqualTo(512.0);
    assertThat(scaler.growthTracker()).isZero();
    assertThat(scaler.skippedSteps()).isEqualTo(1);
  }

  @Test
  void theScaleDoublesAfterItsIntervalOfFiniteStepsAndNotBefore() {
    LossScaler scaler = new LossScaler(true, 1024, 3);
    scaler.update(true);
    scaler.update(true);
    assertThat(scaler.scale()).isEqualTo(1024.0);
    scaler.update(true);
    assertThat(scaler.scale()).isEqualTo(2048.0);
    assertThat(scaler.growthTracker()).isZero();
    for (int i = 0; i < 3; i++) {
      scaler.update(true);
    }
    assertThat(scaler.scale()).isEqualTo(4096.0);
  }

  @Test
  void aDisabledScalerStaysAtOneAndRefusesANonFiniteGradient() {
    LossScaler scaler = new LossScaler(false, 1024, 3);
    assertThat(scaler.scale()).isEqualTo(1.0);
    for (int i = 0; i < 5; i++) {
      assertThat(scaler.update(true)).isTrue();
    }
    assertThat(scaler.scale()).isEqualTo(1.0);
    assertThatThrownBy(() -> scaler.update(false)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void stateRoundTripsThroughMetadataAndTheRestoredScalerContinues() {
    LossScaler saved = new LossScaler(true, 65536, 4);
    saved.update(false);
    saved.update(true);
    saved.update(true);
    Map<String, String> metadata = saved.toMetadata();
    assertThat(metadata)
        .containsEntry("loss_scale.format_version", "1")
        .containsEntry("loss_scale.scale", "32768.0")
        .containsEntry("loss_scale.growth_tracker", "2")
        .containsEntry("loss_scale.skipped_steps", "1");

    LossScaler restored = new LossScaler(true, 65536, 4);
    restored.restore(metadata);
    assertThat(restored.toMetadata()).isEqualTo(metadata);
    restored.update(true);
    restored.update(true);
    assertThat(restored.scale()).isEqualTo(65536.0);
  }

  @Test
  void restoringABadStateFailsNamingTheKey() {
    LossScaler scaler = new LossScaler(true, 65536, 4);
    Map<String, String> metadata = new HashMap<>(new LossScaler(true, 8, 4).toMetadata());
    metadata.put("loss_scale.format_version", "9");
    assertThatThrownBy(() -> scaler.restore(metadata))
        .hasMessage("Unsupported loss scale state format version: 9 (this code reads version 1)");
    metadata.put("loss_scale.format_version", "1");
    metadata.put("loss_scale.scale", "-2");
    assertThatThrownBy(() -> scaler.restore(metadata))
        .hasMessage(
            "Loss scale state loss_scale.scale must be finite and above 0, cannot be: -2.0");
    metadata.put("loss_scale.scale", "8");
    metadata.remove("loss_scale.growth_tracker");
    assertThatThrownBy(() -> scaler.restore(metadata))
        .hasMessage("Loss scale state is missing key loss_scale.growth_tracker");
    assertThat(scaler.scale()).isEqualTo(65536.0);
  }
}
