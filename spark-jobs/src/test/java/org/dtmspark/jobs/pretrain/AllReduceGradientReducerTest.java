package org.dtmspark.jobs.pretrain;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dtmspark.core.config.ConfigError;
import org.dtmspark.core.nn.Parameters;
import org.dtmspark.core.nn.Tensors;
import org.dtmspark.core.optim.AdamW;
import org.dtmspark.core.optim.AdamWConfig;
import org.dtmspark.core.optim.FlatParameters;
import org.dtmspark.core.optim.ParameterGroups;
import org.dtmspark.core.precision.LossScaler;
import org.dtmspark.core.train.GradientReducer;
import org.dtmspark.core.train.GradientUpdate;
import org.dtmspark.sync.Ranks;
import org.dtmspark.sync.RingAllReduce;
import org.dtmspark.sync.SyncOptions;
import org.junit.jupiter.api.Test;

class AllReduceGradientReducerTest {
  private static final byte[] SECRET = RingAllReduce.newSecret();
  private static final Object COLLECTOR = new Object();

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
  void theFlatGradientAndTheLossAreAveragedInPlace() throws Exception {
    List<Ranks.Outcome<float[]>> outcomes =
        twoRanks(
            (rank, reducer) -> {
              try (NDManager m = NDManager.newBaseManager()) {
                float s = rank + 1; // rank 0: 1, rank 1: 2
                // a [2] then b [3, 1], flattened in name order
                NDArray flat =
                    Tensors.fromHost(m, new float[] {s, 2 * s, 10 * s, 0, -s}, new Shape(5));
                Map<String, Shape> shapes = new LinkedHashMap<>();
                shapes.put("a", new Shape(2));
                shapes.put("b", new Shape(3, 1));
                reducer.prepare(shapes);
                GradientReducer.Reduced r = reducer.reduce(flat, 4.0 * s);
                float[] g = flat.toFloatArray();
                return new float[] {
                  g[0], g[1], g[2], g[3], g[4], (float) r.loss(), (float) r.seconds()
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
  void anInfiniteGradientOnOneRankSkipsTheStepOnEveryRank() throws Exception {
    List<Ranks.Outcome<double[]>> outcomes =
        twoRanks(
            (rank, reducer) -> {
              try (NDManager m = NDManager.newBaseManager();
                  Parameters p = Parameters.create(m)) {
                p.put("w", m.create(new float[] {1f, 2f}));
                try (FlatParameters flat = FlatParameters.of(p);
                    AdamW adamW =
                        new AdamW(AdamWConfig.PRETRAIN, ParameterGroups.of(p, 1, 1.0), flat);
                    GradientUpdate update =
                        new GradientUpdate(
                            flat, adamW, new LossScaler(true, 1024, 2000), 3.0, reducer)) {
                  reducer.prepare(flat.shapes());
                  double[] out = new double[4];
                  for (int step = 0; step < 2; step++) {
                    // Step 0: rank 1's loss overflows; step 1: both finite.
                    float factor = step == 0 && rank == 1 ? Float.POSITIVE_INFINITY : 1f;
                    double loss;
                    // DJL allows one gradient collector per JVM at a time; the ranks take turns.
                    synchronized (COLLECTOR) {
                      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        flat.bindViews();
                        NDArray value = p.get("w").square().sum().mul(factor);
                        gc.backward(value.mul(update.lossFactor(1)));
                        loss = value.getFloat();
                      }
                    }
                    GradientUpdate.Result r = update.apply(loss, 1e-3, "test");
                    out[2 * step] = r.skipped() ? 1 : 0;
                    out[2 * step + 1] = update.scaler().scale();
                  }
                  return out;
                }
              }
            });
    for (Ranks.Outcome<double[]> o : outcomes) {
      // skipped at 1024 -> 512, then applied at 512
      assertThat(o.get()).containsExactly(1, 512, 0, 512);
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
