package org.dtmspark.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OpProfileTest {
  @TempDir Path dir;

  @Test
  void countsEachCallIntoLibtorchOnceWhateverItRunsInside() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray a = m.ones(new Shape(64, 64));
      NDArray b = m.ones(new Shape(64, 64));
      OpProfile.Counts c =
          OpProfile.count(
              () -> {
                for (int i = 0; i < 3; i++) {
                  a.addi(b);
                }
                a.matMul(b).close(); // one call, several nested operators
              },
              dir.resolve("trace.json"));
      assertThat(c.byName()).containsEntry("aten::add_", 3L);
      assertThat(c.byName()).containsKey("aten::matmul");
      assertThat(c.ops()).isEqualTo(4);
    }
  }
}
