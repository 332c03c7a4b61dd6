package org.dtmspark.core.data;

import java.io.IOException;
import java.util.Objects;
import javax.imageio.stream.ImageInputStreamImpl;

/** An {@code ImageInputStream} over a byte array, without the copy of a cached stream. */
public final class ByteArrayImageInputStream extends ImageInputStreamImpl {
  private final byte[] data;

  public ByteArrayImageInputStream(byte[] data) {
    this.data = Objects.requireNonNull(data, "data");
  }

  @Override
  public int read() throws IOException {
    checkClosed();
    bitOffset = 0;
    return streamPos < data.length ? data[(int) streamPos++] & 0xFF : -1;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    checkClosed();
    Objects.checkFromIndexSize(off, len, b.length);
    bitOffset = 0;
    if (len == 0) {
      return 0;
    }
    if (streamPos >= data.length) {
      return -1;
    }
    int count = (int) Math.min(len, data.length - streamPos);
    System.arraycopy(data, (int) streamPos, b, off, count);
    streamPos += count;
    return count;
  }

  @Override
  public long length() {
    return data.length;
  }
}
