package org.dtmspark.jobs.targets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.dtmspark.core.config.ConfigLoader;
import org.dtmspark.core.config.PretrainSettings;
import org.dtmspark.core.data.ByteViewRenderer;
import org.dtmspark.core.data.RgbImage;
import org.dtmspark.core.data.ViewParams;
import org.dtmspark.core.nn.Tensors;
import org.dtmspark.core.teacher.Teacher;
import org.dtmspark.data.cache.CacheFixtures;
import org.dtmspark.data.cache.CacheViews;
import org.dtmspark.data.cache.ShardTargetStore;
import org.dtmspark.data.cache.TargetCacheMeta;
import org.dtmspark.data.cache.TargetCacheReader;
import org.dtmspark.data.cache.TargetCacheSchema;
import org.dtmspark.data.cache.TargetRejects;
import org.dtmspark.data.cache.TargetRow;
import org.dtmspark.data.shard.RejectRow;
import org.dtmspark.data.shard.ShardImageDataset;
import org.dtmspark.data.shard.ShardWriteOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The targets job end to end on 8 tiny PNG images in three shards (3, 2, 3 images; image 4, in the
 * second shard, does not decode), with the committed random CLIP checkpoint (32 px, [16, 20]
 * tokens) as teacher.
 */
class TargetsJobTest {
  static final java.nio.file.Path CLIP =
      java.nio.file.Path.of("../dtm-core/src/test/resources/golden/clip");
  private static final int[] SHARDS = {3, 2, 3};
  private static final long CORRUPT = 4;
  private static SparkSession spark;

  @TempDir java.nio.file.Path dir;

  private final Configuration conf = new Configuration();
  private Path images;

  @BeforeAll
  static void startSpark() {
    spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("TargetsJobTest")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .getOrCreate();
  }

  @AfterAll
  static void stopSpark() {
    spark.stop();
  }

  @BeforeEach
  void writeImages() throws IOException {
    images = new Path(dir.resolve("images").toUri());
    CacheFixtures.writeImages(conf, images, "train", SHARDS, Set.of(CORRUPT));
  }

  static PretrainSettings settings(long seed) {
    return PretrainSettings.from(ConfigLoader.load(List.of(), List.of("seed=" + seed)));
  }

  private TargetsJob.Options options(
      String out, int views, boolean full, String dtype, long seed, boolean resume, boolean over) {
    PretrainSettings s = settings(seed);
    return new TargetsJob.Options(
        images.toString(),
        "train",
        CLIP.toString(),
        out,
        views,
        full,
        dtype,
        4,
        "teacher",
        true,
        32,
        8,
        s.augment(),
        seed,
        "fp16",
        ShardWriteOptions.DEFAULTS,
        resume,
        over);
  }

  private String out(String name) {
    return dir.resolve(name).toUri().toString();
  }

  private Path outPath(String name) {
    return new Path(out(name));
  }

  /** Every row of every cache file, by "imageId/view". */
  private Map<String, TargetRow> rows(Path cache) throws IOException {
    Map<String, TargetRow> rows = new HashMap<>();
    for (int s = 0; s < SHARDS.length; s++) {
      for (TargetRow r :
          TargetCacheReader.readAll(conf, new Path(cache, TargetCacheSchema.fileName(s)), true)) {
        rows.put(r.imageId() + "/" + r.view(), r);
      }
    }
    return rows;
  }

  /**
   * The teacher's float32 tokens for one view of image {@code index}, rendered here again by the
   * loader's 8-bit kernel.
   */
  private static float[] teacherTokens(Teacher teacher, RgbImage image, ViewParams view) {
    byte[] pixels = new byte[3 * 32 * 32];
    new ByteViewRenderer().render(image, view, 32, pixels, 0);
    try (NDManager m = NDManager.newBaseManager()) {
      return teacher
          .targets(Tensors.pixelsFromHost(m, pixels, new Shape(1, 3, 32, 32)))
          .toFloatArray();
    }
  }

  private static void assertHalfClose(float[] actual, float[] expected, String what) {
    assertThat(actual).as(what).hasSameSizeAs(expected);
    for (int i = 0; i < actual.length; i++) {
      // fp16 keeps 11 significant bits: a relative step of 2^-11, plus the teacher's float32
      // noise between a batch of 4 and a batch of 1.
      double tolerance = Math.abs(expected[i]) * 0x1p-11 + 1e-4;
      assertThat((double) actual[i])
          .as("%s [%d]", what, i)
          .isCloseTo(expected[i], org.assertj.core.data.Offset.offset(tolerance));
    }
  }

  @Test
  void tokensReadBackEqualWhatWasWrittenAndTheTeacherOnTheSameViewRenderedAgain()
      throws IOException {
    TargetsJob.Result r =
        TargetsJob.run(options(out("cache"), 2, true, "fp16", 7, false, false), spark);
    assertThat(r.numTokens()).isEqualTo(16);
    assertThat(r.dim()).isEqualTo(20);

    Path cache = outPath("cache");
    Map<String, TargetRow> written = rows(cache);
    ShardImageDataset data = ShardImageDataset.open(conf, images, "train");
    CacheViews views = new CacheViews(settings(7).augment().toAugmentConfig(32), 7, 2, true);
    Teacher teacher =
        TeacherCache.get(TeacherSpec.onCpu(CLIP.toString(), "teacher", true, 32, 8), conf);
    float[] out = new float[16 * 20];
    try (ShardTargetStore store = ShardTargetStore.open(conf, cache, data)) {
      assertThat(store.viewsPerImage()).isEqualTo(2);
      assertThat(data.size()).isEqualTo(8);
      for (int i = 0; i < data.size(); i++) {
        long id = data.imageId(i);
        assertThat(store.has(i)).as("has %d", i).isEqualTo(id != CORRUPT);
        if (id == CORRUPT) {
          continue;
        }
        RgbImage image = data.image(i);
        for (int v = 0; v < 2; v++) {
          ViewParams params = store.view(i, v);
          assertThat(params).isEqualTo(views.view(id, v, image.width(), image.height()));
          store.tokens(i, v, out, 0);
          assertThat(out).isEqualTo(written.get(id + "/" + v).tokensAsFloats());
          assertHalfClose(out, teacherTokens(teacher, image, params), "image " + id + " view " + v);
        }
        TargetRow full = written.get(id + "/" + TargetCacheSchema.FULL_VIEW);
        assertThat(full.params()).isEqualTo(ViewParams.fullImage(image.width(), image.height()));
        assertHalfClose(
            full.tokensAsFloats(),
            teacherTokens(teacher, image, full.params()),
            "image " + id + " full view");
      }
    }
  }

  @Test
  void everyImageIsAccountedForByItsViewsOrARejectRow() throws IOException {
    TargetsJob.Result r =
        TargetsJob.run(options(out("cache"), 2, true, "fp16", 7, false, false), spark);

    assertThat(r.images()).isEqualTo(7);
    assertThat(r.rejected()).isEqualTo(1);
    assertThat(r.rows()).isEqualTo(21);
    assertThat(r.shards()).isEqualTo(3);
    assertThat(r.shardsWritten()).isEqualTo(3);
    Path cache = outPath("cache");
    TargetCacheMeta meta = TargetCacheMeta.read(conf, cache);
    assertThat(meta.complete(8)).isTrue();
    assertThat(meta.rejectedImages()).isEqualTo(1);
    assertThat(meta.files())
        .containsExactly("part-00000.parquet", "part-00001.parquet", "part-00002.parquet");
    assertThat(meta.split()).isEqualTo("train");
    assertThat(meta.viewPolicy()).contains("K=2 + full").contains("at 32 px");

    List<RejectRow> rejects = TargetRejects.read(conf, cache, "part-00001.parquet");
    assertThat(rejects).hasSize(1);
    assertThat(TargetRejects.imageId(rejects.get(0))).isEqualTo(CORRUPT);
    assertThat(rejects.get(0).reason()).startsWith("undecodable image: img_4: ");
    assertThat(TargetRejects.read(conf, cache, "part-00000.parquet")).isEmpty();
    Map<String, TargetRow> rows = rows(cache);
    for (long id = 0; id < 8; id++) {
      for (int v : new int[] {0, 1, TargetCacheSchema.FULL_VIEW}) {
        assertThat(rows.containsKey(id + "/" + v))
            .as("image %d view %d", id, v)
            .isEqualTo(id != CORRUPT);
      }
    }
  }

  @Test
  void resumeAfterAKilledRunRedoesOnlyTheMissingShard() throws IOException {
    TargetsJob.run(options(out("cache"), 1, false, "fp16", 7, false, false), spark);
    java.nio.file.Path cache = dir.resolve("cache");
    Map<String, TargetRow> before = rows(outPath("cache"));
    String metaBefore = Files.readString(cache.resolve(TargetCacheMeta.FILE_NAME));
    // The kill: no meta, one cache file missing, a writer's staging file left behind.
    Files.delete(cache.resolve(TargetCacheMeta.FILE_NAME));
    Files.delete(cache.resolve("part-00002.parquet"));
    Files.write(cache.resolve(".part-00002.parquet.inprogress-killed"), new byte[] {1, 2, 3});
    FileTime old = FileTime.fromMillis(1_000_000_000_000L);
    Files.setLastModifiedTime(cache.resolve("part-00000.parquet"), old);
    Files.setLastModifiedTime(cache.resolve("part-00001.parquet"), old);

    TargetsJob.Result r =
        TargetsJob.run(options(out("cache"), 1, false, "fp16", 7, true, false), spark);

    assertThat(r.shardsWritten()).isEqualTo(1);
    assertThat(r.shardsKept()).isEqualTo(2);
    assertThat(r.imagesWritten()).isEqualTo(3);
    assertThat(Files.getLastModifiedTime(cache.resolve("part-00000.parquet"))).isEqualTo(old);
    assertThat(Files.getLastModifiedTime(cache.resolve("part-00001.parquet"))).isEqualTo(old);
    assertThat(Files.exists(cache.resolve(".part-00002.parquet.inprogress-killed"))).isFalse();
    assertThat(rows(outPath("cache"))).isEqualTo(before);
    assertThat(Files.readString(cache.resolve(TargetCacheMeta.FILE_NAME))).isEqualTo(metaBefore);

    TargetsJob.Result again =
        TargetsJob.run(options(out("cache"), 1, false, "fp16", 7, true, false), spark);
    assertThat(again.alreadyComplete()).isTrue();
    assertThat(again.images()).isEqualTo(7);
  }

  @Test
  void resumeRedoesAFileMadeWithOtherSettingsAndRefusesAFinishedCacheOfOtherSettings()
      throws IOException {
    TargetsJob.run(options(out("cache"), 1, false, "fp16", 7, false, false), spark);
    assertThatThrownBy(
            () -> TargetsJob.run(options(out("cache"), 1, false, "fp16", 8, true, false), spark))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("made with other settings")
        .hasMessageContaining("seed: 7 vs 8")
        .hasMessageContaining("--overwrite");
    // Without the meta, files of seed 7 are redone under seed 8.
    Files.delete(dir.resolve("cache").resolve(TargetCacheMeta.FILE_NAME));
    TargetsJob.Result r =
        TargetsJob.run(options(out("cache"), 1, false, "fp16", 8, true, false), spark);
    assertThat(r.shardsWritten()).isEqualTo(3);
    assertThat(TargetCacheMeta.read(conf, outPath("cache")).seed()).isEqualTo(8);
  }

  @Test
  void existingOutputIsAnErrorUnlessResumeOrOverwrite() throws IOException {
    TargetsJob.run(options(out("cache"), 1, false, "fp16", 7, false, false), spark);
    assertThatThrownBy(
            () -> TargetsJob.run(options(out("cache"), 1, false, "fp16", 7, false, false), spark))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("already holds a complete target cache (_cache_meta.json)")
        .hasMessageContaining("--resume")
        .hasMessageContaining("--overwrite");
    Files.delete(dir.resolve("cache").resolve(TargetCacheMeta.FILE_NAME));
    assertThatThrownBy(
            () -> TargetsJob.run(options(out("cache"), 1, false, "fp16", 7, false, false), spark))
        .hasMessageContaining("holds an incomplete target cache (no _cache_meta.json");

    TargetsJob.Result r =
        TargetsJob.run(options(out("cache"), 1, false, "fp16", 7, false, true), spark);
    assertThat(r.shardsWritten()).isEqualTo(3);

    Files.writeString(dir.resolve("cache").resolve("notes.txt"), "mine");
    assertThatThrownBy(
            () -> TargetsJob.run(options(out("cache"), 1, false, "fp16", 7, false, true), spark))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("notes.txt, which this job does not write");
    assertThat(dir.resolve("cache").resolve("part-00000.parquet")).exists();
  }

  @Test
  void fp32CacheOfTheFullViewOnlyHoldsTheTeachersFloat32Tokens() throws IOException {
    TargetsJob.Result r =
        TargetsJob.run(options(out("full"), 0, true, "fp32", 7, false, false), spark);
    assertThat(r.rows()).isEqualTo(7);
    ShardImageDataset data = ShardImageDataset.open(conf, images, "train");
    Teacher teacher =
        TeacherCache.get(TeacherSpec.onCpu(CLIP.toString(), "teacher", true, 32, 8), conf);
    Map<String, TargetRow> rows = rows(outPath("full"));
    assertThat(rows).hasSize(7);
    assertThat(data.size()).isEqualTo(8);
    for (int i = 0; i < data.size(); i++) {
      TargetRow row = rows.get(data.imageId(i) + "/" + TargetCacheSchema.FULL_VIEW);
      if (data.imageId(i) == CORRUPT) {
        assertThat(row).isNull();
        continue;
      }
      assertThat(row.dtype()).isEqualTo("fp32");
      assertThat(row.tokens()).hasSize(16 * 20 * 4);
      float[] expected = teacherTokens(teacher, data.image(i), row.params());
      float[] actual = row.tokensAsFloats();
      for (int k = 0; k < expected.length; k++) {
        assertThat(actual[k]).isCloseTo(expected[k], org.assertj.core.data.Offset.offset(1e-4f));
      }
    }
    TargetCacheMeta meta = TargetCacheMeta.read(conf, outPath("full"));
    assertThat(meta.viewsPerImage()).isZero();
    assertThat(meta.fullView()).isTrue();
    assertThat(meta.dtype()).isEqualTo("fp32");
  }

  @Test
  void theTeacherIsLoadedOncePerJvmForAllShards() throws IOException {
    java.nio.file.Path copy = Files.createDirectory(dir.resolve("teacher"));
    try (Stream<java.nio.file.Path> files = Files.list(CLIP)) {
      for (java.nio.file.Path f : files.filter(p -> !p.toString().endsWith(".npy")).toList()) {
        Files.copy(f, copy.resolve(f.getFileName()));
      }
    }
    int before = TeacherCache.loads();
    PretrainSettings s = settings(7);
    TargetsJob.Options o =
        new TargetsJob.Options(
            images.toString(),
            "train",
            copy.toString(),
            out("cache"),
            1,
            false,
            "fp16",
            2,
            "teacher",
            true,
            32,
            8,
            s.augment(),
            7,
            "fp16",
            ShardWriteOptions.DEFAULTS,
            false,
            false);
    TargetsJob.Result r = TargetsJob.run(o, spark);
    assertThat(r.shardsWritten()).isEqualTo(3);
    assertThat(TeacherCache.loads() - before).isEqualTo(1);
    assertThat(TargetCacheMeta.read(conf, outPath("cache")).teacherSha256())
        .isEqualTo(TeacherCache.weightsSha256(CLIP));
  }

  @Test
  void optionsNameTheFlagAndTheRule() {
    assertThatThrownBy(() -> options(out("x"), -1, false, "fp16", 7, false, false))
        .hasMessage("--views must be at least 0, cannot be: -1");
    assertThatThrownBy(() -> options(out("x"), 0, false, "fp16", 7, false, false))
        .hasMessage("--views 0 needs --full-view: a cache must hold at least one view per image");
    assertThatThrownBy(() -> options(out("x"), 1, false, "bf16", 7, false, false))
        .hasMessage("--dtype must be fp16 or fp32, cannot be: bf16");
    assertThatThrownBy(() -> options(out("x"), 1, false, "fp16", 7, true, true))
        .hasMessage("Give --resume or --overwrite, not both");
  }

  @Test
  void unknownSplitIsNamed() {
    PretrainSettings s = settings(7);
    TargetsJob.Options o =
        new TargetsJob.Options(
            images.toString(),
            "val",
            CLIP.toString(),
            out("cache"),
            1,
            false,
            "fp16",
            2,
            "teacher",
            true,
            32,
            8,
            s.augment(),
            7,
            "fp16",
            ShardWriteOptions.DEFAULTS,
            false,
            false);
    assertThatThrownBy(() -> TargetsJob.run(o, spark))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--split must be one of [train]")
        .hasMessageContaining("cannot be: val");
    assertThat(new ArrayList<>(List.of(dir.toFile().list()))).doesNotContain("cache");
  }
}
