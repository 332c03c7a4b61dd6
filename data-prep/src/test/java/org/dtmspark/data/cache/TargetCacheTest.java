package org.dtmspark.data.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.MessageType;
import org.dtmspark.core.data.ViewParams;
import org.dtmspark.core.io.HalfFloats;
import org.dtmspark.data.shard.ParquetRowWriter;
import org.dtmspark.data.shard.RowCodec;
import org.dtmspark.data.shard.ShardFormatException;
import org.dtmspark.data.shard.ShardWriteOptions;
import org.dtmspark.data.shard.WrittenShard;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TargetCacheTest {
  private static final int N = 5;
  private static final int P = 7;

  @TempDir java.nio.file.Path dir;

  private final Configuration conf = new Configuration();

  private Path file(String name) {
    return new Path(dir.resolve(name).toUri());
  }

  /** Two images, two sampled views each plus the full view, random tokens in [-4, 4). */
  private static List<float[]> values(long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    List<float[]> all = new ArrayList<>();
    for (int r = 0; r < 6; r++) {
      float[] v = new float[N * P];
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) (random.nextDouble() * 8 - 4);
      }
      all.add(v);
    }
    return all;
  }

  private static ViewParams view(int image, int view) {
    if (view == TargetCacheSchema.FULL_VIEW) {
      return ViewParams.fullImage(300 + image, 200 + image);
    }
    int[][] orders = {{2, 0, 1}, {1, 2, 0}};
    return new ViewParams(
        11 * image + view,
        3 + view,
        150 + view,
        120 - image,
        view % 2 == 1,
        0.6f + 0.1f * view,
        1.3f - 0.05f * image,
        0.9999999f,
        orders[(image + view) % 2]);
  }

  private static List<TargetRow> rows(String dtype, List<float[]> values) {
    List<TargetRow> rows = new ArrayList<>();
    int r = 0;
    for (int image = 0; image < 2; image++) {
      for (int v : new int[] {0, 1, TargetCacheSchema.FULL_VIEW}) {
        rows.add(
            TargetRow.ofFloats(
                40 + image, "n0144_" + image, v, view(image, v), values.get(r++), N, P, dtype));
      }
    }
    return rows;
  }

  private List<TargetRow> writeAndRead(Path path, List<TargetRow> rows, boolean tokens)
      throws IOException {
    try (TargetCacheWriter writer =
        TargetCacheWriter.create(conf, path, ShardWriteOptions.DEFAULTS)) {
      for (TargetRow row : rows) {
        writer.write(row);
      }
      WrittenShard written = writer.commit();
      assertThat(written.rows()).isEqualTo(rows.size());
    }
    return TargetCacheReader.readAll(conf, path, tokens);
  }

  @Test
  void fp16RoundTripKeepsViewsExactlyAndTokensWithinHalfPrecision() throws IOException {
    List<float[]> values = values(1);
    List<TargetRow> rows = rows(TargetRow.FP16, values);
    List<TargetRow> read = writeAndRead(file("part-00000.parquet"), rows, true);

    assertThat(read).isEqualTo(rows);
    for (int r = 0; r < rows.size(); r++) {
      assertThat(read.get(r).params()).isEqualTo(rows.get(r).params());
      float[] back = read.get(r).tokensAsFloats();
      float[] original = values.get(r);
      for (int i = 0; i < back.length; i++) {
        // |x| < 4: fp16 spacing is at most 2^-9, so round-to-nearest is within 2^-10.
        assertThat(back[i]).isCloseTo(original[i], org.assertj.core.data.Offset.offset(0x1p-10f));
        assertThat(back[i]).isEqualTo(HalfFloats.halfToFloat(HalfFloats.floatToHalf(original[i])));
      }
    }
    assertThat(read.get(2).isFullView()).isTrue();
    assertThat(read.get(2).params()).isEqualTo(ViewParams.fullImage(300, 200));
    assertThat(read.get(0).tokens()).hasSize(N * P * 2);
  }

  @Test
  void fp32RoundTripIsExact() throws IOException {
    List<float[]> values = values(2);
    List<TargetRow> rows = rows(TargetRow.FP32, values);
    List<TargetRow> read = writeAndRead(file("part-00000.parquet"), rows, true);

    assertThat(read).isEqualTo(rows);
    for (int r = 0; r < rows.size(); r++) {
      assertThat(read.get(r).tokensAsFloats()).containsExactly(values.get(r));
      assertThat(read.get(r).dtype()).isEqualTo("fp32");
    }
  }

  @Test
  void tokensAreLittleEndianRowMajor() {
    float[] v = {1f, -2f, 0.5f, 65504f, 3f, 0f};
    TargetRow half = TargetRow.ofFloats(0, "k", 0, view(0, 0), v, 2, 3, TargetRow.FP16);
    // 1.0 = 0x3c00, -2.0 = 0xc000 in binary16; little-endian: low byte first.
    assertThat(half.tokens()).startsWith((byte) 0x00, (byte) 0x3c, (byte) 0x00, (byte) 0xc0);
    TargetRow single = TargetRow.ofFloats(0, "k", 0, view(0, 0), v, 2, 3, TargetRow.FP32);
    // 1.0f = 0x3f800000.
    assertThat(single.tokens()).startsWith((byte) 0, (byte) 0, (byte) 0x80, (byte) 0x3f);
    assertThat(half.tokensAsFloats()).containsExactly(v);
  }

  @Test
  void fp16EncodingRoundsHalfwayCasesToEven() {
    // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: the even neighbour is 1.
    // 1 + 3 * 2^-11 lies halfway between 1 + 2^-10 and 1 + 2^-9: the even neighbour is 1 + 2^-9.
    float[] v = {1f + 0x1p-11f, 1f + 3 * 0x1p-11f};
    TargetRow row = TargetRow.ofFloats(0, "k", 0, view(0, 0), v, 1, 2, TargetRow.FP16);
    assertThat(row.tokensAsFloats()).containsExactly(1f, 1f + 0x1p-9f);
  }

  @Test
  void projectionWithoutTokensReadsEverythingElse() throws IOException {
    List<TargetRow> rows = rows(TargetRow.FP16, values(3));
    List<TargetRow> read = writeAndRead(file("part-00000.parquet"), rows, false);

    assertThat(read).isEqualTo(rows.stream().map(TargetRow::withoutTokens).toList());
    assertThat(read).allSatisfy(r -> assertThat(r.tokens()).isNull());
    assertThat(read.get(1).params()).isEqualTo(rows.get(1).params());
    assertThatThrownBy(() -> read.get(0).tokensAsFloats())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("n0144_0");
  }

  @Test
  void readerRejectsAnotherFormatVersionNamingFileAndVersion() throws IOException {
    Path path = file("part-00000.parquet");
    try (ParquetRowWriter<TargetRow> writer =
        ParquetRowWriter.create(conf, path, new VersionTwoCodec(), ShardWriteOptions.DEFAULTS)) {
      writer.write(rows(TargetRow.FP16, values(4)).get(0));
      writer.commit();
    }

    assertThatThrownBy(() -> TargetCacheReader.open(conf, path))
        .isInstanceOf(ShardFormatException.class)
        .hasMessageContaining(path.toUri().getPath())
        .hasMessageContaining("target cache format version 2")
        .hasMessageContaining("reads version 1");
  }

  @Test
  void readerRejectsAnImageShard() throws IOException {
    Path path = file("shard.parquet");
    try (org.dtmspark.data.shard.ShardWriter writer =
        org.dtmspark.data.shard.ShardWriter.create(conf, path, ShardWriteOptions.DEFAULTS)) {
      writer.commit();
    }
    assertThatThrownBy(() -> TargetCacheReader.open(conf, path))
        .isInstanceOf(ShardFormatException.class)
        .hasMessageContaining("no " + TargetCacheSchema.VERSION_KEY);
  }

  @Test
  void abandonedWriterLeavesNoFile() throws IOException {
    Path path = file("part-00000.parquet");
    try (TargetCacheWriter writer =
        TargetCacheWriter.create(conf, path, ShardWriteOptions.DEFAULTS)) {
      for (TargetRow row : rows(TargetRow.FP16, values(5))) {
        writer.write(row);
      }
      assertThat(writer.rows()).isEqualTo(6);
    }
    try (Stream<java.nio.file.Path> left = Files.list(dir)) {
      assertThat(left).isEmpty();
    }
  }

  @Test
  void writerRefusesAnExistingFile() throws IOException {
    Path path = file("part-00000.parquet");
    writeAndRead(path, rows(TargetRow.FP32, values(6)), false);
    assertThatThrownBy(() -> TargetCacheWriter.create(conf, path, ShardWriteOptions.DEFAULTS))
        .isInstanceOf(FileAlreadyExistsException.class);
  }

  @Test
  void bytesPerViewOfViTBaseTargetsInHalfPrecision() {
    assertThat(TargetRow.bytesPerView(196, 512, TargetRow.FP16)).isEqualTo(200_704L);
    assertThat(TargetRow.bytesPerView(196, 512, TargetRow.FP32)).isEqualTo(401_408L);
    float[] zeros = new float[196 * 512];
    assertThat(TargetRow.ofFloats(0, "k", 0, view(0, 0), zeros, 196, 512, "fp16").tokens())
        .hasSize(200_704);
  }

  @Test
  void rowsValidateShapeDtypeAndView() {
    ViewParams p = view(0, 0);
    assertThatThrownBy(() -> new TargetRow(0, "k", 0, p, new byte[10], 2, 3, "fp16"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Tokens of image k view 0 must be 12 bytes ([2, 3] fp16), cannot be: 10");
    assertThatThrownBy(() -> new TargetRow(0, "k", 0, p, new byte[12], 2, 3, "bf16"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Token dtype must be fp16 or fp32, cannot be: bf16");
    assertThatThrownBy(() -> new TargetRow(0, "k", -2, p, new byte[12], 2, 3, "fp16"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must be at least -1 (the full-image view), cannot be: -2");
    assertThatThrownBy(() -> TargetRow.ofFloats(0, "k", 0, p, new float[5], 2, 3, "fp32"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("numTokens * dim = 6 floats, cannot be: 5");
    assertThatThrownBy(() -> TargetRowCodec.parseOrder("0,1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cannot be: 0,1");
  }

  /** The cache codec stamping format version 2, to test the reader's check. */
  private static final class VersionTwoCodec implements RowCodec<TargetRow> {
    private final TargetRowCodec base = TargetRowCodec.INSTANCE;

    @Override
    public String content() {
      return base.content();
    }

    @Override
    public String versionKey() {
      return base.versionKey();
    }

    @Override
    public String contentKey() {
      return base.contentKey();
    }

    @Override
    public int formatVersion() {
      return 2;
    }

    @Override
    public MessageType schema() {
      return base.schema();
    }

    @Override
    public List<String> noDictionaryColumns() {
      return base.noDictionaryColumns();
    }

    @Override
    public void validate(TargetRow row) {
      base.validate(row);
    }

    @Override
    public void write(TargetRow row, RecordConsumer out) {
      base.write(row, out);
    }

    @Override
    public TargetRow read(Object[] fields) {
      return base.read(fields);
    }
  }
}
