package org.dtmspark.data.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.Path;
import org.dtmspark.data.shard.ShardFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TargetCacheMetaTest {
  /** The meta of the committed golden file {@code golden-v2/_cache_meta.json}. */
  static final TargetCacheMeta GOLDEN =
      new TargetCacheMeta(
          2,
          "clip-vit-b16",
          "5f2b7c0a9d3e4f61b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5",
          196,
          512,
          "fp16",
          "clip",
          "random-resized-crop K=4 + full",
          4,
          true,
          42L,
          "train",
          "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9",
          3,
          1,
          15,
          List.of("part-00000.parquet", "part-00001.parquet"));

  @TempDir java.nio.file.Path dir;

  private static String golden() throws IOException {
    return golden("golden-v2");
  }

  private static String golden(String dir) throws IOException {
    try (InputStream in =
        TargetCacheMetaTest.class.getResourceAsStream(dir + "/_cache_meta.json")) {
      assertThat(in).as(dir + "/_cache_meta.json on the test classpath").isNotNull();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void aVersionOneMetaIsRefusedSayingHowToRewriteTheCache() throws IOException {
    assertThatThrownBy(() -> TargetCacheMeta.fromJson(golden("golden-v1"), "old/_cache_meta.json"))
        .isInstanceOf(ShardFormatException.class)
        .hasMessageContaining("old/_cache_meta.json has format version 1")
        .hasMessageContaining("rewrite the cache in the layout by view with bin/dtm targets");
  }

  @Test
  void goldenFileParsesToTheKnownMetaAndIsWrittenByteForByte() throws IOException {
    String text = golden();
    assertThat(TargetCacheMeta.fromJson(text, "golden")).isEqualTo(GOLDEN);
    assertThat(GOLDEN.toJson()).isEqualTo(text);
  }

  @Test
  void writeThenReadGivesTheSameMetaAndLeavesOnlyTheFile() throws IOException {
    Configuration conf = new Configuration();
    Path root = new Path(dir.toUri());
    Path written = GOLDEN.write(conf, root);

    assertThat(written.getName()).isEqualTo("_cache_meta.json");
    assertThat(TargetCacheMeta.read(conf, root)).isEqualTo(GOLDEN);
    try (Stream<java.nio.file.Path> files = Files.list(dir)) {
      // Hidden names are the local filesystem's checksum files; no temporary file may remain.
      assertThat(files.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".crc")))
          .containsExactly("_cache_meta.json");
    }
    assertThatThrownBy(() -> GOLDEN.write(conf, root))
        .isInstanceOf(FileAlreadyExistsException.class);
  }

  @Test
  void anotherFormatVersionIsRejectedNamingSourceAndVersion() throws IOException {
    String v3 = golden().replace("\"format_version\" : 2", "\"format_version\" : 3");
    assertThat(v3).isNotEqualTo(golden());
    assertThatThrownBy(() -> TargetCacheMeta.fromJson(v3, "/cache/_cache_meta.json"))
        .isInstanceOf(ShardFormatException.class)
        .hasMessage(
            "Cache meta /cache/_cache_meta.json has format version 3; this reader reads version 2");
  }

  @Test
  void unknownKeysAndBadValuesAreRejected() throws IOException {
    String extra = golden().replace("\"dim\" : 512,", "\"dim\" : 512, \"dims\" : 3,");
    assertThatThrownBy(() -> TargetCacheMeta.fromJson(extra, "x"))
        .isInstanceOf(ShardFormatException.class)
        .hasMessageContaining("dims");
    String bf16 = golden().replace("\"fp16\"", "\"bf16\"");
    assertThatThrownBy(() -> TargetCacheMeta.fromJson(bf16, "x"))
        .isInstanceOf(ShardFormatException.class)
        .hasMessageContaining("Token dtype must be fp16 or fp32, cannot be: bf16");
  }

  @Test
  void completeCountsSampledAndFullViewsAndRejectedImages() {
    assertThat(GOLDEN.rowsPerImage()).isEqualTo(5);
    assertThat(GOLDEN.complete(4)).as("3 images covered + 1 rejected").isTrue();
    assertThat(GOLDEN.complete(3)).isFalse();
    assertThat(GOLDEN.complete(5)).isFalse();
    TargetCacheMeta missingRow = meta(4, false, 3, 0, 11);
    assertThat(missingRow.complete(3)).isFalse();
    TargetCacheMeta noFull = meta(4, false, 3, 0, 12);
    assertThat(noFull.complete(3)).isTrue();
    assertThat(GOLDEN.bytesPerView()).isEqualTo(200_704L);
  }

  private static TargetCacheMeta meta(
      int views, boolean full, long images, long rejected, long rows) {
    return new TargetCacheMeta(
        TargetCacheMeta.FORMAT_VERSION,
        "t",
        "h",
        196,
        512,
        "fp16",
        "clip",
        "rrc K=" + views,
        views,
        full,
        1,
        "train",
        "m",
        images,
        rejected,
        rows,
        List.of());
  }

  @Test
  void settingsAreTheFieldsWithoutTheCounts() {
    TargetCacheSettings settings = GOLDEN.settings();
    assertThat(settings.teacherSha256()).isEqualTo(GOLDEN.teacherSha256());
    assertThat(settings.split()).isEqualTo("train");
    assertThat(settings.rowsPerImage()).isEqualTo(5);
    assertThat(TargetCacheMeta.of(settings, 3, 1, 15, GOLDEN.files())).isEqualTo(GOLDEN);
  }

  @Test
  void settingsRoundTripThroughJsonAndCompareWithoutTheTeacherName() throws IOException {
    TargetCacheSettings settings = GOLDEN.settings();
    assertThat(TargetCacheSettings.fromJson(settings.toJson(), "x")).isEqualTo(settings);
    assertThat(settings.sameTargetsAs(settings.withTeacherId("/elsewhere/clip"))).isTrue();
    TargetCacheSettings otherSeed =
        TargetCacheMeta.of(settings, 0, 0, 0, List.of()).settings().withTeacherId("x");
    assertThat(otherSeed.sameTargetsAs(settings)).isTrue();
    TargetCacheSettings fp32 =
        new TargetCacheSettings(
            settings.teacherId(),
            settings.teacherSha256(),
            settings.numTokens(),
            settings.dim(),
            "fp32",
            settings.normalization(),
            settings.viewPolicy(),
            settings.viewsPerImage(),
            settings.fullView(),
            7,
            settings.split(),
            settings.imagesManifestSha256());
    assertThat(fp32.sameTargetsAs(settings)).isFalse();
    assertThat(settings.differences(fp32)).isEqualTo("dtype: fp16 vs fp32; seed: 42 vs 7");
    assertThatThrownBy(() -> TargetCacheSettings.fromJson("{\"dim\": 3}", "file.parquet"))
        .isInstanceOf(ShardFormatException.class)
        .hasMessageStartingWith("Cache settings in file.parquet are invalid");
  }
}
