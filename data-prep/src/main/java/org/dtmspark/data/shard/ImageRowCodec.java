package org.dtmspark.data.shard;

import static org.dtmspark.data.shard.ImageShardSchema.FORMAT;
import static org.dtmspark.data.shard.ImageShardSchema.HEIGHT;
import static org.dtmspark.data.shard.ImageShardSchema.IMAGE;
import static org.dtmspark.data.shard.ImageShardSchema.IMAGE_ID;
import static org.dtmspark.data.shard.ImageShardSchema.KEY;
import static org.dtmspark.data.shard.ImageShardSchema.LABEL;
import static org.dtmspark.data.shard.ImageShardSchema.REENCODED;
import static org.dtmspark.data.shard.ImageShardSchema.SHA256;
import static org.dtmspark.data.shard.ImageShardSchema.SOURCE;
import static org.dtmspark.data.shard.ImageShardSchema.SPLIT;
import static org.dtmspark.data.shard.ImageShardSchema.WIDTH;
import static org.dtmspark.data.shard.ImageShardSchema.WNID;

import java.util.List;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.MessageType;

/** {@link ImageRow}s as rows of {@link ImageShardSchema#SCHEMA}. */
final class ImageRowCodec implements RowCodec<ImageRow> {
  static final ImageRowCodec INSTANCE = new ImageRowCodec();

  // Field indices in SCHEMA, in declaration order.
  private static final int I_IMAGE_ID = 0;
  private static final int I_KEY = 1;
  private static final int I_SPLIT = 2;
  private static final int I_LABEL = 3;
  private static final int I_WNID = 4;
  private static final int I_IMAGE = 5;
  private static final int I_FORMAT = 6;
  private static final int I_WIDTH = 7;
  private static final int I_HEIGHT = 8;
  private static final int I_SHA256 = 9;
  private static final int I_SOURCE = 10;
  private static final int I_REENCODED = 11;

  private ImageRowCodec() {}

  @Override
  public String content() {
    return ImageShardSchema.CONTENT_IMAGES;
  }

  @Override
  public MessageType schema() {
    return ImageShardSchema.SCHEMA;
  }

  @Override
  public List<String> noDictionaryColumns() {
    return ImageShardSchema.NO_DICTIONARY;
  }

  @Override
  public void validate(ImageRow row) {
    if (row == null) {
      throw new IllegalArgumentException("Image row must not be null");
    }
    if (row.image() == null) {
      throw new IllegalArgumentException(
          "Image bytes of " + row.key() + " must be present to be written, cannot be: null");
    }
  }

  @Override
  public void write(ImageRow row, RecordConsumer out) {
    ParquetFields.writeLong(out, IMAGE_ID, I_IMAGE_ID, row.imageId());
    ParquetFields.writeString(out, KEY, I_KEY, row.key());
    ParquetFields.writeString(out, SPLIT, I_SPLIT, row.split());
    ParquetFields.writeInt(out, LABEL, I_LABEL, row.label());
    ParquetFields.writeString(out, WNID, I_WNID, row.wnid());
    ParquetFields.writeBytes(out, IMAGE, I_IMAGE, row.image());
    ParquetFields.writeString(out, FORMAT, I_FORMAT, row.format());
    ParquetFields.writeInt(out, WIDTH, I_WIDTH, row.width());
    ParquetFields.writeInt(out, HEIGHT, I_HEIGHT, row.height());
    ParquetFields.writeString(out, SHA256, I_SHA256, row.sha256());
    ParquetFields.writeString(out, SOURCE, I_SOURCE, row.source());
    ParquetFields.writeString(out, REENCODED, I_REENCODED, row.reencoded());
  }

  @Override
  public ImageRow read(Object[] f) {
    return new ImageRow(
        (Long) f[I_IMAGE_ID],
        (String) f[I_KEY],
        (String) f[I_SPLIT],
        (Integer) f[I_LABEL],
        (String) f[I_WNID],
        (byte[]) f[I_IMAGE],
        (String) f[I_FORMAT],
        (Integer) f[I_WIDTH],
        (Integer) f[I_HEIGHT],
        (String) f[I_SHA256],
        (String) f[I_SOURCE],
        (String) f[I_REENCODED]);
  }
}
