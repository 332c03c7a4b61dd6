package org.dtmspark.core.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.dtmspark.core.data.AugmentConfig;
import org.dtmspark.core.data.BlockMaskGenerator;
import org.dtmspark.core.data.ByteViewRenderer;
import org.dtmspark.core.data.ImageDataset;
import org.dtmspark.core.data.ImageSource;
import org.dtmspark.core.data.RandomErasing;
import org.dtmspark.core.data.RgbImage;
import org.dtmspark.core.data.SyntheticPhotos;
import org.dtmspark.core.data.ViewParams;
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
    // Two streams: one rank takes 3 images of stream 0, then 3 of stream 1; rank r takes stream r.
    BatchPlan whole = BatchPlan.of(new int[] {10, 14}, i -> true, 6, 3).forRank(6, 0, 1, 2);
    try (BatchLoader one = loader(whole, null);
        BatchLoader r0 = loader(whole.forRank(3, 0, 2, 2), null);
        BatchLoader r1 = loader(whole.forRank(3, 1, 2, 2), null)) {
      for (long step = 0; step < 5; step++) {
        Batch all = one.build(step);
        Batch[] parts = {r0.build(step), r1.build(step)};
        int n = masks.numPatches();
        int px = 3 * SIZE * SIZE;
        for (int i = 0; i < 6; i++) {
          Batch part = parts[i / 3];
          int j = i % 3;
          assertThat(part.indices()[j]).isEqualTo(all.indices()[i]);
          assertThat(part.views().get(j)).isEqualTo(all.views().get(i));
          assertThat(slice(part.mask(), j, n)).isEqualTo(slice(all.mask(), i, n));
          assertThat(slice(part.pixels(), j, px)).isEqualTo(slice(all.pixels(), i, px));
          assertThat(slice(all.pixels(), i, px))
              .isEqualTo(rendered(all.indices()[i], all.views().get(i)));
        }
      }
    }
  }

  @Test
  void pixelAugmentationIsSeededByStreamPositionWhateverTheRanksAndThreads() {
    // Writes its generator's first draw into the image's first byte and erases the image's last
    // value with its second draw.
    int px = 3 * SIZE * SIZE;
    PixelAugmentation mark =
        (pixels, offset, size, rng) -> {
          pixels[offset] = (byte) rng.nextInt(256);
          return new RandomErasing.Erasure(
              new RandomErasing.Box[0],
              new int[] {px - 1},
              new float[] {(float) rng.nextInt(1000)});
        };
    BatchPlan whole = BatchPlan.of(new int[] {10, 14}, i -> true, 6, 3).forRank(6, 0, 1, 2);
    try (BatchLoader one = augmenting(whole, mark, 1);
        BatchLoader r0 = augmenting(whole.forRank(3, 0, 2, 2), mark, 2);
        BatchLoader r1 = augmenting(whole.forRank(3, 1, 2, 2), mark, 3);
        BatchLoader plain = loader(whole, null)) {
      for (long step = 0; step < 5; step++) {
        Batch all = one.build(step);
        Batch[] parts = {r0.build(step), r1.build(step)};
        Batch unaugmented = plain.build(step);
        long epoch = whole.epochOf(step);
        assertThat(unaugmented.erased()).isNull();
        for (int i = 0; i < 6; i++) {
          SplittableRandom rng =
              Seeds.rng(3, "pixel-augment", epoch, whole.stream(i), whole.position(step, i));
          assertThat(all.pixels()[i * px]).isEqualTo((byte) rng.nextInt(256));
          // One erased value per image, at its last position, in batch order.
          assertThat(all.erased().index()[i]).isEqualTo((long) i * px + px - 1);
          assertThat(all.erased().values()[i]).isEqualTo((float) rng.nextInt(1000));
          Batch part = parts[i / 3];
          assertThat(slice(part.pixels(), i % 3, px)).isEqualTo(slice(all.pixels(), i, px));
          assertThat(part.erased().values()[i % 3]).isEqualTo(all.erased().values()[i]);
          // Everything but the marked byte is the rendered view.
          assertThat(all.pixels()[i * px + 1]).isEqualTo(unaugmented.pixels()[i * px + 1]);
        }
      }
    }
  }

  private BatchLoader augmenting(BatchPlan plan, PixelAugmentation augmentation, int threads) {
    return new BatchLoader(data, plan, sampler, masks, null, SIZE, augmentation, 0, 0, 1, threads);
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
          // One stored view per shard (here the one block) and epoch.
          assertThat(k)
              .isEqualTo(BatchLoader.replayView(9, plan.epochOf(step), 0, store.viewsPerImage()));
          float[] expected = new float[tokenSize];
          store.tokens(index, k, expected, 0);
          assertThat(slice(b.targets(), i, tokenSize)).isEqualTo(expected);
          assertThat(slice(b.pixels(), i, 3 * SIZE * SIZE)).isEqualTo(rendered(index, view));
        }
      }
    }
  }

  private BatchLoader loader(BatchPlan plan, TargetStore store) {
    return new BatchLoader(data, plan, sampler, masks, store, SIZE, 0, 0, 1);
  }

  @Test
  void oneAndThreeLoaderThreadsGiveIdenticalBatchesOfEncodedImages() {
    EncodedImages jpegs = new EncodedImages(30, new int[] {10, 12, 8});
    BatchPlan plan = BatchPlan.of(jpegs.blocks(), i -> true, 6, 4).forRank(6, 0, 1, 3);
    try (BatchLoader one =
            new BatchLoader(jpegs, plan, sampler, masks, null, SIZE, null, 0, 0, 1, 1);
        BatchLoader three =
            new BatchLoader(jpegs, plan, sampler, masks, null, SIZE, null, 0, 0, 1, 3)) {
      for (long step = 0; step < 2 * plan.stepsPerEpoch(); step++) {
        Batch a = one.build(step);
        Batch b = three.build(step);
        assertThat(b.indices()).isEqualTo(a.indices());
        assertThat(b.views()).isEqualTo(a.views());
        assertThat(b.mask()).isEqualTo(a.mask());
        assertThat(b.pixels()).isEqualTo(a.pixels());
        // The pixels are the views of the images, not a constant.
        assertThat(slice(a.pixels(), 0, 3 * SIZE * SIZE))
            .isNotEqualTo(slice(a.pixels(), 1, 3 * SIZE * SIZE));
      }
    }
  }

  /**
   * The 8-bit rendering of {@code view} of image {@code index}, as the loader's kernel makes it.
   */
  private byte[] rendered(int index, ViewParams view) {
    byte[] out = new byte[3 * SIZE * SIZE];
    new ByteViewRenderer().render(data.image(index), view, SIZE, out, 0);
    return out;
  }

  private static float[] slice(float[] a, int i, int n) {
    float[] out = new float[n];
    System.arraycopy(a, i * n, out, 0, n);
    return out;
  }

  private static byte[] slice(byte[] a, int i, int n) {
    byte[] out = new byte[n];
    System.arraycopy(a, i * n, out, 0, n);
    return out;
  }

  /** JPEG photos of 40 x 30 in the given blocks: what the loader's threads decode. */
  private static final class EncodedImages implements ImageDataset {
    private final byte[][] files;
    private final int[] blocks;

    EncodedImages(int count, int[] blocks) {
      this.files = new byte[count][];
      for (int i = 0; i < count; i++) {
        files[i] = SyntheticPhotos.jpeg(40, 30, i, 0.9f);
      }
      this.blocks = blocks.clone();
    }

    @Override
    public String id() {
      return "jpegs";
    }

    @Override
    public int size() {
      return files.length;
    }

    @Override
    public int numClasses() {
      return 1;
    }

    @Override
    public int label(int index) {
      return 0;
    }

    @Override
    public int[] blocks() {
      return blocks.clone();
    }

    @Override
    public ImageSource source(int index) {
      return ImageSource.encoded("jpeg " + index, files[index], "jpeg");
    }

    @Override
    public RgbImage image(int index) {
      return RgbImage.decode(files[index], "jpeg " + index);
    }
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
