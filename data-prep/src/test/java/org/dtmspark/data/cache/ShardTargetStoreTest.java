package org.dtmspark.data.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.dtmspark.core.data.AugmentConfig;
import org.dtmspark.data.shard.Manifest;
import org.dtmspark.data.shard.RejectWriter;
import org.dtmspark.data.shard.ShardFormatException;
import org.dtmspark.data.shard.ShardImageDataset;
import org.dtmspark.data.shard.ShardWriteOptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ShardTargetStore} over a cache written here with {@link TargetCacheWriter}: 7 images in
 * shards of 3, 2 and 2, image 3 rejected, K = 2 plus the full view, fp16 tokens [4, 3].
 */
class ShardTargetStoreTest {
  private static final int N = 4;
  private static final int P = 3;
  private static final int[] SHARDS = {3, 2, 2};
  private static final long REJECTED = 3;
  private static final CacheViews VIEWS =
      new CacheViews(AugmentConfig.defaultPretrain(16), 5, 2, true);

  @TempDir java.nio.file.Path dir;

  private final Configuration conf = new Configuration();
  private Path images;
  private Path cache;

  /** Written rows by (image id, view). */
  private final Map<String, TargetRow> written = new HashMap<>();

  @BeforeEach
  void writeCache() throws IOException {
    images = new Path(dir.resolve("images").toUri());
    cache = new Path(dir.resolve("cache").toUri());
    CacheFixtures.writeImages(conf, images, "train", SHARDS, Set.of());
    writeCache(settings(Manifest.fileSha256(conf, images)), REJECTED);
  }

  private static TargetCacheSettings settings(String manifestSha) {
    return new TargetCacheSettings(
        "teacher",
        "ab".repeat(32),
        N,
        P,
        TargetRow.FP16,
        "mean=[0.5, 0.5, 0.5] std=[0.25, 0.25, 0.25]",
        VIEWS.policy(),
        2,
        true,
        5,
        "train",
        manifestSha);
  }

  private void writeCache(TargetCacheSettings settings, long rejectedId) throws IOException {
    SplittableRandom random = new SplittableRandom(3);
    long id = 0;
    long rows = 0;
    List<String> files = new ArrayList<>();
    for (int s = 0; s < SHARDS.length; s++) {
      String name = TargetCacheSchema.fileName(s);
      files.add(name);
      try (TargetCacheWriter writer =
          TargetCacheWriter.create(
              conf, new Path(cache, name), ShardWriteOptions.DEFAULTS, settings)) {
        for (int i = 0; i < SHARDS[s]; i++, id++) {
          if (id == rejectedId) {
            try (RejectWriter rejects =
                RejectWriter.create(
                    conf, TargetRejects.path(cache, name), ShardWriteOptions.DEFAULTS)) {
              rejects.write(
                  TargetRejects.row("images/train/" + name, id, "img_" + id, "train", "x"));
              rejects.commit();
            }
            continue;
          }
          for (int r = 0; r < VIEWS.rowsPerImage(); r++) {
            int view = VIEWS.viewOfRow(r);
            float[] values = new float[N * P];
            for (int k = 0; k < values.length; k++) {
              values[k] = (float) (random.nextDouble() * 6 - 3);
            }
            TargetRow row =
                TargetRow.ofFloats(
                    id,
                    "img_" + id,
                    view,
                    VIEWS.view(id, view, CacheFixtures.width(id), CacheFixtures.height(id)),
                    values,
                    N,
                    P,
                    TargetRow.FP16);
            writer.write(row);
            written.put(id + "/" + view, row);
            rows++;
          }
        }
        writer.commit();
      }
    }
    TargetCacheMeta.of(settings, id - 1, 1, rows, files).write(conf, cache);
  }

  private ShardImageDataset dataset() throws IOException {
    return ShardImageDataset.open(conf, images, "train");
  }

  @Test
  void viewsAndTokensComeBackExactlyAsWritten() throws IOException {
    ShardImageDataset data = dataset();
    try (ShardTargetStore store = ShardTargetStore.open(conf, cache, data)) {
      assertThat(store.numTokens()).isEqualTo(N);
      assertThat(store.dim()).isEqualTo(P);
      assertThat(store.viewsPerImage()).isEqualTo(2);
      assertThat(store.id()).startsWith("teacher@sha256:abababababababab cache file:");
      float[] out = new float[1 + N * P];
      for (int index = 0; index < data.size(); index++) {
        long id = data.imageId(index);
        assertThat(store.has(index)).as("has %d", index).isEqualTo(id != REJECTED);
        if (id == REJECTED) {
          continue;
        }
        for (int v = 0; v < 2; v++) {
          TargetRow row = written.get(id + "/" + v);
          assertThat(store.view(index, v)).isEqualTo(row.params());
          store.tokens(index, v, out, 1);
          float[] expected = row.tokensAsFloats();
          for (int k = 0; k < expected.length; k++) {
            assertThat(out[1 + k]).isEqualTo(expected[k]);
          }
        }
      }
    }
  }

  @Test
  void readsOneViewOfAFileAtATimeAndHoldsAtMostTheResidentViews() throws IOException {
    ShardImageDataset data = dataset();
    float[] out = new float[N * P];
    try (ShardTargetStore store = ShardTargetStore.open(conf, cache, data, 1)) {
      store.tokens(0, 0, out, 0);
      store.tokens(1, 0, out, 0);
      assertThat(store.fileLoads()).isEqualTo(1);
      store.tokens(1, 1, out, 0);
      assertThat(store.fileLoads()).isEqualTo(2);
      assertThat(store.residentFiles()).containsExactly("part-00000.parquet#1");
      store.tokens(4, 0, out, 0);
      assertThat(store.residentFiles()).containsExactly("part-00001.parquet#0");
      store.tokens(0, 0, out, 0);
      assertThat(store.fileLoads()).isEqualTo(4);
    }
    try (ShardTargetStore store = ShardTargetStore.open(conf, cache, data)) {
      store.view(0, 0);
      store.view(4, 0);
      store.view(6, 0);
      assertThat(store.residentFiles())
          .containsExactly("part-00001.parquet#0", "part-00002.parquet#0");
      store.view(4, 0);
      assertThat(store.residentFiles())
          .containsExactly("part-00002.parquet#0", "part-00001.parquet#0");
      assertThat(store.fileLoads()).isEqualTo(3);
    }
  }

  @Test
  void tokensReadByViewEqualTheRowsOfAFullRead() throws IOException {
    ShardImageDataset data = dataset();
    Map<String, TargetRow> full = new HashMap<>();
    for (int s = 0; s < SHARDS.length; s++) {
      for (TargetRow row :
          TargetCacheReader.readAll(conf, new Path(cache, TargetCacheSchema.fileName(s)), true)) {
        full.put(row.imageId() + "/" + row.view(), row);
      }
    }
    float[] out = new float[N * P];
    int compared = 0;
    try (ShardTargetStore store = ShardTargetStore.open(conf, cache, data)) {
      for (int index = 0; index < data.size(); index++) {
        if (!store.has(index)) {
          continue;
        }
        for (int v = 0; v < 2; v++) {
          TargetRow row = full.get(data.imageId(index) + "/" + v);
          assertThat(store.view(index, v)).isEqualTo(row.params());
          store.tokens(index, v, out, 0);
          assertThat(out).containsExactly(row.tokensAsFloats());
          compared++;
        }
      }
    }
    assertThat(compared).isEqualTo(2 * (data.size() - 1));
  }

  @Test
  void aPrefetchedViewIsReadAheadAndHeldUntilReleased() throws IOException {
    ShardImageDataset data = dataset();
    try (ShardTargetStore store = ShardTargetStore.open(conf, cache, data, 1)) {
      store.prefetch(2, 1);
      store.view(0, 0);
      store.view(4, 0);
      // Two views beyond the one resident view are held: the prefetched one stays.
      assertThat(store.residentFiles()).contains("part-00002.parquet#1");
      long before = store.bytesRead();
      assertThat(before).isPositive();
      store.view(6, 1);
      assertThat(store.fileLoads()).isEqualTo(3);
      assertThat(store.bytesRead()).isEqualTo(before);
      store.release(2, 1);
      store.view(0, 0);
      assertThat(store.residentFiles()).containsExactly("part-00000.parquet#0");
    }
  }

  @Test
  void rejectedImagesAndViewsOutsideTheCacheAreRefused() throws IOException {
    try (ShardTargetStore store = ShardTargetStore.open(conf, cache, dataset())) {
      assertThatThrownBy(() -> store.view(3, 0))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Image 3 (id 3) has no targets: the targets job rejected it");
      assertThatThrownBy(() -> store.view(0, 2)).hasMessage("View must be in [0, 2), cannot be: 2");
      assertThatThrownBy(() -> store.view(0, TargetCacheSchema.FULL_VIEW))
          .hasMessage("View must be in [0, 2), cannot be: -1");
      assertThatThrownBy(() -> store.has(7)).isInstanceOf(IndexOutOfBoundsException.class);
    }
  }

  @Test
  void cacheOfOtherImageShardsIsRejected() throws IOException {
    Path other = new Path(dir.resolve("other").toUri());
    CacheFixtures.writeImages(conf, other, "train", new int[] {3, 2, 2}, Set.of(6L));
    ShardImageDataset data = ShardImageDataset.open(conf, other, "train");
    assertThatThrownBy(() -> ShardTargetStore.open(conf, cache, data))
        .isInstanceOf(ShardFormatException.class)
        .hasMessageContaining("was made from other image shards")
        .hasMessageContaining(data.manifestSha256());
  }

  @Test
  void cacheOfAnotherSplitIsRejected() throws IOException {
    Path other = new Path(dir.resolve("val").toUri());
    CacheFixtures.writeImages(conf, other, "val", SHARDS, Set.of());
    assertThatThrownBy(
            () -> ShardTargetStore.open(conf, cache, ShardImageDataset.open(conf, other, "val")))
        .isInstanceOf(ShardFormatException.class)
        .hasMessageContaining("holds split train")
        .hasMessageContaining("is split val");
  }

  @Test
  void cacheWithoutMetaIsNamedAsUnfinished() throws IOException {
    Files.delete(dir.resolve("cache").resolve(TargetCacheMeta.FILE_NAME));
    assertThatThrownBy(() -> ShardTargetStore.open(conf, cache, dataset()))
        .isInstanceOf(ShardFormatException.class)
        .hasMessageContaining("has no _cache_meta.json");
  }

  @Test
  void missingCacheFileIsNamed() throws IOException {
    Files.delete(dir.resolve("cache").resolve("part-00002.parquet"));
    assertThatThrownBy(() -> ShardTargetStore.open(conf, cache, dataset()))
        .isInstanceOf(ShardFormatException.class)
        .hasMessageContaining("lacks part-00002.parquet, the targets of image shard")
        .hasMessageContaining("train/part-00002.parquet");
  }

  @Test
  void cacheFileThatDisagreesWithTheDatasetIsNamedWhenLoaded() throws IOException {
    // The meta still says image 3 is rejected, but the files hold image 3 and not image 4.
    java.nio.file.Path root = dir.resolve("cache");
    try (var files = Files.walk(root)) {
      for (java.nio.file.Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
    written.clear();
    writeCache(settings(Manifest.fileSha256(conf, images)), 4);
    Files.delete(root.resolve("_rejects").resolve("part-00001.parquet"));
    try (RejectWriter rejects =
        RejectWriter.create(
            conf, TargetRejects.path(cache, "part-00001.parquet"), ShardWriteOptions.DEFAULTS)) {
      rejects.write(TargetRejects.row("x", 3, "img_3", "train", "x"));
      rejects.commit();
    }
    try (ShardTargetStore store = ShardTargetStore.open(conf, cache, dataset())) {
      assertThat(store.has(3)).isFalse();
      assertThatThrownBy(() -> store.view(4, 0))
          .isInstanceOf(UncheckedIOException.class)
          .hasMessageContaining("part-00001.parquet")
          .hasMessageContaining("must be view 0 of image 4")
          .hasMessageContaining("cannot be: view 0 of image 3");
    }
  }
}
