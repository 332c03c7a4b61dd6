package org.dtmspark.data.plan;

import java.io.BufferedInputStream;
import java.io.FileNotFoundException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.compress.archivers.ArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Tar archives read in place on any Hadoop filesystem, never unpacked to local disk.
 *
 * <p>A member's location is the archive's path, then {@code !/} and the member's name, once per
 * level of nesting: {@code
 * hdfs://nn/in/ILSVRC2012_img_train.tar!/n01440764.tar!/n01440764_10026.JPEG}.
 *
 * <p>Two ways to get members' bytes, for the two shapes a job can take:
 *
 * <ul>
 *   <li>{@link SourceBytes#open} reads one listed member with one seek to its {@link
 *       SourceImage#offset()}: a shard's rows may come from anywhere in the archive, so the shard
 *       job reads them this way, all shards in parallel;
 *   <li>{@link #forEachMember} streams every member of an archive or of one nested class archive,
 *       for work that goes archive by archive (one Spark task per class tar). Reaching a nested
 *       archive streams the outer one up to it.
 * </ul>
 *
 * <p>Listing (in {@link InputScanner}) streams each archive once from start to end: tar has no
 * index, and the skipped data of a sequential stream costs less than one request per member on
 * object stores.
 */
public final class TarArchives {
  /** Separates an archive from its member in a location. */
  public static final String SEPARATOR = "!/";

  /** Read buffer on archive streams. */
  static final int BUFFER_BYTES = 1 << 20;

  /** Receives one member of an archive. */
  @FunctionalInterface
  public interface MemberConsumer {
    /**
     * Consumes one member.
     *
     * @param location the member's location, as {@link SourceImage#location()}
     * @param data the member's bytes, valid during this call only; closing it is allowed and does
     *     not close the archive
     */
    void accept(String location, InputStream data) throws IOException;
  }

  private TarArchives() {}

  /** The location of a member, nested through {@code members} in order. */
  public static String location(String archive, String... members) {
    StringBuilder s = new StringBuilder(archive);
    for (String member : members) {
      s.append(SEPARATOR).append(member);
    }
    return s.toString();
  }

  /** The parts of a location: the archive path, then the member names; one part for a file. */
  public static List<String> parts(String location) {
    return Arrays.asList(location.split(SEPARATOR, -1));
  }

  /**
   * Streams every regular-file member of the tar at {@code tarLocation} to {@code consumer}, in
   * archive order. {@code tarLocation} is an archive path ({@code .../ILSVRC2012_img_val.tar}) or a
   * nested tar inside one ({@code .../ILSVRC2012_img_train.tar!/n01440764.tar}); members that are
   * themselves tars are passed as they are, not opened.
   *
   * @param fs the filesystem of the archive
   * @throws FileNotFoundException when a nested tar named in the location is not in its archive
   */
  public static void forEachMember(FileSystem fs, String tarLocation, MemberConsumer consumer)
      throws IOException {
    List<String> parts = parts(tarLocation);
    try (InputStream file = new BufferedInputStream(fs.open(new Path(parts.get(0))), BUFFER_BYTES);
        TarArchiveInputStream tar = new TarArchiveInputStream(file)) {
      streamMembers(tar, parts.get(0), parts.subList(1, parts.size()), consumer);
    }
  }

  private static void streamMembers(
      TarArchiveInputStream tar, String prefix, List<String> path, MemberConsumer consumer)
      throws IOException {
    TarArchiveEntry entry;
    while ((entry = TarArchives.next(tar)) != null) {
      if (!isRegularFile(entry)) {
        continue;
      }
      String location = location(prefix, entry.getName());
      if (path.isEmpty()) {
        consumer.accept(location, new Unclosable(tar));
      } else if (entry.getName().equals(path.get(0))) {
        try (TarArchiveInputStream nested = new TarArchiveInputStream(new Unclosable(tar))) {
          streamMembers(nested, location, path.subList(1, path.size()), consumer);
        }
        return;
      }
    }
    if (!path.isEmpty()) {
      throw new FileNotFoundException("No member " + path.get(0) + " in archive " + prefix);
    }
  }

  /**
   * The next entry of a tar stream, or {@code null} at its end.
   *
   * <p>Called through {@link ArchiveInputStream} on purpose: commons-compress 1.27 (from DJL)
   * declares {@code TarArchiveInputStream.getNextEntry()} returning {@link TarArchiveEntry}, a
   * method that the 1.23 shipped in Spark 3.5's {@code jars/} lacks; the supertype's method exists
   * in both, so this code runs with either jar first on the classpath.
   *
   * @throws IllegalStateException when commons-compress 1.27 needs commons-lang3 (to read a long
   *     entry name) and it is missing
   */
  static TarArchiveEntry next(ArchiveInputStream<?> tar) throws IOException {
    try {
      return (TarArchiveEntry) tar.getNextEntry();
    } catch (NoClassDefFoundError e) {
      if (String.valueOf(e.getMessage()).contains("commons/lang3")) {
        throw new IllegalStateException(
            "Reading a tar entry name longer than 100 bytes (GNU or PAX long name) needs"
                + " commons-lang3 3.13 or later on the classpath, which commons-compress "
                + "1.27 calls and DJL's dependency excludes: "
                + e.getMessage(),
            e);
      }
      throw e;
    }
  }

  /**
   * Whether an entry holds a file's bytes: not a directory, link, device or FIFO. ({@link
   * TarArchiveEntry#isFile()} also says yes to symbolic links.)
   */
  static boolean isRegularFile(TarArchiveEntry entry) {
    return !entry.isDirectory()
        && !entry.isSymbolicLink()
        && !entry.isLink()
        && !entry.isCharacterDevice()
        && !entry.isBlockDevice()
        && !entry.isFIFO();
  }

  /** Opens {@code location}'s archive file and positions it at {@code offset}. */
  static FSDataInputStream openAt(FileSystem fs, String location, long offset) throws IOException {
    FSDataInputStream in = fs.open(new Path(parts(location).get(0)));
    try {
      in.seek(offset);
      return in;
    } catch (IOException | RuntimeException e) {
      in.close();
      throw e;
    }
  }

  /** A view of a stream whose {@link #close} leaves the stream open. */
  static final class Unclosable extends FilterInputStream {
    Unclosable(InputStream in) {
      super(in);
    }

    @Override
    public void close() {}
  }
}
