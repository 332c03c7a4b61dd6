package org.dtmspark.data.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.dtmspark.data.shard.ShardWriteOptions.CommitMode;
import org.junit.jupiter.api.Test;

class ShardValuesTest {
  private static final String SHA = "0123456789abcdef".repeat(4);

  private static ImageRow row(long id, int label, int width, String sha256) {
    return new ImageRow(
        id, "k", "train", label, "n1", new byte[] {1}, "jpeg", width, 2, sha256, null, null);
  }

  @Test
  void defaultsArePinned() {
    assertThat(ShardWriteOptions.DEFAULTS)
        .isEqualTo(
            new ShardWriteOptions(64L << 20, CompressionCodecName.SNAPPY, CommitMode.RENAME));
    assertThat(ShardReadOptions.ALL).isEqualTo(new ShardReadOptions(null, true));
    assertThat(ImageShardSchema.FORMAT_VERSION).isEqualTo(1);
    assertThat(Manifest.FORMAT_VERSION).isEqualTo(1);
  }

  @Test
  void shardFileNamesArePaddedToFiveDigits() {
    assertThat(ImageShardSchema.shardFileName(0)).isEqualTo("part-00000.parquet");
    assertThat(ImageShardSchema.shardFileName(123456)).isEqualTo("part-123456.parquet");
    assertThatThrownBy(() -> ImageShardSchema.shardFileName(-1))
        .hasMessage("Shard index must be at least 0, cannot be: -1");
  }

  @Test
  void schemaHasTheSpecifiedColumnsInOrder() {
    assertThat(ImageShardSchema.SCHEMA.toString())
        .isEqualTo(
            """
            message dtm_image {
              required int64 image_id;
              required binary key (STRING);
              required binary split (STRING);
              required int32 label;
              required binary wnid (STRING);
              required binary image;
              required binary format (STRING);
              required int32 width;
              required int32 height;
              required binary sha256 (STRING);
              optional binary source (STRING);
              optional binary reencoded (STRING);
            }
            """);
    assertThat(ImageShardSchema.WITHOUT_IMAGE.containsField("image")).isFalse();
    assertThat(ImageShardSchema.WITHOUT_IMAGE.getFieldCount()).isEqualTo(11);
  }

  @Test
  void rowGroupSizeBelowOneKibibyteIsRejected() {
    assertThatThrownBy(() -> ShardWriteOptions.DEFAULTS.withRowGroupBytes(1023))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Row-group size must be at least 1024 bytes, cannot be: 1023");
  }

  @Test
  void codecWithoutAnImplementationHereIsRejected() {
    assertThatThrownBy(() -> ShardWriteOptions.DEFAULTS.withCodec(CompressionCodecName.LZO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "Compression codec must be one of [UNCOMPRESSED, SNAPPY, GZIP, ZSTD, LZ4_RAW],"
                + " cannot be: LZO");
    assertThatThrownBy(() -> ShardWriteOptions.DEFAULTS.withCommitMode(null))
        .hasMessage("Commit mode must be RENAME or DIRECT, cannot be: null");
  }

  @Test
  void codecNamesParseCaseInsensitively() {
    assertThat(ShardWriteOptions.parseCodec("none")).isEqualTo(CompressionCodecName.UNCOMPRESSED);
    assertThat(ShardWriteOptions.parseCodec("Zstd")).isEqualTo(CompressionCodecName.ZSTD);
    assertThat(ShardWriteOptions.parseCodec(" lz4_raw ")).isEqualTo(CompressionCodecName.LZ4_RAW);
    assertThatThrownBy(() -> ShardWriteOptions.parseCodec("brotli"))
        .hasMessage(
            "Compression codec must be one of none, uncompressed, snappy, gzip, zstd, lz4_raw,"
                + " cannot be: brotli");
  }

  @Test
  void imageRowValidatesItsFields() {
    assertThatThrownBy(() -> row(-1, 0, 1, SHA))
        .hasMessage("Image id must be at least 0, cannot be: -1");
    assertThatThrownBy(() -> row(0, -2, 1, SHA))
        .hasMessage("Label of image k must be at least 0, cannot be: -2");
    assertThatThrownBy(() -> row(0, 0, 0, SHA))
        .hasMessage("Size of image k must be at least 1 x 1, cannot be: 0 x 2");
    assertThatThrownBy(() -> row(0, 0, 1, SHA.toUpperCase(java.util.Locale.ROOT)))
        .hasMessage(
            "SHA-256 of image k must be 64 lower-case hex digits, cannot be: '"
                + SHA.toUpperCase(java.util.Locale.ROOT)
                + "'");
    assertThatThrownBy(() -> new ImageRow(0, "k", "", 0, "n1", null, "jpeg", 1, 1, SHA, null, null))
        .hasMessage("Split of image k must be a non-empty string, cannot be: ''");
  }

  @Test
  void imageRowsCompareImageBytesByContent() {
    ImageRow a = row(1, 0, 1, SHA);
    ImageRow b = row(1, 0, 1, SHA);

    assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
    assertThat(a).isNotEqualTo(a.withoutImage());
    assertThat(a.toString()).contains("image=1 bytes");
  }
}
