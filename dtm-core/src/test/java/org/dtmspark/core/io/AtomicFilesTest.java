package org.dtmspark.core.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
  @TempDir Path tmp;

  private List<String> names(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void writesTheContentAndLeavesNoTemporaryFile() throws IOException {
    Path target = tmp.resolve("sub/out.txt");
    AtomicFiles.writeAtomically(target, out -> out.write("hello".getBytes(StandardCharsets.UTF_8)));
    assertThat(target).hasContent("hello");
    assertThat(names(target.getParent())).containsExactly("out.txt");
  }

  @Test
  void replacesAnExistingFile() throws IOException {
    Path target = tmp.resolve("out.txt");
    Files.writeString(target, "old");
    AtomicFiles.writeAtomically(target, out -> out.write("new".getBytes(StandardCharsets.UTF_8)));
    assertThat(target).hasContent("new");
    assertThat(names(tmp)).containsExactly("out.txt");
  }

  @Test
  void failedWriteKeepsTheOldFileAndRemovesTheTemporaryOne() throws IOException {
    Path target = tmp.resolve("out.txt");
    Files.writeString(target, "old");
    assertThatThrownBy(
            () ->
                AtomicFiles.writeAtomically(
                    target,
                    out -> {
                      out.write("partial".getBytes(StandardCharsets.UTF_8));
                      throw new IOException("disk on fire");
                    }))
        .hasMessage("disk on fire");
    assertThat(target).hasContent("old");
    assertThat(names(tmp)).containsExactly("out.txt");
  }

  @Test
  void writerMayCloseTheStream() throws IOException {
    Path target = tmp.resolve("closed.txt");
    AtomicFiles.writeAtomically(
        target,
        out -> {
          out.write('x');
          out.close();
        });
    assertThat(target).hasContent("x");
  }

  @Test
  void publishesANewDirectory() throws IOException {
    Path staging = AtomicFiles.createSiblingTempDirectory(tmp.resolve("ckpt"));
    assertThat(staging.getFileName().toString()).startsWith(".ckpt.tmp-");
    Files.writeString(staging.resolve("a.txt"), "A");
    AtomicFiles.publishDirectory(staging, tmp.resolve("ckpt"));
    assertThat(tmp.resolve("ckpt/a.txt")).hasContent("A");
    assertThat(names(tmp)).containsExactly("ckpt");
  }

  @Test
  void publishingReplacesTheWholeOldDirectory() throws IOException {
    Path target = tmp.resolve("ckpt");
    Files.createDirectories(target.resolve("nested"));
    Files.writeString(target.resolve("old.txt"), "old");
    Files.writeString(target.resolve("nested/deep.txt"), "deep");
    Path staging = AtomicFiles.createSiblingTempDirectory(target);
    Files.writeString(staging.resolve("new.txt"), "new");

    AtomicFiles.publishDirectory(staging, target);

    assertThat(names(target)).containsExactly("new.txt");
    assertThat(names(tmp)).containsExactly("ckpt");
  }

  @Test
  void publishingRequiresASiblingDirectory() throws IOException {
    Path elsewhere = Files.createDirectories(tmp.resolve("a/b"));
    assertThatThrownBy(() -> AtomicFiles.publishDirectory(elsewhere, tmp.resolve("ckpt")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Directory to publish must be a sibling of its target");
    assertThatThrownBy(() -> AtomicFiles.publishDirectory(tmp.resolve("none"), tmp.resolve("x")))
        .isInstanceOf(IOException.class)
        .hasMessageStartingWith("Directory to publish does not exist");
  }

  @Test
  void deleteRecursivelyRemovesATreeAndIgnoresAbsentPaths() throws IOException {
    Path root = tmp.resolve("r");
    Files.createDirectories(root.resolve("x/y"));
    Files.writeString(root.resolve("x/y/z.txt"), "z");
    AtomicFiles.deleteRecursively(root);
    assertThat(root).doesNotExist();
    AtomicFiles.deleteRecursively(root);
  }
}
