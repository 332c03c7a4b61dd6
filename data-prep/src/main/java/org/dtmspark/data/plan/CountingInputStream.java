package org.dtmspark.data.plan;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Counts the bytes its reader consumed, so that a tar reader on top of it tells where each entry's
 * data starts. Mark/reset is not supported (a reset would make the count lie). Records whether the
 * underlying stream ever failed, so that a failure of an outer archive is not mistaken for a bad
 * nested one; optionally leaves the underlying stream open on {@link #close}.
 */
final class CountingInputStream extends FilterInputStream {
  private final boolean closeUnderlying;
  private long count;
  private boolean failed;

  CountingInputStream(InputStream in, boolean closeUnderlying) {
    super(in);
    this.closeUnderlying = closeUnderlying;
  }

  /** Bytes read or skipped so far. */
  long count() {
    return count;
  }

  /** Whether a read or skip of the underlying stream threw. */
  boolean failed() {
    return failed;
  }

  @Override
  public int read() throws IOException {
    int b = guard(in::read);
    if (b >= 0) {
      count++;
    }
    return b;
  }

  @Override
  public int read(byte[] buffer, int offset, int length) throws IOException {
    int n = guard(() -> in.read(buffer, offset, length));
    if (n > 0) {
      count += n;
    }
    return n;
  }

  @Override
  public long skip(long n) throws IOException {
    try {
      long skipped = in.skip(n);
      count += skipped;
      return skipped;
    } catch (IOException e) {
      failed = true;
      throw e;
    }
  }

  @Override
  public boolean markSupported() {
    return false;
  }

  @Override
  public synchronized void mark(int limit) {}

  @Override
  public synchronized void reset() throws IOException {
    throw new IOException("mark/reset not supported");
  }

  @Override
  public void close() throws IOException {
    if (closeUnderlying) {
      in.close();
    }
  }

  private interface IntRead {
    int read() throws IOException;
  }

  private int guard(IntRead read) throws IOException {
    try {
      return read.read();
    } catch (IOException e) {
      failed = true;
      throw e;
    }
  }
}
