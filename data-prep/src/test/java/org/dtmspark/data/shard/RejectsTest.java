package org.dtmspark.data.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RejectsTest {
  @TempDir java.nio.file.Path dir;

  private final Configuration conf = ShardFixtures.conf();

  private static final List<RejectRow> ROWS =
      List.of(
          new RejectRow("train/n01440764/a.JPEG", "train", "truncated"),
          new RejectRow("train/n01440764/b.JPEG", "train", "empty file"),
          new RejectRow("misc/readme.JPEG", null, "not an image"));

  private WrittenShard writeRejects(Path path) throws IOException {
    try (RejectWriter writer = RejectWriter.create(conf, path, ShardWriteOptions.DEFAULTS)) {
      for (RejectRow row : ROWS) {
        writer.write(row);
      }
      assertThat(writer.rows()).isEqualTo(3);
      return writer.commit();
    }
  }

  @Test
  void rejectsRoundTripIncludingANullSplit() throws IOException {
    Path path = RejectSchema.path(ShardFixtures.hadoopPath(dir));

    WrittenShard written = writeRejects(path);

    assertThat(RejectReader.readAll(conf, path)).isEqualTo(ROWS);
    assertThat(written.rows()).isEqualTo(3);
    assertThat(written.sha256())
        .isEqualTo(
            ShardFixtures.sha256Hex(
                Files.readAllBytes(dir.resolve("_rejects/part-00000.parquet"))));
    try (RejectReader reader = RejectReader.open(conf, path)) {
      assertThat(reader.rowCount()).isEqualTo(3);
    }
  }

  @Test
  void rejectFileLivesUnderTheRejectsDirectory() {
    assertThat(RejectSchema.path(new Path("hdfs://nn/out")).toString())
        .isEqualTo("hdfs://nn/out/_rejects/part-00000.parquet");
  }

  @Test
  void rejectFileIsNotAnImageShardAndViceVersa() throws IOException {
    Path rejects = RejectSchema.path(ShardFixtures.hadoopPath(dir));
    writeRejects(rejects);
    Path shard = new Path(ShardFixtures.hadoopPath(dir), "train/part-00000.parquet");
    ShardFixtures.write(
        conf, shard, ShardWriteOptions.DEFAULTS, ShardFixtures.randomRows(2, 10, 1));

    assertThatThrownBy(() -> ShardReader.open(conf, rejects))
        .isInstanceOf(ShardFormatException.class)
        .hasMessage("File " + rejects + " holds rejects, expected images");
    assertThatThrownBy(() -> RejectReader.open(conf, shard))
        .isInstanceOf(ShardFormatException.class)
        .hasMessage("File " + shard + " holds images, expected rejects");
  }

  @Test
  void rejectRowNeedsALocationAndAReason() {
    assertThatThrownBy(() -> new RejectRow("", "train", "truncated"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Reject location must be a non-empty string, cannot be: ");
    assertThatThrownBy(() -> new RejectRow("a.JPEG", "train", null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Reject reason for a.JPEG must be a non-empty string, cannot be: null");
  }
}
