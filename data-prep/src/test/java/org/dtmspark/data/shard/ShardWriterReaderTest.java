package org.dtmspark.data.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.dtmspark.data.shard.ShardFixtures.hadoopPath;
import static org.dtmspark.data.shard.ShardFixtures.randomRows;
import static org.dtmspark.data.shard.ShardFixtures.readAll;
import static org.dtmspark.data.shard.ShardFixtures.write;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.util.Progressable;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.metadata.FileMetaData;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.schema.MessageType;
import org.dtmspark.data.shard.ShardWriteOptions.CommitMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ShardWriterReaderTest {
  @TempDir java.nio.file.Path dir;

  private final Configuration conf = ShardFixtures.conf();

  private Path shard() {
    return new Path(hadoopPath(dir), "train/" + ImageShardSchema.shardFileName(0));
  }

  private List<String> filesInTrain() throws IOException {
    java.nio.file.Path train = dir.resolve("train");
    if (!Files.exists(train)) {
      return List.of();
    }
    try (Stream<java.nio.file.Path> files = Files.list(train)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = CompressionCodecName.class,
      names = {"UNCOMPRESSED", "SNAPPY", "GZIP", "ZSTD", "LZ4_RAW"})
  void everyColumnRoundTripsWithEachCodec(CompressionCodecName codec) throws IOException {
    List<ImageRow> rows = randomRows(40, 3000, 7);
    assertThat(rows).anyMatch(r -> r.source() == null).anyMatch(r -> r.reencoded() == null);
    assertThat(rows).anyMatch(r -> r.source() != null).anyMatch(r -> r.reencoded() != null);

    write(conf, shard(), ShardWriteOptions.DEFAULTS.withCodec(codec), rows);

    assertThat(readAll(conf, shard(), ShardReadOptions.ALL)).isEqualTo(rows);
  }

  @Test
  void writtenShardReportsTheFilesRowsSizeAndChecksum() throws IOException {
    List<ImageRow> rows = randomRows(25, 1000, 3);

    WrittenShard written = write(conf, shard(), ShardWriteOptions.DEFAULTS, rows);

    byte[] file = Files.readAllBytes(dir.resolve("train/part-00000.parquet"));
    assertThat(written.rows()).isEqualTo(25);
    assertThat(written.bytes()).isEqualTo(file.length);
    assertThat(written.sha256()).isEqualTo(ShardFixtures.sha256Hex(file));
    assertThat(written.path()).isEqualTo("file:" + dir.resolve("train/part-00000.parquet"));
  }

  @Test
  void fileMetadataCarriesSchemaFormatVersionAndContent() throws IOException {
    write(conf, shard(), ShardWriteOptions.DEFAULTS, randomRows(3, 100, 1));

    try (ParquetFileReader reader =
        ParquetFileReader.open(HadoopInputFile.fromPath(shard(), conf))) {
      FileMetaData meta = reader.getFooter().getFileMetaData();
      assertThat(meta.getSchema()).isEqualTo(ImageShardSchema.SCHEMA);
      assertThat(meta.getKeyValueMetaData())
          .containsEntry("dtm.shard.format_version", "1")
          .containsEntry("dtm.shard.content", "images");
    }
  }

  @Test
  void readerReportsItsRowCountBeforeReading() throws IOException {
    write(conf, shard(), ShardWriteOptions.DEFAULTS, randomRows(17, 100, 1));

    try (ShardReader reader = ShardReader.open(conf, shard())) {
      assertThat(reader.rowCount()).isEqualTo(17);
    }
  }

  @Test
  void smallRowGroupsSplitTheShardAndChosenGroupsYieldExactlyTheirRows() throws IOException {
    List<ImageRow> rows = randomRows(120, 2000, 11);
    write(conf, shard(), ShardWriteOptions.DEFAULTS.withRowGroupBytes(16 << 10), rows);

    List<RowGroupInfo> groups = ShardReader.rowGroups(conf, shard());

    assertThat(groups).hasSizeGreaterThanOrEqualTo(4);
    long next = 0;
    for (int i = 0; i < groups.size(); i++) {
      RowGroupInfo group = groups.get(i);
      assertThat(group.index()).isEqualTo(i);
      assertThat(group.firstRow()).isEqualTo(next);
      assertThat(group.rows()).isPositive();
      assertThat(group.bytes()).isPositive();
      next += group.rows();
    }
    assertThat(next).isEqualTo(rows.size());

    List<Integer> chosen = List.of(groups.size() - 1, 0, 2);
    List<ImageRow> expected = new ArrayList<>();
    for (int g : chosen) {
      RowGroupInfo group = groups.get(g);
      expected.addAll(
          rows.subList((int) group.firstRow(), (int) (group.firstRow() + group.rows())));
    }
    ShardReadOptions options = ShardReadOptions.ALL.withRowGroups(chosen);
    try (ShardReader reader = ShardReader.open(conf, shard(), options)) {
      assertThat(reader.rowCount()).isEqualTo(expected.size());
    }
    assertThat(readAll(conf, shard(), options)).isEqualTo(expected);
  }

  @Test
  void defaultRowGroupSizeKeepsASmallShardInOneGroup() throws IOException {
    write(conf, shard(), ShardWriteOptions.DEFAULTS, randomRows(120, 2000, 11));

    assertThat(ShardReader.rowGroups(conf, shard())).hasSize(1);
  }

  @Test
  void rowGroupIndexOutOfRangeOrRepeatedIsRejected() throws IOException {
    write(conf, shard(), ShardWriteOptions.DEFAULTS, randomRows(5, 100, 1));

    assertThatThrownBy(
            () -> ShardReader.open(conf, shard(), ShardReadOptions.ALL.withRowGroups(List.of(1))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Row group index for " + shard() + " must be in [0, 1), cannot be: 1");
    assertThatThrownBy(
            () ->
                ShardReader.open(conf, shard(), ShardReadOptions.ALL.withRowGroups(List.of(0, 0))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Row group indices for " + shard() + " must be distinct, cannot repeat: 0");
  }

  @Test
  void projectionWithoutImageReadsEveryOtherColumn() throws IOException {
    List<ImageRow> rows = randomRows(30, 500, 5);
    write(conf, shard(), ShardWriteOptions.DEFAULTS, rows);

    List<ImageRow> read = readAll(conf, shard(), ShardReadOptions.ALL.withoutImage());

    assertThat(read).isEqualTo(rows.stream().map(ImageRow::withoutImage).toList());
    assertThat(read).allMatch(r -> r.image() == null);
  }

  private void writeExample(Path path, MessageType schema, Map<String, String> metadata)
      throws IOException {
    try (ParquetWriter<Group> writer =
        ExampleParquetWriter.builder(path)
            .withConf(conf)
            .withType(schema)
            .withExtraMetaData(metadata)
            .build()) {
      Group group = new SimpleGroupFactory(schema).newGroup();
      for (org.apache.parquet.schema.Type field : schema.getFields()) {
        switch (field.asPrimitiveType().getPrimitiveTypeName()) {
          case INT64 -> group.add(field.getName(), 1L);
          case INT32 -> group.add(field.getName(), 1);
          default -> group.add(field.getName(), "a".repeat(64));
        }
      }
      writer.write(group);
    }
  }

  @Test
  void otherFormatVersionIsRejectedNamingFileAndVersion() throws IOException {
    writeExample(
        shard(),
        ImageShardSchema.SCHEMA,
        Map.of("dtm.shard.format_version", "2", "dtm.shard.content", "images"));

    String expected =
        "File " + shard() + " has shard format version 2; this reader reads version 1";
    assertThatThrownBy(() -> ShardReader.open(conf, shard()))
        .isInstanceOf(ShardFormatException.class)
        .hasMessage(expected);
    assertThatThrownBy(() -> ShardReader.rowGroups(conf, shard()))
        .isInstanceOf(ShardFormatException.class)
        .hasMessage(expected);
  }

  @Test
  void plainParquetFileIsNotAShard() throws IOException {
    writeExample(shard(), ImageShardSchema.SCHEMA, Map.of());

    assertThatThrownBy(() -> ShardReader.open(conf, shard()))
        .isInstanceOf(ShardFormatException.class)
        .hasMessage(
            "File "
                + shard()
                + " is not a dtm-spark shard: its Parquet metadata has no"
                + " dtm.shard.format_version");
  }

  @Test
  void missingColumnIsNamed() throws IOException {
    writeExample(
        shard(),
        ImageShardSchema.without(ImageShardSchema.SCHEMA, "sha256"),
        Map.of("dtm.shard.format_version", "1", "dtm.shard.content", "images"));

    assertThatThrownBy(() -> ShardReader.open(conf, shard(), ShardReadOptions.ALL.withoutImage()))
        .isInstanceOf(ShardFormatException.class)
        .hasMessage(
            "File "
                + shard()
                + ": column sha256 must be required binary sha256 (STRING), cannot be: missing");
  }

  @Test
  void abandonedWriterLeavesNoFileUnderTheFinalName() throws IOException {
    ShardWriter writer = ShardWriter.create(conf, shard(), ShardWriteOptions.DEFAULTS);
    for (ImageRow row : randomRows(10, 1000, 2)) {
      writer.write(row);
    }

    // The hidden staging file, and the local filesystem's checksum file beside it.
    assertThat(filesInTrain())
        .isNotEmpty()
        .allMatch(name -> name.startsWith("."))
        .allMatch(name -> name.contains(".part-00000.parquet.inprogress-"));

    writer.close();

    assertThat(filesInTrain()).isEmpty();
  }

  @Test
  void exceptionInsideTryWithResourcesDiscardsTheShard() {
    assertThatThrownBy(
            () -> {
              try (ShardWriter writer =
                  ShardWriter.create(conf, shard(), ShardWriteOptions.DEFAULTS)) {
                for (ImageRow row : randomRows(10, 1000, 2)) {
                  writer.write(row);
                }
                throw new IllegalStateException("input went away");
              }
            })
        .hasMessage("input went away");

    assertThat(dir.resolve("train/part-00000.parquet")).doesNotExist();
  }

  @Test
  void failedWriteDiscardsTheShardAndForbidsCommit() throws IOException {
    Configuration failing = new Configuration(conf);
    failing.setClass("fs.file.impl", FailingLocalFileSystem.class, LocalFileSystem.class);
    failing.setBoolean("fs.file.impl.disable.cache", true);
    failing.setLong(FailingLocalFileSystem.LIMIT_KEY, 8 << 10);
    ShardWriteOptions options = ShardWriteOptions.DEFAULTS.withRowGroupBytes(4 << 10);

    try (ShardWriter writer = ShardWriter.create(failing, shard(), options)) {
      assertThatThrownBy(
              () -> {
                for (ImageRow row : randomRows(100, 2000, 2)) {
                  writer.write(row);
                }
              })
          .isInstanceOf(IOException.class)
          .hasMessageContaining("disk full");
      assertThatThrownBy(writer::commit)
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("Cannot commit " + writer.path() + ": the writer is failed");
    }

    assertThat(filesInTrain()).isEmpty();
  }

  @Test
  void directCommitModeDeletesThePartialFileOnAbort() throws IOException {
    ShardWriteOptions direct = ShardWriteOptions.DEFAULTS.withCommitMode(CommitMode.DIRECT);
    try (ShardWriter writer = ShardWriter.create(conf, shard(), direct)) {
      writer.write(randomRows(1, 100, 1).get(0));
      // Local files are visible while written: that is why RENAME is the default.
      assertThat(filesInTrain()).contains("part-00000.parquet");
    }

    assertThat(filesInTrain()).isEmpty();
  }

  @Test
  void directCommitModeWritesTheSameShard() throws IOException {
    List<ImageRow> rows = randomRows(12, 300, 4);
    ShardWriteOptions direct = ShardWriteOptions.DEFAULTS.withCommitMode(CommitMode.DIRECT);

    WrittenShard written = write(conf, shard(), direct, rows);

    byte[] file = Files.readAllBytes(dir.resolve("train/part-00000.parquet"));
    assertThat(written.sha256()).isEqualTo(ShardFixtures.sha256Hex(file));
    assertThat(readAll(conf, shard(), ShardReadOptions.ALL)).isEqualTo(rows);
  }

  @Test
  void existingShardIsNeverOverwritten() throws IOException {
    write(conf, shard(), ShardWriteOptions.DEFAULTS, randomRows(3, 100, 1));
    byte[] before = Files.readAllBytes(dir.resolve("train/part-00000.parquet"));

    assertThatThrownBy(() -> ShardWriter.create(conf, shard(), ShardWriteOptions.DEFAULTS))
        .isInstanceOf(FileAlreadyExistsException.class)
        .hasMessage(
            "Cannot write "
                + shard()
                + ": the file already exists (remove the output to rewrite it)");
    assertThat(Files.readAllBytes(dir.resolve("train/part-00000.parquet"))).isEqualTo(before);
  }

  @Test
  void commitFailsWhenTheFinalNameAppearedMeanwhile() throws IOException {
    try (ShardWriter writer = ShardWriter.create(conf, shard(), ShardWriteOptions.DEFAULTS)) {
      writer.write(randomRows(1, 100, 1).get(0));
      Files.writeString(dir.resolve("train/part-00000.parquet"), "someone else");

      assertThatThrownBy(writer::commit)
          .isInstanceOf(FileAlreadyExistsException.class)
          .hasMessage(
              "Cannot commit " + shard() + ": the file appeared while it was being written");
    }

    assertThat(dir.resolve("train/part-00000.parquet")).hasContent("someone else");
    assertThat(filesInTrain()).containsExactly("part-00000.parquet");
  }

  @Test
  void writerIsUnusableAfterCommit() throws IOException {
    try (ShardWriter writer = ShardWriter.create(conf, shard(), ShardWriteOptions.DEFAULTS)) {
      writer.commit();
      assertThatThrownBy(() -> writer.write(randomRows(1, 100, 1).get(0)))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("Cannot write to " + shard() + ": the writer is committed");
    }
    assertThat(readAll(conf, shard(), ShardReadOptions.ALL)).isEmpty();
  }

  @Test
  void rowWithoutImageIsRejectedAndTheWriterStaysUsable() throws IOException {
    List<ImageRow> rows = randomRows(2, 100, 1);
    try (ShardWriter writer = ShardWriter.create(conf, shard(), ShardWriteOptions.DEFAULTS)) {
      writer.write(rows.get(0));
      assertThatThrownBy(() -> writer.write(rows.get(1).withoutImage()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "Image bytes of "
                  + rows.get(1).key()
                  + " must be present to be written, cannot be: null");
      writer.write(rows.get(1));
      assertThat(writer.commit().rows()).isEqualTo(2);
    }
    assertThat(readAll(conf, shard(), ShardReadOptions.ALL)).isEqualTo(rows);
  }

  /** A local filesystem whose files fail with "disk full" after {@link #LIMIT_KEY} bytes. */
  public static final class FailingLocalFileSystem extends LocalFileSystem {
    static final String LIMIT_KEY = "test.failing.limit";

    @Override
    public FSDataOutputStream create(
        Path f,
        FsPermission permission,
        boolean overwrite,
        int bufferSize,
        short replication,
        long blockSize,
        Progressable progress)
        throws IOException {
      FSDataOutputStream inner =
          super.create(f, permission, overwrite, bufferSize, replication, blockSize, progress);
      long limit = getConf().getLong(LIMIT_KEY, Long.MAX_VALUE);
      return new FSDataOutputStream(new Limited(inner, limit), null);
    }

    private static final class Limited extends FilterOutputStream {
      private long left;

      Limited(OutputStream out, long limit) {
        super(out);
        this.left = limit;
      }

      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        if (len > left) {
          throw new IOException("disk full");
        }
        left -= len;
        out.write(b, off, len);
      }
    }
  }
}
