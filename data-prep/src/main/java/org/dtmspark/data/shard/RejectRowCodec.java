package org.dtmspark.data.shard;

import java.util.List;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.MessageType;

/** {@link RejectRow}s as rows of {@link RejectSchema#SCHEMA}. */
final class RejectRowCodec implements RowCodec<RejectRow> {
  static final RejectRowCodec INSTANCE = new RejectRowCodec();

  private RejectRowCodec() {}

  @Override
  public String content() {
    return ImageShardSchema.CONTENT_REJECTS;
  }

  @Override
  public MessageType schema() {
    return RejectSchema.SCHEMA;
  }

  @Override
  public List<String> noDictionaryColumns() {
    return List.of(RejectSchema.LOCATION);
  }

  @Override
  public void validate(RejectRow row) {
    if (row == null) {
      throw new IllegalArgumentException("Reject row must not be null");
    }
  }

  @Override
  public void write(RejectRow row, RecordConsumer out) {
    ParquetFields.writeString(out, RejectSchema.LOCATION, 0, row.location());
    ParquetFields.writeString(out, RejectSchema.SPLIT, 1, row.split());
    ParquetFields.writeString(out, RejectSchema.REASON, 2, row.reason());
  }

  @Override
  public RejectRow read(Object[] f) {
    return new RejectRow((String) f[0], (String) f[1], (String) f[2]);
  }
}
