package org.dtmspark.core.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.dtmspark.core.data.AugmentConfig;
import org.dtmspark.core.data.BlockMaskGenerator;
import org.dtmspark.core.data.ViewParams;
import org.dtmspark.core.data.ViewRenderer;
import org.dtmspark.core.data.ViewSampler;
import org.dtmspark.core.teacher.TargetStore;
import org.junit.jupiter.api.Test;

class BatchLoaderTest {
  private static final int SIZE = 16;

  private final SyntheticImages data = new SyntheticImages(24, 20, 3, 2);
  private final ViewSampler sampler = new ViewSampler(AugmentConfig.defaultPretrain(SIZE));
  private final BlockMaskGenerator masks = BlockMaskGenerator.forRatio(4, 4, 0.4);

  @Test
  void twoRanksDrawTheSameViewsAndMasksAsOneRankForTheSameImages() {
    BatchPlan whole = BatchPlan.of(new int[] {10, 14}, i -> true, 6, 3);
    BatchPlan half = BatchPlan.of(new int[] {10, 14}, i -> true, 3, 3);
    try (BatchLoader one = loader(whole, null);
        BatchLoader r0 = loader(half.forRank(0, 2), null);
        BatchLoader r1 = loader(half.forRank(1, 2), null)) {
      for (long step = 0; step < 5; step++) {
        Batch all = one.build(step);
        Batch[] parts = {r0.build(step), r1.build(step)};
        int n = masks.numPatches();
        int px = 3 * SIZE * SIZE;
        for (int i = 0; i < 6; i++) {
          Batch part = parts[i % 2];
          int j = i / 2;
          assertThat(part.indices()[j]).isEqualTo(all.indices()[i]);
          assertThat(part.views().get(j)).isEqualTo(all.views().get(i));
          assertThat(slice(part.mask(), j, n)).isEqualTo(slice(all.mask(), i, n));
          assertThat(slice(part.pixels(), j, px)).isEqualTo(slice(all.pixels(), i, px));
        }
      }
    }
  }

  @Test
  void pixelAugmentationIsSeededByStepAndPositionWhateverTheRanks() {
    // An augmentation that writes its generator's first draw into the image's first pixel.
    PixelAugmentation mark = (pixels, offset, size, rng) -> pixels[offset] = rng.nextInt(1000);
    BatchPlan whole = BatchPlan.of(new int[] {10, 14}, i -> true, 6, 3);
    BatchPlan half = BatchPlan.of(new int[] {10, 14}, i -> true, 3, 3);
    try (BatchLoader one = augmenting(whole, mark);
        BatchLoader r0 = augmenting(half.forRank(0, 2), mark);
        BatchLoader r1 = augmenting(half.forRank(1, 2), mark);
        BatchLoader plain = loader(whole, null)) {
      int px = 3 * SIZE * SIZE;
      for (long step = 0; step < 3; step++) {
        Batch all = one.build(step);
        Batch[] parts = {r0.build(step), r1.build(step)};
        Batch unaugmented = plain.build(step);
        for (int i = 0; i < 6; i++) {
          float first = all.pixels()[i * px];
          int expected = Seeds.rng(3, "pixel-augment", step, whole.globalPosition(i)).nextInt(1000);
          assertThat(first).isEqualTo(expected);
          assertThat(slice(parts[i % 2].pixels(), i / 2, px)).isEqualTo(slice(all.pixels(), i, px));
          // Everything but the marked pixel is the rendered view.
          assertThat(all.pixels()[i * px + 1]).isEqualTo(unaugmented.pixels()[i * px + 1]);
        }
      }
    }
  }

  private BatchLoader augmenting(BatchPlan plan, PixelAugmentation augmentation) {
    return new BatchLoader(data, plan, sampler, masks, null, SIZE, augmentation, 0, 0, 1);
  }

  @Test
  void cachedTargetsReplayTheStoredViewAndCarryItsTokens() {
    StoredViews store = new StoredViews(data, 3, 5, 2);
    BatchPlan plan = BatchPlan.of(data.blocks(), store::has, 4, 9);
    try (BatchLoader loader = loader(plan, store)) {
      for (long step = 0; step < 4; step++) {
        Batch b = loader.build(step);
        int tokenSize = store.numTokens() * store.dim();
        for (int i = 0; i < b.size(); i++) {
          int index = b.indices()[i];
          assertThat(store.has(index)).isTrue();
          ViewParams view = b.views().get(i);
          int k = store.viewIndex(index, view);
          assertThat(k).isBetween(0, store.viewsPerImage() - 1);
          float[] expected = new float[tokenSize];
          store.tokens(index, k, expected, 0);
          assertThat(slice(b.targets(), i, tokenSize)).isEqualTo(expected);
          assertThat(slice(b.pixels(), i, 3 * SIZE * SIZE))
              .isEqualTo(ViewRenderer.render(data.image(index), view, SIZE));
        }
      }
    }
  }

  private BatchLoader loader(BatchPlan plan, TargetStore store) {
    return new BatchLoader(data, plan, sampler, masks, store, SIZE, 0, 0, 1);
  }

  private static float[] slice(float[] a, int i, int n) {
    float[] out = new float[n];
    System.arraycopy(a, i * n, out, 0, n);
    return out;
  }

  /**
   * A store with K random views per image (every 5th image has none) and tokens derived from them.
   */
  static final class StoredViews implements TargetStore {
    private final ViewParams[][] views;
    private final int numTokens;
    private final int dim;

    StoredViews(SyntheticImages data, int k, int numTokens, int dim) {
      this.numTokens = numTokens;
      this.dim = dim;
      ViewSampler sampler = new ViewSampler(AugmentConfig.defaultPretrain(SIZE));
      views = new ViewParams[data.size()][];
      for (int i = 0; i < data.size(); i++) {
        if (i % 5 == 4) {
          continue;
        }
        views[i] = new ViewParams[k];
        for (int v = 0; v < k; v++) {
          views[i][v] =
              sampler.sample(
                  data.image(i).width(), data.image(i).height(), new SplittableRandom(i * 31L + v));
        }
      }
    }

    int viewIndex(int index, ViewParams view) {
      for (int v = 0; v < views[index].length; v++) {
        if (views[index][v].equals(view)) {
          return v;
        }
      }
      return -1;
    }

    @Override
    public String id() {
      return "stored-views";
    }

    @Override
    public int numTokens() {
      return numTokens;
    }

    @Override
    public int dim() {
      return dim;
    }

    @Override
    public int viewsPerImage() {
      return 3;
    }

    @Override
    public boolean has(int index) {
      return views[index] != null;
    }

    @Override
    public ViewParams view(int index, int view) {
      return views[index][view];
    }

    @Override
    public void tokens(int index, int view, float[] out, int offset) {
      for (int t = 0; t < numTokens * dim; t++) {
        out[offset + t] = index * 100 + view * 10 + t * 0.5f;
      }
    }

    @Override
    public void close() {}
  }
}
