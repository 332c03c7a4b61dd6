package org.dtmspark.core.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ViewParamsTest {

  @Test
  void fullImageCoversTheImageWithNoChange() {
    ViewParams v = ViewParams.fullImage(640, 480);
    assertThat(v.cropX()).isZero();
    assertThat(v.cropY()).isZero();
    assertThat(v.cropWidth()).isEqualTo(640);
    assertThat(v.cropHeight()).isEqualTo(480);
    assertThat(v.flip()).isFalse();
    assertThat(v.brightness()).isEqualTo(1f);
    assertThat(v.contrast()).isEqualTo(1f);
    assertThat(v.saturation()).isEqualTo(1f);
    assertThat(v.jitterOrder()).containsExactly(0, 1, 2);
    assertThat(v.fitsIn(640, 480)).isTrue();
    assertThat(v.fitsIn(639, 480)).isFalse();
  }

  @Test
  void equalityComparesTheJitterOrderByContent() {
    ViewParams a = new ViewParams(1, 2, 3, 4, true, 0.9f, 1.1f, 1.2f, new int[] {2, 0, 1});
    ViewParams b = new ViewParams(1, 2, 3, 4, true, 0.9f, 1.1f, 1.2f, new int[] {2, 0, 1});
    ViewParams c = new ViewParams(1, 2, 3, 4, true, 0.9f, 1.1f, 1.2f, new int[] {2, 1, 0});
    assertThat(a).isEqualTo(b).hasSameHashCodeAs(b).isNotEqualTo(c);
    assertThat(a.toString()).contains("jitterOrder=[2, 0, 1]");
  }

  @Test
  void jitterOrderIsCopiedInAndOut() {
    int[] order = {1, 2, 0};
    ViewParams v = new ViewParams(0, 0, 1, 1, false, 1f, 1f, 1f, order);
    order[0] = 0;
    v.jitterOrder()[1] = 0;
    assertThat(v.jitterOrder()).containsExactly(1, 2, 0);
  }

  @Test
  void invalidValuesAreRejectedWithFieldAndValue() {
    int[] ok = {0, 1, 2};
    assertThatThrownBy(() -> new ViewParams(-1, 0, 1, 1, false, 1f, 1f, 1f, ok))
        .hasMessage("Crop x must be at least 0, cannot be: -1");
    assertThatThrownBy(() -> new ViewParams(0, 0, 0, 1, false, 1f, 1f, 1f, ok))
        .hasMessage("Crop width must be at least 1, cannot be: 0");
    assertThatThrownBy(() -> new ViewParams(0, 0, 1, 1, false, Float.NaN, 1f, 1f, ok))
        .hasMessage("Brightness factor must be finite and at least 0, cannot be: NaN");
    assertThatThrownBy(() -> new ViewParams(0, 0, 1, 1, false, 1f, 1f, -0.5f, ok))
        .hasMessage("Saturation factor must be finite and at least 0, cannot be: -0.5");
    assertThatThrownBy(() -> new ViewParams(0, 0, 1, 1, false, 1f, 1f, 1f, new int[] {0, 0, 2}))
        .hasMessage("Jitter order must be a permutation of [0, 1, 2], cannot be: [0, 0, 2]");
    assertThatThrownBy(() -> ViewParams.fullImage(4, 4).requireFitsIn(3, 4))
        .hasMessage("Crop box (x=0, y=0, width=4, height=4) must lie inside the 3 x 4 image");
  }
}
