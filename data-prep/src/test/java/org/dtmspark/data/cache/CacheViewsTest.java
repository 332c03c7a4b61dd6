package org.dtmspark.data.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.dtmspark.core.data.AugmentConfig;
import org.dtmspark.core.data.ViewParams;
import org.dtmspark.core.data.ViewSampler;
import org.dtmspark.core.train.Seeds;
import org.junit.jupiter.api.Test;

class CacheViewsTest {
  private static final AugmentConfig AUGMENT = AugmentConfig.defaultPretrain(224);

  @Test
  void sampledViewIsTheSeededSamplerDrawForTheImageIdAndViewIndex() {
    CacheViews views = new CacheViews(AUGMENT, 42, 4, true);
    for (long id : new long[] {0, 7, 1_281_166}) {
      for (int v = 0; v < 4; v++) {
        ViewParams expected =
            new ViewSampler(AUGMENT).sample(500, 375, Seeds.rng(42, "cache-view", id, v));
        assertThat(views.view(id, v, 500, 375)).isEqualTo(expected);
      }
    }
  }

  @Test
  void viewsDependOnlyOnSeedImageIdAndViewIndex() {
    CacheViews a = new CacheViews(AUGMENT, 42, 4, false);
    CacheViews b = new CacheViews(AUGMENT, 42, 2, true);
    // Asking in another order, or with another K, gives the same view.
    assertThat(a.view(9, 1, 300, 200)).isEqualTo(b.view(9, 1, 300, 200));
    assertThat(a.view(9, 0, 300, 200)).isNotEqualTo(a.view(9, 1, 300, 200));
    assertThat(a.view(9, 0, 300, 200)).isNotEqualTo(a.view(10, 0, 300, 200));
    assertThat(new CacheViews(AUGMENT, 43, 4, false).view(9, 0, 300, 200))
        .isNotEqualTo(a.view(9, 0, 300, 200));
  }

  @Test
  void fullViewIsTheWholeImageWithoutFlipOrJitterAndComesLast() {
    CacheViews views = new CacheViews(AUGMENT, 1, 2, true);
    assertThat(views.view(5, TargetCacheSchema.FULL_VIEW, 31, 17))
        .isEqualTo(ViewParams.fullImage(31, 17));
    assertThat(views.rowsPerImage()).isEqualTo(3);
    assertThat(views.viewOfRow(0)).isZero();
    assertThat(views.viewOfRow(1)).isEqualTo(1);
    assertThat(views.viewOfRow(2)).isEqualTo(TargetCacheSchema.FULL_VIEW);
    CacheViews fullOnly = new CacheViews(AUGMENT, 1, 0, true);
    assertThat(fullOnly.viewOfRow(0)).isEqualTo(TargetCacheSchema.FULL_VIEW);
  }

  @Test
  void viewsOutsideTheCacheAreRejectedNamingTheRange() {
    CacheViews views = new CacheViews(AUGMENT, 1, 2, false);
    assertThatThrownBy(() -> views.view(5, 2, 31, 17))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("View index must be in [0, 2), cannot be: 2");
    assertThatThrownBy(() -> views.view(5, TargetCacheSchema.FULL_VIEW, 31, 17))
        .hasMessage("View index must be in [0, 2), cannot be: -1");
    assertThatThrownBy(() -> new CacheViews(AUGMENT, 1, 0, false))
        .hasMessageContaining("at least one view per image");
    assertThatThrownBy(() -> new CacheViews(AUGMENT, 1, -1, true))
        .hasMessage("Views per image must be at least 0, cannot be: -1");
  }

  @Test
  void policyNamesTheSettingsTheRuleAndTheViews() {
    String policy = new CacheViews(AUGMENT, 1, 4, true).policy();
    assertThat(policy)
        .isEqualTo(
            "random-resized-crop scale=[0.2, 1.0] ratio=[0.75, 1.3333333333333333] flip=0.5"
                + " jitter brightness=0.4 contrast=0.4 saturation=0.4 at 224 px; view v of image"
                + " id: ViewSampler(Seeds.rng(seed, \"cache-view\", id, v)); K=4 + full (view -1:"
                + " whole image resized, no flip, no jitter)");
  }
}
