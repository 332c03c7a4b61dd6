package org.dtmspark.core.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.dtmspark.core.data.ViewParams;
import org.junit.jupiter.api.Test;

class EvaluationTest {
  @Test
  void evaluationViewIsTheCentreOfTheImageResizedTo256Over224() {
    // 500 x 375: timm resizes to 341 x 256 and crops the centre 224, i.e. 224/256 of the shorter
    // side: a 328-pixel square of the source, centred.
    ViewParams v = Evaluation.centerCropView(500, 375, 224, 0.875);
    assertThat(v.cropWidth()).isEqualTo(328);
    assertThat(v.cropHeight()).isEqualTo(328);
    assertThat(v.cropX()).isEqualTo(86);
    assertThat(v.cropY()).isEqualTo(23);
    assertThat(v.flip()).isFalse();
    assertThat(v.brightness()).isEqualTo(1f);
    // Portrait, and the whole shorter side when the ratio is 1.
    ViewParams portrait = Evaluation.centerCropView(300, 400, 224, 1.0);
    assertThat(portrait.cropWidth()).isEqualTo(300);
    assertThat(portrait.cropY()).isEqualTo(50);
    // A tiny image keeps at least one pixel.
    assertThat(Evaluation.centerCropView(1, 1, 224, 0.875).cropWidth()).isEqualTo(1);
  }

  @Test
  void cropRatioOutsideItsRangeIsNamed() {
    assertThatThrownBy(() -> Evaluation.centerCropView(10, 10, 8, 1.5))
        .hasMessage("Evaluation crop ratio must be in (0, 1], cannot be: 1.5");
  }
}
