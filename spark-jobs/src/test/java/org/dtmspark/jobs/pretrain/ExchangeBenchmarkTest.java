package org.dtmspark.jobs.pretrain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ExchangeBenchmarkTest {
  @Test
  void everyPathIsTimedBesideThePlainSocketRingOnTheModelsGradient() throws Exception {
    ExchangeBenchmark.Plan plan =
        new ExchangeBenchmark.Plan(
            "tiny", 2, 1 << 20, List.of("per-parameter", "direct", "staged"), 0, 2);
    ExchangeBenchmark.Result result = ExchangeBenchmark.run(plan);
    assertThat(result.parameters()).isGreaterThan(40);
    assertThat(result.numel()).isGreaterThan(1_000_000);
    assertThat(result.socketSeconds()).hasSize(4).allMatch(s -> s > 0);
    assertThat(result.rows())
        .extracting(ExchangeBenchmark.Row::path)
        .containsExactly("per-parameter", "direct", "staged");
    for (ExchangeBenchmark.Row row : result.rows()) {
      assertThat(row.seconds()).hasSize(2).allMatch(s -> s > 0);
    }
    // The issue-5 exchange copies the gradient into new heap arrays twice per step.
    long gradientBytes = 4 * result.numel();
    assertThat(result.rows().get(0).medianAllocatedBytes()).isGreaterThan(gradientBytes);
    assertThat(result.rows().get(1).medianAllocatedBytes()).isLessThan(gradientBytes / 16);
    assertThat(ExchangeBenchmark.markdown(result))
        .anyMatch(l -> l.startsWith("| direct |"))
        .anyMatch(l -> l.startsWith("plain socket ring"));
  }

  @Test
  void anUnknownPathIsRejectedNamingIt() {
    assertThatThrownBy(() -> new ExchangeBenchmark.Plan("tiny", 2, 1 << 20, List.of("nccl"), 0, 1))
        .hasMessage("Exchange path must be per-parameter, direct or staged, cannot be: nccl");
  }
}
