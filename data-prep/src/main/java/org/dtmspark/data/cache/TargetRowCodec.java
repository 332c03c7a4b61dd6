package org.dtmspark.data.cache;

import static org.dtmspark.data.cache.TargetCacheSchema.BRIGHTNESS;
import static org.dtmspark.data.cache.TargetCacheSchema.CONTRAST;
import static org.dtmspark.data.cache.TargetCacheSchema.CROP_HEIGHT;
import static org.dtmspark.data.cache.TargetCacheSchema.CROP_WIDTH;
import static org.dtmspark.data.cache.TargetCacheSchema.CROP_X;
import static org.dtmspark.data.cache.TargetCacheSchema.CROP_Y;
import static org.dtmspark.data.cache.TargetCacheSchema.DIM;
import static org.dtmspark.data.cache.TargetCacheSchema.DTYPE;
import static org.dtmspark.data.cache.TargetCacheSchema.FLIP;
import static org.dtmspark.data.cache.TargetCacheSchema.IMAGE_ID;
import static org.dtmspark.data.cache.TargetCacheSchema.JITTER_ORDER;
import static org.dtmspark.data.cache.TargetCacheSchema.KEY;
import static org.dtmspark.data.cache.TargetCacheSchema.NUM_TOKENS;
import static org.dtmspark.data.cache.TargetCacheSchema.SATURATION;
import static org.dtmspark.data.cache.TargetCacheSchema.TOKENS;
import static org.dtmspark.data.cache.TargetCacheSchema.VIEW;

import java.util.List;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.MessageType;
import org.dtmspark.core.data.ViewParams;
import org.dtmspark.data.shard.ParquetFields;
import org.dtmspark.data.shard.RowCodec;

/** {@link TargetRow}s as rows of {@link TargetCacheSchema#SCHEMA}. */
final class TargetRowCodec implements RowCodec<TargetRow> {
  static final TargetRowCodec INSTANCE = new TargetRowCodec();

  // Field indices in SCHEMA, in declaration order.
  private static final int I_IMAGE_ID = 0;
  private static final int I_KEY = 1;
  private static final int I_VIEW = 2;
  private static final int I_CROP_X = 3;
  private static final int I_CROP_Y = 4;
  private static final int I_CROP_WIDTH = 5;
  private static final int I_CROP_HEIGHT = 6;
  private static final int I_FLIP = 7;
  private static final int I_BRIGHTNESS = 8;
  private static final int I_CONTRAST = 9;
  private static final int I_SATURATION = 10;
  private static final int I_JITTER_ORDER = 11;
  private static final int I_TOKENS = 12;
  private static final int I_NUM_TOKENS = 13;
  private static final int I_DIM = 14;
  private static final int I_DTYPE = 15;

  private TargetRowCodec() {}

  @Override
  public String content() {
    return TargetCacheSchema.CONTENT_TARGETS;
  }

  @Override
  public String versionKey() {
    return TargetCacheSchema.VERSION_KEY;
  }

  @Override
  public String contentKey() {
    return TargetCacheSchema.CONTENT_KEY;
  }

  @Override
  public int formatVersion() {
    return TargetCacheSchema.FORMAT_VERSION;
  }

  @Override
  public String formatName() {
    return "target cache";
  }

  @Override
  public String otherVersionAdvice(String foundVersion) {
    return TargetCacheSchema.rewriteAdvice(foundVersion);
  }

  @Override
  public MessageType schema() {
    return TargetCacheSchema.SCHEMA;
  }

  @Override
  public List<String> noDictionaryColumns() {
    return TargetCacheSchema.NO_DICTIONARY;
  }

  @Override
  public void validate(TargetRow row) {
    if (row == null) {
      throw new IllegalArgumentException("Target row must not be null");
    }
    if (row.tokens() == null) {
      throw new IllegalArgumentException(
          "Tokens of image "
              + row.key()
              + " view "
              + row.view()
              + " must be present to be written, cannot be: null");
    }
  }

  @Override
  public void write(TargetRow row, RecordConsumer out) {
    ViewParams p = row.params();
    ParquetFields.writeLong(out, IMAGE_ID, I_IMAGE_ID, row.imageId());
    ParquetFields.writeString(out, KEY, I_KEY, row.key());
    ParquetFields.writeInt(out, VIEW, I_VIEW, row.view());
    ParquetFields.writeInt(out, CROP_X, I_CROP_X, p.cropX());
    ParquetFields.writeInt(out, CROP_Y, I_CROP_Y, p.cropY());
    ParquetFields.writeInt(out, CROP_WIDTH, I_CROP_WIDTH, p.cropWidth());
    ParquetFields.writeInt(out, CROP_HEIGHT, I_CROP_HEIGHT, p.cropHeight());
    ParquetFields.writeBoolean(out, FLIP, I_FLIP, p.flip());
    ParquetFields.writeFloat(out, BRIGHTNESS, I_BRIGHTNESS, p.brightness());
    ParquetFields.writeFloat(out, CONTRAST, I_CONTRAST, p.contrast());
    ParquetFields.writeFloat(out, SATURATION, I_SATURATION, p.saturation());
    ParquetFields.writeString(out, JITTER_ORDER, I_JITTER_ORDER, formatOrder(p));
    ParquetFields.writeBytes(out, TOKENS, I_TOKENS, row.tokens());
    ParquetFields.writeInt(out, NUM_TOKENS, I_NUM_TOKENS, row.numTokens());
    ParquetFields.writeInt(out, DIM, I_DIM, row.dim());
    ParquetFields.writeString(out, DTYPE, I_DTYPE, row.dtype());
  }

  @Override
  public TargetRow read(Object[] f) {
    ViewParams params =
        new ViewParams(
            (Integer) f[I_CROP_X],
            (Integer) f[I_CROP_Y],
            (Integer) f[I_CROP_WIDTH],
            (Integer) f[I_CROP_HEIGHT],
            (Boolean) f[I_FLIP],
            (Float) f[I_BRIGHTNESS],
            (Float) f[I_CONTRAST],
            (Float) f[I_SATURATION],
            parseOrder((String) f[I_JITTER_ORDER]));
    return new TargetRow(
        (Long) f[I_IMAGE_ID],
        (String) f[I_KEY],
        (Integer) f[I_VIEW],
        params,
        (byte[]) f[I_TOKENS],
        (Integer) f[I_NUM_TOKENS],
        (Integer) f[I_DIM],
        (String) f[I_DTYPE]);
  }

  /** The jitter order as stored: the operation indices joined by commas, e.g. {@code 2,0,1}. */
  static String formatOrder(ViewParams p) {
    return p.jitterOp(0) + "," + p.jitterOp(1) + "," + p.jitterOp(2);
  }

  /**
   * Parses a stored jitter order; {@link ViewParams} then checks that it is a permutation.
   *
   * @throws IllegalArgumentException naming the text when it is not three comma-separated integers
   */
  static int[] parseOrder(String text) {
    String[] parts = text == null ? new String[0] : text.split(",", -1);
    if (parts.length != 3) {
      throw new IllegalArgumentException(
          "Jitter order must be three comma-separated operation indices, cannot be: " + text);
    }
    int[] order = new int[3];
    for (int i = 0; i < 3; i++) {
      try {
        order[i] = Integer.parseInt(parts[i]);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "Jitter order must be three comma-separated operation indices, cannot be: " + text, e);
      }
    }
    return order;
  }
}
