package org.dtmspark.core.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class AdamWConfigTest {
  @Test
  void recipeDefaultsMatchThePaperTables() {
    assertThat(AdamWConfig.PRETRAIN).isEqualTo(new AdamWConfig(0.9, 0.98, 1e-8, 0.05));
    assertThat(AdamWConfig.FINETUNE).isEqualTo(new AdamWConfig(0.9, 0.999, 1e-8, 0.05));
  }

  @Test
  void betaOfOneIsRejectedNamingTheField() {
    assertThatThrownBy(() -> new AdamWConfig(1.0, 0.98, 1e-8, 0.05))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("beta1 must be in [0, 1), cannot be: 1.0");
    assertThatThrownBy(() -> new AdamWConfig(0.9, -0.1, 1e-8, 0.05))
        .hasMessage("beta2 must be in [0, 1), cannot be: -0.1");
    assertThatThrownBy(() -> new AdamWConfig(0.9, Double.NaN, 1e-8, 0.05))
        .hasMessage("beta2 must be in [0, 1), cannot be: NaN");
  }

  @Test
  void epsMustBePositiveAndWeightDecayNonNegative() {
    assertThatThrownBy(() -> new AdamWConfig(0.9, 0.98, 0.0, 0.05))
        .hasMessage("eps must be finite and greater than 0, cannot be: 0.0");
    assertThatThrownBy(() -> new AdamWConfig(0.9, 0.98, 1e-8, -0.05))
        .hasMessage("weightDecay must be finite and at least 0, cannot be: -0.05");
  }

  @Test
  void zeroBetasAndZeroWeightDecayAreAllowed() {
    assertThat(new AdamWConfig(0.0, 0.0, 1e-8, 0.0).weightDecay()).isZero();
  }
}
