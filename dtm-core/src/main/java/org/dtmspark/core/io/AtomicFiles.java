package org.dtmspark.core.io;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes files and directories so that readers see either the old or the new content, never a
 * partial one: content goes to a temporary sibling, is flushed to disk, then renamed over the
 * target. Works on local POSIX filesystems, where a rename within a directory is atomic.
 */
public final class AtomicFiles {
  private static final AtomicLong COUNTER = new AtomicLong();

  private AtomicFiles() {}

  /**
   * Writes {@code target} atomically: {@code writer} fills a temporary file in the same directory,
   * which is fsynced and then renamed to {@code target}, replacing an existing file. On any failure
   * the temporary file is deleted and {@code target} is left as it was. The stream given to {@code
   * writer} is buffered; closing it is allowed and does nothing more than flush.
   */
  public static void writeAtomically(Path target, IOConsumer<OutputStream> writer)
      throws IOException {
    Path absolute = target.toAbsolutePath();
    Path dir = absolute.getParent();
    Files.createDirectories(dir);
    Path tmp;
    FileChannel channel;
    while (true) {
      tmp = uniqueSibling(dir, "." + absolute.getFileName() + ".", ".tmp");
      try {
        channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        break;
      } catch (FileAlreadyExistsException e) {
        // Another writer picked the same name: try the next one.
      }
    }
    boolean done = false;
    try {
      try (FileChannel file = channel) {
        OutputStream buffered = new BufferedOutputStream(Channels.newOutputStream(file), 1 << 16);
        writer.accept(new NonClosingOutputStream(buffered));
        buffered.flush();
        file.force(true);
      }
      Files.move(
          tmp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      done = true;
      fsyncDirectory(dir);
    } finally {
      if (!done) {
        Files.deleteIfExists(tmp);
      }
    }
  }

  /**
   * Publishes a fully written directory {@code tmpDir} under the name {@code target}, which must be
   * in the same parent directory (same filesystem). Every regular file in {@code tmpDir} is fsynced
   * first.
   *
   * <p>When {@code target} does not exist, this is one atomic rename. When it exists, it is first
   * renamed aside to {@code .<name>.old-<nanos>}, then {@code tmpDir} is renamed to {@code target},
   * then the old directory is deleted. Crash window: a crash between the two renames leaves no
   * {@code target}, with the previous content intact under the {@code .<name>.old-*} name and the
   * new content under {@code tmpDir}; a crash after the second rename leaves a stale {@code
   * .<name>.old-*} directory that is safe to delete. Readers never see a half-written {@code
   * target}. When the second rename fails, the old directory is renamed back before the error is
   * rethrown.
   */
  public static void publishDirectory(Path tmpDir, Path target) throws IOException {
    Path source = tmpDir.toAbsolutePath();
    Path dest = target.toAbsolutePath();
    if (!Files.isDirectory(source)) {
      throw new IOException("Directory to publish does not exist or is not a directory: " + tmpDir);
    }
    if (!source.getParent().equals(dest.getParent())) {
      throw new IllegalArgumentException(
          "Directory to publish must be a sibling of its target "
              + dest
              + " so that the rename is atomic, cannot be: "
              + source);
    }
    fsyncTree(source);
    Path parent = dest.getParent();
    if (!Files.exists(dest)) {
      Files.move(source, dest, StandardCopyOption.ATOMIC_MOVE);
      fsyncDirectory(parent);
      return;
    }
    Path aside = parent.resolve("." + dest.getFileName() + ".old-" + System.nanoTime());
    Files.move(dest, aside, StandardCopyOption.ATOMIC_MOVE);
    try {
      Files.move(source, dest, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      try {
        Files.move(aside, dest, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException restore) {
        e.addSuppressed(restore);
      }
      throw e;
    }
    fsyncDirectory(parent);
    deleteRecursively(aside);
  }

  /**
   * Creates a new empty directory next to {@code target}, named {@code .<name>.tmp-<unique>}, with
   * the default permissions (unlike {@link Files#createTempDirectory}, which makes it private to
   * the owner). Fill it, then hand it to {@link #publishDirectory}.
   */
  public static Path createSiblingTempDirectory(Path target) throws IOException {
    Path absolute = target.toAbsolutePath();
    Path parent = absolute.getParent();
    Files.createDirectories(parent);
    while (true) {
      Path candidate = uniqueSibling(parent, "." + absolute.getFileName() + ".tmp-", "");
      try {
        return Files.createDirectory(candidate);
      } catch (FileAlreadyExistsException e) {
        // Another writer picked the same name: try the next one.
      }
    }
  }

  /** A name in {@code dir} that no file has now; not reserved. */
  private static Path uniqueSibling(Path dir, String prefix, String suffix) {
    while (true) {
      Path candidate =
          dir.resolve(
              prefix
                  + ProcessHandle.current().pid()
                  + "-"
                  + COUNTER.incrementAndGet()
                  + "-"
                  + Long.toHexString(System.nanoTime())
                  + suffix);
      if (!Files.exists(candidate, LinkOption.NOFOLLOW_LINKS)) {
        return candidate;
      }
    }
  }

  /** Deletes {@code path} and, when it is a directory, everything below it; no-op if absent. */
  public static void deleteRecursively(Path path) throws IOException {
    if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Files.walkFileTree(
        path,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            Files.delete(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
            if (exc != null) {
              throw exc;
            }
            Files.delete(dir);
            return FileVisitResult.CONTINUE;
          }
        });
  }

  private static void fsyncTree(Path dir) throws IOException {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path p : entries) {
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          fsyncTree(p);
        } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
          try (FileChannel c = FileChannel.open(p, StandardOpenOption.READ)) {
            c.force(true);
          }
        }
      }
    }
    fsyncDirectory(dir);
  }

  /** Best effort: makes a rename durable where the platform allows opening a directory. */
  private static void fsyncDirectory(Path dir) {
    try (FileChannel c = FileChannel.open(dir, StandardOpenOption.READ)) {
      c.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      // Not supported on every platform/filesystem; the rename itself has happened.
    }
  }

  /** Lets writers close the stream without closing the channel before it is fsynced. */
  private static final class NonClosingOutputStream extends FilterOutputStream {
    NonClosingOutputStream(OutputStream out) {
      super(out);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
    }

    @Override
    public void close() throws IOException {
      flush();
    }
  }
}
