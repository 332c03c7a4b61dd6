package org.dtmspark.core.morph;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Rough timing of one morphing level at the paper's size ({@code [64, 196, 512]}, {@code r = 7},
 * {@code k = 14}). Not a correctness test and asserts no timing; run it with {@code
 * -Ddtm.bench=true}.
 */
@EnabledIfSystemProperty(named = "dtm.bench", matches = "true")
class MorphBenchmarkTest {
  @Test
  void timesOneLevelAtPaperSize() {
    MorphLevel level = new MorphLevel(7, 14);
    try (NDManager manager = NDManager.newBaseManager()) {
      manager.getEngine().setRandomSeed(1);
      NDArray targets = manager.randomNormal(new Shape(64, 196, 512));
      NDArray online = manager.randomNormal(new Shape(64, 196, 512));
      DtmLoss loss = new DtmLoss(DtmLossConfig.DEFAULT);
      MorphSchedule schedule = new MorphSchedule(List.of(level));
      for (int i = 0; i < 2; i++) {
        try (Morphing m = BipartiteMorpher.morph(targets, level, true)) {
          assertThat(m.numClusters()).isEqualTo(196 - 7 * 14);
        }
        loss.compute(online, targets, schedule).close();
      }
      int runs = 5;
      long start = System.nanoTime();
      for (int i = 0; i < runs; i++) {
        try (Morphing m = BipartiteMorpher.morph(targets, level, true)) {
          m.sizes().toFloatArray();
        }
      }
      double morphMs = (System.nanoTime() - start) / 1e6 / runs;
      start = System.nanoTime();
      for (int i = 0; i < runs; i++) {
        loss.compute(online, targets, schedule).close();
      }
      double lossMs = (System.nanoTime() - start) / 1e6 / runs;
      System.out.printf(
          "morph [64,196,512] r=7 k=14: %.1f ms per level; DTM loss, one level: %.1f ms%n",
          morphMs, lossMs);
    }
  }
}
