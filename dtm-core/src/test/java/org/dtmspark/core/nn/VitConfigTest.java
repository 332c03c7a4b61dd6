package org.dtmspark.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class VitConfigTest {
  private static VitConfig config(
      int imageSize, int patchSize, int embedDim, int heads, double layerScale, double dropPath) {
    return new VitConfig(
        "t",
        imageSize,
        patchSize,
        3,
        embedDim,
        2,
        heads,
        64,
        layerScale,
        true,
        true,
        0,
        0,
        dropPath);
  }

  @Test
  void presetsFollowPaperTable12() {
    VitConfig tiny = VitConfig.preset("tiny", 224, 16);
    VitConfig small = VitConfig.preset("small", 224, 16);
    VitConfig base = VitConfig.preset("base", 224, 16);
    VitConfig large = VitConfig.preset("large", 224, 16);
    assertThat(tiny)
        .isEqualTo(new VitConfig("tiny", 224, 16, 3, 192, 4, 3, 768, 0.1, true, true, 0, 0, 0.0));
    assertThat(small)
        .isEqualTo(
            new VitConfig("small", 224, 16, 3, 384, 12, 6, 1536, 0.1, true, true, 0, 0, 0.0));
    assertThat(base)
        .isEqualTo(
            new VitConfig("base", 224, 16, 3, 768, 12, 12, 3072, 0.1, true, true, 0, 0, 0.0));
    assertThat(large)
        .isEqualTo(
            new VitConfig("large", 224, 16, 3, 1024, 24, 16, 4096, 1e-5, true, true, 0, 0, 0.0));
  }

  @Test
  void derivedSizes() {
    VitConfig small = VitConfig.preset("small", 224, 16);
    assertThat(small.gridSize()).isEqualTo(14);
    assertThat(small.numPatches()).isEqualTo(196);
    assertThat(small.headDim()).isEqualTo(64);
  }

  @Test
  void withersChangeOnlyTheirField() {
    VitConfig small = VitConfig.preset("small", 224, 16);
    assertThat(small.withTokenHeadDim(512).tokenHeadDim()).isEqualTo(512);
    assertThat(small.withTokenHeadDim(512).withTokenHeadDim(0)).isEqualTo(small);
    assertThat(small.withNumClasses(1000).numClasses()).isEqualTo(1000);
    assertThat(small.withNumClasses(1000).withNumClasses(0)).isEqualTo(small);
    assertThat(small.withDropPath(0.1).dropPath()).isEqualTo(0.1);
    assertThat(small.withDropPath(0.1).withDropPath(0)).isEqualTo(small);
    assertThat(small.withImageSize(96).numPatches()).isEqualTo(36);
    assertThat(small.withImageSize(96).withImageSize(224)).isEqualTo(small);
  }

  @Test
  void unknownPresetNamesTheValidSizes() {
    assertThatThrownBy(() -> VitConfig.preset("huge", 224, 16))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "Unknown model size, must be one of [tiny, small, base, large], cannot be: huge");
  }

  @Test
  void imageSizeMustBeAMultipleOfPatchSize() {
    assertThatThrownBy(() -> config(225, 16, 64, 2, 0.1, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("imageSize must be a multiple of patchSize 16, cannot be: 225");
  }

  @Test
  void embedDimMustBeAMultipleOfNumHeads() {
    assertThatThrownBy(() -> config(32, 16, 64, 3, 0.1, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("embedDim must be a multiple of numHeads 3, cannot be: 64");
  }

  @Test
  void sizesMustBePositive() {
    assertThatThrownBy(() -> config(32, 0, 64, 2, 0.1, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("patchSize must be at least 1, cannot be: 0");
    assertThatThrownBy(() -> new VitConfig("t", 32, 16, 3, 64, 0, 2, 64, 0.1, true, true, 0, 0, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("depth must be at least 1, cannot be: 0");
  }

  @Test
  void layerScaleMustNotBeNegative() {
    assertThat(config(32, 16, 64, 2, 0, 0).layerScaleInit()).isZero();
    assertThatThrownBy(() -> config(32, 16, 64, 2, -0.1, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "layerScaleInit must be finite and at least 0 (0 = no layer scale), cannot be: -0.1");
  }

  @Test
  void headSizesMustNotBeNegative() {
    VitConfig c = config(32, 16, 64, 2, 0.1, 0);
    assertThatThrownBy(() -> c.withTokenHeadDim(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("tokenHeadDim must be at least 0 (0 = no pretraining head), cannot be: -1");
    assertThatThrownBy(() -> c.withNumClasses(-2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("numClasses must be at least 0 (0 = no classifier head), cannot be: -2");
  }

  @Test
  void dropPathMustBeBelowOne() {
    assertThat(config(32, 16, 64, 2, 0.1, 0.999).dropPath()).isEqualTo(0.999);
    assertThatThrownBy(() -> config(32, 16, 64, 2, 0.1, 1.0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dropPath must be in [0, 1), cannot be: 1.0");
    assertThatThrownBy(() -> config(32, 16, 64, 2, 0.1, -0.1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dropPath must be in [0, 1), cannot be: -0.1");
  }

  @Test
  void nameMustNotBeBlank() {
    assertThatThrownBy(() -> new VitConfig(" ", 32, 16, 3, 64, 2, 2, 64, 0.1, true, true, 0, 0, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Model name must not be blank, cannot be:  ");
  }
}
