package org.dtmspark.data.shard;

import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.RecordConsumer;

/**
 * Writes single top-level fields through a {@link RecordConsumer}. Public only for the other file
 * formats of data-prep; not an API for users.
 */
public final class ParquetFields {
  private ParquetFields() {}

  public static void writeLong(RecordConsumer out, String name, int index, long value) {
    out.startField(name, index);
    out.addLong(value);
    out.endField(name, index);
  }

  public static void writeInt(RecordConsumer out, String name, int index, int value) {
    out.startField(name, index);
    out.addInteger(value);
    out.endField(name, index);
  }

  public static void writeFloat(RecordConsumer out, String name, int index, float value) {
    out.startField(name, index);
    out.addFloat(value);
    out.endField(name, index);
  }

  public static void writeBoolean(RecordConsumer out, String name, int index, boolean value) {
    out.startField(name, index);
    out.addBoolean(value);
    out.endField(name, index);
  }

  /** Writes a string field; a null value is left out (an optional column's null). */
  public static void writeString(RecordConsumer out, String name, int index, String value) {
    if (value != null) {
      out.startField(name, index);
      out.addBinary(Binary.fromString(value));
      out.endField(name, index);
    }
  }

  /** Writes a bytes field without copying {@code value}. */
  public static void writeBytes(RecordConsumer out, String name, int index, byte[] value) {
    out.startField(name, index);
    out.addBinary(Binary.fromConstantByteArray(value));
    out.endField(name, index);
  }
}
