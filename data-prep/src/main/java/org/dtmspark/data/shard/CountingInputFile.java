package org.dtmspark.data.shard;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.LongConsumer;
import org.apache.parquet.io.InputFile;
import org.apache.parquet.io.SeekableInputStream;

/**
 * An {@link InputFile} that reports every byte its streams read from storage (footer, column
 * chunks, whatever the Parquet reader fetches) to a counter: the accounting of what a rank reads.
 */
final class CountingInputFile implements InputFile {
  private final InputFile file;
  private final LongConsumer counter;

  CountingInputFile(InputFile file, LongConsumer counter) {
    this.file = file;
    this.counter = counter;
  }

  @Override
  public long getLength() throws IOException {
    return file.getLength();
  }

  @Override
  public SeekableInputStream newStream() throws IOException {
    return new Counting(file.newStream(), counter);
  }

  @Override
  public String toString() {
    return file.toString();
  }

  private static final class Counting extends SeekableInputStream {
    private final SeekableInputStream in;
    private final LongConsumer counter;

    Counting(SeekableInputStream in, LongConsumer counter) {
      this.in = in;
      this.counter = counter;
    }

    @Override
    public long getPos() throws IOException {
      return in.getPos();
    }

    @Override
    public void seek(long newPos) throws IOException {
      in.seek(newPos);
    }

    @Override
    public int read() throws IOException {
      int b = in.read();
      if (b >= 0) {
        counter.accept(1);
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = in.read(b, off, len);
      if (n > 0) {
        counter.accept(n);
      }
      return n;
    }

    @Override
    public void readFully(byte[] bytes) throws IOException {
      in.readFully(bytes);
      counter.accept(bytes.length);
    }

    @Override
    public void readFully(byte[] bytes, int start, int len) throws IOException {
      in.readFully(bytes, start, len);
      counter.accept(len);
    }

    @Override
    public int read(ByteBuffer buf) throws IOException {
      int n = in.read(buf);
      if (n > 0) {
        counter.accept(n);
      }
      return n;
    }

    @Override
    public void readFully(ByteBuffer buf) throws IOException {
      int n = buf.remaining();
      in.readFully(buf);
      counter.accept(n);
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }
}
