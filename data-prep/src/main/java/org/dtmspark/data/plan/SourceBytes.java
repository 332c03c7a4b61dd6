package org.dtmspark.data.plan;

import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/** Reads the bytes of a listed {@link SourceImage}, a plain file or an archive member. */
public final class SourceBytes {
  /** The largest image read into one array. */
  static final long MAX_BYTES = Integer.MAX_VALUE - 8;

  private SourceBytes() {}

  /**
   * Opens the image's bytes: a plain file is opened; an archive member is read from its archive
   * file from {@link SourceImage#offset()} for {@link SourceImage#size()} bytes, one seek, no tar
   * parsing. The caller closes the stream.
   *
   * @param fs the filesystem of the image's location
   */
  public static InputStream open(FileSystem fs, SourceImage image) throws IOException {
    if (!image.inArchive()) {
      return fs.open(new Path(image.location()));
    }
    return new Bounded(TarArchives.openAt(fs, image.location(), image.offset()), image.size());
  }

  /**
   * Reads all of the image's bytes.
   *
   * @throws EOFException when the file or archive holds fewer bytes than listed
   */
  public static byte[] read(FileSystem fs, SourceImage image) throws IOException {
    if (image.size() > MAX_BYTES) {
      throw new IOException(
          "Image size must be at most "
              + MAX_BYTES
              + " bytes, cannot be: "
              + image.size()
              + " ("
              + image.location()
              + ")");
    }
    byte[] bytes = new byte[(int) image.size()];
    try (InputStream in = open(fs, image)) {
      int done = in.readNBytes(bytes, 0, bytes.length);
      if (done < bytes.length) {
        throw new EOFException(
            image.location() + " ends after " + done + " of " + bytes.length + " bytes");
      }
    }
    return bytes;
  }

  /** The first {@code remaining} bytes of a stream; closing it closes the stream. */
  private static final class Bounded extends FilterInputStream {
    private long remaining;

    Bounded(InputStream in, long remaining) {
      super(in);
      this.remaining = remaining;
    }

    @Override
    public int read() throws IOException {
      if (remaining <= 0) {
        return -1;
      }
      int b = in.read();
      if (b >= 0) {
        remaining--;
      }
      return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      if (remaining <= 0) {
        return length == 0 ? 0 : -1;
      }
      int n = in.read(buffer, offset, (int) Math.min(length, remaining));
      if (n > 0) {
        remaining -= n;
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      long skipped = in.skip(Math.min(Math.max(n, 0), remaining));
      remaining -= skipped;
      return skipped;
    }

    @Override
    public int available() throws IOException {
      return (int) Math.min(in.available(), remaining);
    }

    @Override
    public boolean markSupported() {
      return false;
    }
  }
}
