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
  /** The meta of the committed golden file {@code golden-v1/_cache_meta.json}. */
  static final TargetCacheMeta GOLDEN =
      new TargetCacheMeta(
          1,
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
          "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9",
          3,
          15,
          List.of("part-00000.parquet", "part-00001.parquet"));

  @TempDir java.nio.file.Path dir;

  private static String golden() throws IOException {
    try (InputStream in =
        TargetCacheMetaTest.class.getResourceAsStream("golden-v1/_cache_meta.json")) {
      assertThat(in).as("golden-v1/_cache_meta.json on the test classpath").isNotNull();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
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
    String v2 = golden().replace("\"format_version\" : 1", "\"format_version\" : 2");
    assertThat(v2).isNotEqualTo(golden());
    assertThatThrownBy(() -> TargetCacheMeta.fromJson(v2, "/cache/_cache_meta.json"))
        .isInstanceOf(ShardFormatException.class)
        .hasMessage(
            "Cache meta /cache/_cache_meta.json has format version 2; this reader reads version 1");
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
  void completeCountsSampledAndFullViews() {
    assertThat(GOLDEN.rowsPerImage()).isEqualTo(5);
    assertThat(GOLDEN.complete(3)).isTrue();
    assertThat(GOLDEN.complete(4)).isFalse();
    TargetCacheMeta missingRow =
        new TargetCacheMeta(
            1, "t", "h", 196, 512, "fp16", "clip", "rrc K=4", 4, false, 1, "m", 3, 11, List.of());
    assertThat(missingRow.complete(3)).isFalse();
    TargetCacheMeta noFull =
        new TargetCacheMeta(
            1, "t", "h", 196, 512, "fp16", "clip", "rrc K=4", 4, false, 1, "m", 3, 12, List.of());
    assertThat(noFull.complete(3)).isTrue();
    assertThat(GOLDEN.bytesPerView()).isEqualTo(200_704L);
  }
}
