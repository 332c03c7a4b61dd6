package org.dtmspark.data.idx;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;

/**
 * An idx file to read, plain or gzip-compressed (detected from its content by {@link IdxReader}):
 * on local disk, on any Hadoop filesystem, or a classpath resource (the embedded demo subset).
 *
 * <p>Immutable; every {@link #open} starts a new stream.
 */
public final class IdxFile {
  /** {@code scheme://...}: a location handled by a Hadoop filesystem. */
  private static final Pattern URI_WITH_SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*://.*");

  /** Opens a new stream of the file's bytes. */
  @FunctionalInterface
  private interface Opener {
    InputStream open() throws IOException;
  }

  /** Whether the file exists. */
  @FunctionalInterface
  private interface Existence {
    boolean exists() throws IOException;
  }

  private final String location;
  private final String fileName;
  private final Opener opener;
  private final Existence existence;

  private IdxFile(String location, String fileName, Opener opener, Existence existence) {
    this.location = location;
    this.fileName = fileName;
    this.opener = opener;
    this.existence = existence;
  }

  /** A file on local disk. */
  public static IdxFile local(java.nio.file.Path path) {
    java.nio.file.Path absolute = path.toAbsolutePath().normalize();
    java.nio.file.Path name = absolute.getFileName();
    return new IdxFile(
        absolute.toString(),
        name == null ? absolute.toString() : name.toString(),
        () -> Files.newInputStream(absolute),
        () -> Files.isRegularFile(absolute));
  }

  /** A file on a Hadoop filesystem ({@code file://}, {@code hdfs://}, {@code s3a://}, ...). */
  public static IdxFile hadoop(Configuration conf, org.apache.hadoop.fs.Path path) {
    return new IdxFile(
        path.toString(),
        path.getName(),
        () -> path.getFileSystem(conf).open(path),
        () -> {
          FileSystem fs = path.getFileSystem(conf);
          return fs.exists(path) && fs.getFileStatus(path).isFile();
        });
  }

  /**
   * A resource on the class path of this library, e.g. {@code
   * dtm-demo/fashion-mnist/t10k-images-idx3-ubyte.gz}; its location reads {@code classpath:NAME}.
   */
  public static IdxFile classpath(String resource) {
    ClassLoader loader = IdxFile.class.getClassLoader();
    int slash = resource.lastIndexOf('/');
    return new IdxFile(
        "classpath:" + resource,
        resource.substring(slash + 1),
        () -> {
          InputStream in = loader.getResourceAsStream(resource);
          if (in == null) {
            throw new NoSuchFileException("classpath:" + resource, null, "resource not found");
          }
          return in;
        },
        () -> loader.getResource(resource) != null);
  }

  /**
   * A file named on the command line: a URI with a scheme ({@code hdfs://nn/x}, {@code
   * s3a://bucket/x}, {@code file:///x}) goes through Hadoop's filesystems, anything else is a local
   * path.
   */
  public static IdxFile parse(String location, Configuration conf) {
    if (location == null || location.isBlank()) {
      throw new IllegalArgumentException(
          "Idx file location must be a non-empty string, cannot be: "
              + (location == null ? "null" : "'" + location + "'"));
    }
    if (URI_WITH_SCHEME.matcher(location).matches()) {
      return hadoop(conf, new org.apache.hadoop.fs.Path(location));
    }
    return local(java.nio.file.Path.of(location));
  }

  /** Where the file is: an absolute local path, a Hadoop URI, or {@code classpath:NAME}. */
  public String location() {
    return location;
  }

  /** The file's name without its directory, e.g. {@code t10k-images-idx3-ubyte.gz}. */
  public String fileName() {
    return fileName;
  }

  /** Whether the file exists (and is a regular file where the filesystem says so). */
  public boolean exists() throws IOException {
    return existence.exists();
  }

  /** A new stream of the file's bytes, which the caller closes. */
  public InputStream open() throws IOException {
    return opener.open();
  }

  @Override
  public String toString() {
    return location;
  }
}
