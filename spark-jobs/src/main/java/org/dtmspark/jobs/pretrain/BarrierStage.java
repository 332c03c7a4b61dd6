package org.dtmspark.jobs.pretrain;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.rdd.RDD;
import scala.collection.Iterator;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;

/**
 * Runs one function per rank as a Spark barrier stage: all {@code ranks} tasks start together or
 * not at all, and when one fails Spark stops the others.
 *
 * <p>Spark's Java API has no {@code barrier()}; this class is the one place that reaches into the
 * Scala RDD API for it (a Scala {@code Function1} and a {@code ClassTag}), using only types that
 * Scala 2.12 and 2.13 share.
 */
final class BarrierStage {
  private BarrierStage() {}

  /** What every barrier task runs; rank = the task's partition id. */
  interface RankFunction<R extends Serializable> extends Serializable {
    R run(BarrierTaskContext context) throws Exception;
  }

  /** Runs {@code function} on {@code ranks} barrier tasks and returns the results by rank. */
  static <R extends Serializable> List<R> run(
      JavaSparkContext sc, int ranks, RankFunction<R> function, Class<R> resultType) {
    RDD<Integer> seeds = sc.parallelize(IntStream.range(0, ranks).boxed().toList(), ranks).rdd();
    ClassTag<R> tag = ClassTag$.MODULE$.apply(resultType);
    RDD<R> results = seeds.barrier().mapPartitions(new Task<>(function), false, tag);
    List<R> out = new ArrayList<>(results.toJavaRDD().collect());
    return out;
  }

  private static final class Task<R extends Serializable>
      extends AbstractFunction1<Iterator<Integer>, Iterator<R>> implements Serializable {
    private static final long serialVersionUID = 1L;
    private final RankFunction<R> function;

    Task(RankFunction<R> function) {
      this.function = function;
    }

    @Override
    public Iterator<R> apply(Iterator<Integer> ignored) {
      try {
        return scala.collection.Iterator$.MODULE$.single(function.run(BarrierTaskContext.get()));
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException(e.getMessage(), e);
      }
    }
  }
}
