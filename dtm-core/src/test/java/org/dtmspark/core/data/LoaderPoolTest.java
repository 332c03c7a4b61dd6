package org.dtmspark.core.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class LoaderPoolTest {
  private static final int SIZE = 32;
  private static final ViewSampler SAMPLER = new ViewSampler(AugmentConfig.defaultPretrain(SIZE));
  private static final List<byte[]> JPEGS = new ArrayList<>();

  @BeforeAll
  static void writeJpegs() {
    for (int i = 0; i < 6; i++) {
      JPEGS.add(SyntheticPhotos.jpeg(90 + 7 * i, 70 + 5 * i, 100 + i, 0.9f));
    }
  }

  /** Twelve samples: encoded JPEGs, their 8-bit rasters, and float images, with sampled views. */
  private static List<ImageSource> mixedSources() {
    List<ImageSource> sources = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      byte[] jpeg = JPEGS.get(i % JPEGS.size());
      String id = "img-" + i;
      switch (i % 3) {
        case 0 -> sources.add(ImageSource.encoded(id, jpeg, i % 2 == 0 ? "jpeg" : null));
        case 1 -> sources.add(ImageSource.decoded(id, RgbImage.decode(jpeg, id)));
        default ->
            sources.add(
                ImageSource.raster(
                    id,
                    new ImageIoRasterDecoder()
                        .decode(jpeg, "jpeg", ViewChoice.fullImage(), id)
                        .raster()));
      }
    }
    return sources;
  }

  private static List<ViewChoice> sampledViews(int count, long seed) {
    List<ViewChoice> choices = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      long s = seed * 1000 + i;
      choices.add((w, h) -> SAMPLER.sample(w, h, new SplittableRandom(s)));
    }
    return choices;
  }

  @Test
  void oneAndThreeThreadsGiveIdenticalBytes() {
    List<ImageSource> sources = mixedSources();
    byte[] one = new byte[sources.size() * 3 * SIZE * SIZE];
    byte[] three = new byte[one.length];
    List<ViewParams> viewsOne;
    List<ViewParams> viewsThree;
    try (LoaderPool pool = new LoaderPool(1, ImageIoRasterDecoder::new)) {
      viewsOne = pool.renderChoosing(sources, sampledViews(sources.size(), 7), SIZE, one);
    }
    try (LoaderPool pool = new LoaderPool(3, ImageIoRasterDecoder::new)) {
      // Twice: the second batch reuses the threads' decoders and buffers.
      pool.renderChoosing(sources, sampledViews(sources.size(), 8), SIZE, three);
      viewsThree = pool.renderChoosing(sources, sampledViews(sources.size(), 7), SIZE, three);
    }
    assertThat(three).isEqualTo(one);
    assertThat(viewsThree).isEqualTo(viewsOne);
    assertThat(viewsOne).doesNotHaveDuplicates();
  }

  @Test
  void everySampleIsRenderedAtItsOffsetAsTheRendererRendersItAlone() {
    List<ImageSource> sources = mixedSources();
    List<ViewParams> views = new ArrayList<>();
    for (int i = 0; i < sources.size(); i++) {
      views.add(SAMPLER.sample(90, 70, new SplittableRandom(i)));
    }
    int each = 3 * SIZE * SIZE;
    byte[] batch = new byte[sources.size() * each + 5];
    try (LoaderPool pool = new LoaderPool(2, ImageIoRasterDecoder::new)) {
      pool.render(sources, views, SIZE, batch);
    }
    ByteViewRenderer alone = new ByteViewRenderer();
    for (int i = 0; i < sources.size(); i++) {
      RgbImage image = RgbImage.decode(JPEGS.get(i % JPEGS.size()), "check");
      byte[] one = new byte[each];
      alone.render(image, views.get(i), SIZE, one, 0);
      byte[] slot = java.util.Arrays.copyOfRange(batch, i * each, (i + 1) * each);
      assertThat(slot).as("sample %d", i).isEqualTo(one);
    }
    assertThat(java.util.Arrays.copyOfRange(batch, sources.size() * each, batch.length))
        .containsOnly((byte) 0);
  }

  @Test
  void badImageBytesGiveAnErrorNamingTheSample() {
    List<ImageSource> sources = new ArrayList<>(mixedSources());
    sources.set(7, ImageSource.encoded("n01440764/n01440764_10026", new byte[] {1, 2, 3}, "jpeg"));
    sources.set(9, ImageSource.encoded("later", new byte[] {4, 5}, null));
    byte[] out = new byte[sources.size() * 3 * SIZE * SIZE];
    for (int threads : new int[] {1, 3}) {
      try (LoaderPool pool = new LoaderPool(threads, ImageIoRasterDecoder::new)) {
        assertThatThrownBy(
                () -> pool.renderChoosing(sources, sampledViews(sources.size(), 1), SIZE, out))
            .isInstanceOf(SampleLoadException.class)
            .hasMessageStartingWith("Cannot load sample 7 (n01440764/n01440764_10026): ")
            .hasMessageContaining("Cannot decode image n01440764/n01440764_10026")
            .hasCauseInstanceOf(ImageDecodeException.class)
            .satisfies(
                e ->
                    assertThat(((SampleLoadException) e).sampleId())
                        .isEqualTo("n01440764/n01440764_10026"));
        // The pool still works after a failed batch.
        List<ImageSource> good = mixedSources();
        pool.renderChoosing(good, sampledViews(good.size(), 1), SIZE, out);
      }
    }
  }

  @Test
  void aViewOutsideTheImageIsAnErrorNamingTheSample() {
    List<ImageSource> sources = mixedSources().subList(0, 2);
    ViewParams tooWide = new ViewParams(0, 0, 500, 10, false, 1f, 1f, 1f, new int[] {0, 1, 2});
    byte[] out = new byte[2 * 3 * SIZE * SIZE];
    try (LoaderPool pool = new LoaderPool(2, ImageIoRasterDecoder::new)) {
      assertThatThrownBy(
              () -> pool.render(sources, List.of(ViewParams.fullImage(90, 70), tooWide), SIZE, out))
          .isInstanceOf(SampleLoadException.class)
          .hasMessageContaining("sample 1 (img-1)")
          .hasMessageContaining("must lie inside the 97 x 75 image");
    }
  }

  @Test
  void batchBufferAndViewCountAreChecked() {
    List<ImageSource> sources = mixedSources().subList(0, 2);
    List<ViewParams> views = List.of(ViewParams.fullImage(90, 70), ViewParams.fullImage(90, 70));
    try (LoaderPool pool = new LoaderPool(1, ImageIoRasterDecoder::new)) {
      assertThatThrownBy(() -> pool.render(sources, views, SIZE, new byte[100]))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Batch buffer must hold 2 x 3 x 32 x 32 = 6144 bytes, cannot be: 100");
      assertThatThrownBy(() -> pool.render(sources, views.subList(0, 1), SIZE, new byte[6144]))
          .hasMessage("Number of views must equal the number of images (2), cannot be: 1");
    }
  }

  @Test
  void encodedImagesNeedADecoder() {
    try (LoaderPool pool = new LoaderPool(1, null)) {
      assertThatThrownBy(
              () ->
                  pool.render(
                      List.of(ImageSource.encoded("a", JPEGS.get(0), "jpeg")),
                      List.of(ViewParams.fullImage(90, 70)),
                      SIZE,
                      new byte[3 * SIZE * SIZE]))
          .isInstanceOf(SampleLoadException.class)
          .hasMessageContaining("sample 0 (a)")
          .hasMessageContaining("no decoder");
    }
  }

  @Test
  void closeClosesEveryThreadsDecoderAndRefusesLaterBatches() {
    AtomicInteger opened = new AtomicInteger();
    AtomicInteger closed = new AtomicInteger();
    List<ImageSource> sources = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      sources.add(ImageSource.encoded("e" + i, JPEGS.get(i % JPEGS.size()), "jpeg"));
    }
    LoaderPool pool =
        new LoaderPool(
            2,
            () -> {
              opened.incrementAndGet();
              return new RasterDecoder() {
                private final ImageIoRasterDecoder inner = new ImageIoRasterDecoder();

                @Override
                public DecodedCrop decode(byte[] b, String f, ViewChoice v, String s) {
                  return inner.decode(b, f, v, s);
                }

                @Override
                public void close() {
                  inner.close();
                  closed.incrementAndGet();
                }
              };
            });
    byte[] out = new byte[sources.size() * 3 * SIZE * SIZE];
    pool.renderChoosing(sources, sampledViews(sources.size(), 3), SIZE, out);
    pool.close();
    assertThat(opened.get()).isBetween(1, 2);
    assertThat(closed.get()).isEqualTo(opened.get());
    assertThatThrownBy(() -> pool.renderChoosing(sources, sampledViews(8, 3), SIZE, out))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("Loader pool is closed");
  }

  @Test
  @Timeout(60)
  void aStrayInterruptDoesNotStopALoaderThread() {
    List<ImageSource> sources = mixedSources();
    byte[] expected = new byte[sources.size() * 3 * SIZE * SIZE];
    byte[] out = new byte[expected.length];
    try (LoaderPool pool = new LoaderPool(2, ImageIoRasterDecoder::new)) {
      pool.renderChoosing(sources, sampledViews(sources.size(), 5), SIZE, expected);
      for (Thread t : Thread.getAllStackTraces().keySet()) {
        if (t.getName().startsWith("dtm-loader-")) {
          t.interrupt();
        }
      }
      pool.renderChoosing(sources, sampledViews(sources.size(), 5), SIZE, out);
    }
    assertThat(out).isEqualTo(expected);
  }

  @Test
  @Timeout(60)
  void anInterruptedCallerGetsAnErrorAndThePoolStillWorks() {
    List<ImageSource> sources = mixedSources();
    byte[] out = new byte[sources.size() * 3 * SIZE * SIZE];
    try (LoaderPool pool = new LoaderPool(1, ImageIoRasterDecoder::new)) {
      Thread.currentThread().interrupt();
      assertThatThrownBy(
              () -> pool.renderChoosing(sources, sampledViews(sources.size(), 2), SIZE, out))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("Interrupted while loading a batch");
      assertThat(Thread.interrupted()).as("interrupt status kept").isTrue();
      List<ViewParams> views =
          pool.renderChoosing(sources, sampledViews(sources.size(), 2), SIZE, out);
      assertThat(views).hasSize(sources.size()).doesNotContainNull();
    }
  }

  @Test
  void aMissingSourceIsAnErrorNamingTheSample() {
    List<ImageSource> sources = new ArrayList<>(mixedSources().subList(0, 3));
    sources.set(1, null);
    try (LoaderPool pool = new LoaderPool(1, ImageIoRasterDecoder::new)) {
      assertThatThrownBy(
              () -> pool.renderChoosing(sources, sampledViews(3, 1), SIZE, new byte[3 * 3072]))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Image source and view of sample 1 must be given, cannot be: null");
    }
  }

  @Test
  void defaultThreadsAreTheTaskCpusLessTheIntraOpThreadsAndAtLeastOne() {
    assertThat(LoaderPool.defaultThreads(8, 6)).isEqualTo(2);
    assertThat(LoaderPool.defaultThreads(16, 4)).isEqualTo(12);
    assertThat(LoaderPool.defaultThreads(4, 4)).isEqualTo(1);
    assertThat(LoaderPool.defaultThreads(1, 2)).isEqualTo(1);
    assertThatThrownBy(() -> LoaderPool.defaultThreads(0, 1))
        .hasMessage("Task CPUs must be at least 1, cannot be: 0");
    assertThatThrownBy(() -> LoaderPool.defaultThreads(4, 0))
        .hasMessage("Intra-op threads must be at least 1, cannot be: 0");
    assertThatThrownBy(() -> new LoaderPool(0, null))
        .hasMessage("Number of loader threads must be at least 1, cannot be: 0");
  }
}
