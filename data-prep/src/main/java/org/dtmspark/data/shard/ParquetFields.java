package org.dtmspark.data.shard;

import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.RecordConsumer;

/** Writes single top-level fields through a {@link RecordConsumer}. */
final class ParquetFields {
  private ParquetFields() {}

  static void writeLong(RecordConsumer out, String name, int index, long value) {
    out.startField(name, index);
    out.addLong(value);
    out.endField(name, index);
  }

  static void writeInt(RecordConsumer out, String name, int index, int value) {
    out.startField(name, index);
    out.addInteger(value);
    out.endField(name, index);
  }

  /** Writes a string field; a null value is left out (an optional column's null). */
  static void writeString(RecordConsumer out, String name, int index, String value) {
    if (value != null) {
      out.startField(name, index);
      out.addBinary(Binary.fromString(value));
      out.endField(name, index);
    }
  }

  /** Writes a bytes field without copying {@code value}. */
  static void writeBytes(RecordConsumer out, String name, int index, byte[] value) {
    out.startField(name, index);
    out.addBinary(Binary.fromConstantByteArray(value));
    out.endField(name, index);
  }
}
