package org.dtmspark.jobs.pretrain;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dtmspark.core.config.ConfigError;
import org.dtmspark.core.nn.Tensors;
import org.dtmspark.core.train.GradientReducer;
import org.dtmspark.sync.Ranks;
import org.dtmspark.sync.RingAllReduce;
import org.dtmspark.sync.SyncOptions;
import org.junit.jupiter.api.Test;

class AllReduceGradientReducerTest {
  private static final byte[] SECRET = RingAllReduce.newSecret();

  /** Runs {@code work} on two ranks, each with its reducer over a loopback ring. */
  private static <T> List<Ranks.Outcome<T>> twoRanks(Work<T> work) throws Exception {
    List<RingAllReduce.Endpoint> endpoints = Ranks.endpoints(2);
    List<String> addresses = Ranks.addresses(endpoints);
    return Ranks.run(
        2,
        rank -> {
          try (RingAllReduce ring =
              endpoints
                  .get(rank)
                  .connect(rank, addresses, SECRET, "test", SyncOptions.defaults())) {
            return work.run(rank, new AllReduceGradientReducer(ring));
          }
        });
  }

  private interface Work<T> {
    T run(int rank, AllReduceGradientReducer reducer) throws Exception;
  }

  @Test
  void gradientsAndLossAreAveragedByParameterNameWhateverTheMapOrder() throws Exception {
    List<Ranks.Outcome<float[]>> outcomes =
        twoRanks(
            (rank, reducer) -> {
              try (NDManager m = NDManager.newBaseManager()) {
                float s = rank + 1; // rank 0: 1, rank 1: 2
                Map<String, NDArray> grads = new LinkedHashMap<>();
                NDArray a = Tensors.fromHost(m, new float[] {s, 2 * s}, new Shape(2));
                NDArray b = Tensors.fromHost(m, new float[] {10 * s, 0, -s}, new Shape(3, 1));
                // The ranks list their gradients in different orders.
                if (rank == 0) {
                  grads.put("a", a);
                  grads.put("b", b);
                } else {
                  grads.put("b", b);
                  grads.put("a", a);
                }
                Map<String, Shape> shapes = new LinkedHashMap<>();
                grads.forEach((k, v) -> shapes.put(k, v.getShape()));
                reducer.prepare(shapes);
                GradientReducer.Reduced r = reducer.reduce(grads, 4.0 * s);
                float[] ga = r.gradients().get("a").toFloatArray();
                float[] gb = r.gradients().get("b").toFloatArray();
                assertThat(r.gradients().get("b").getShape()).isEqualTo(new Shape(3, 1));
                return new float[] {
                  ga[0], ga[1], gb[0], gb[1], gb[2], (float) r.loss(), (float) r.seconds()
                };
              }
            });
    for (Ranks.Outcome<float[]> o : outcomes) {
      float[] v = o.get();
      assertThat(v).startsWith(1.5f, 3f, 15f, 0f, -1.5f, 6f);
      assertThat(v[6]).isGreaterThan(0f);
    }
  }

  @Test
  void ranksWithDifferentParametersAreReportedBeforeTheFirstStep() throws Exception {
    List<Ranks.Outcome<Void>> outcomes =
        twoRanks(
            (rank, reducer) -> {
              Map<String, Shape> shapes = new LinkedHashMap<>();
              shapes.put("blocks.0.attn.qkv.weight", new Shape(72, 24));
              shapes.put("lm_head.weight", new Shape(rank == 0 ? 512 : 768, 24));
              reducer.prepare(shapes);
              return null;
            });
    assertThat(outcomes.get(0).error())
        .isInstanceOf(ConfigError.class)
        .hasMessage(
            "Rank 1 trains parameter lm_head.weight (768, 24) where rank 0 has lm_head.weight"
                + " (512, 24): every rank must train the same parameters (model config and code)");
    assertThat(outcomes.get(1).error())
        .isInstanceOf(ConfigError.class)
        .hasMessageContaining("Rank 0 trains parameter lm_head.weight (512, 24)");
  }
}
