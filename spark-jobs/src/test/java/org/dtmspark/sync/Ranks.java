package org.dtmspark.sync;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Runs one task per rank, each on its own thread, as the ranks of a job would. */
public final class Ranks {
  /** What one rank's task returned or threw. */
  public record Outcome<T>(T value, Throwable error) {
    public T get() {
      assertThat(error).as("rank failed").isNull();
      return value;
    }
  }

  /** One rank's work. */
  public interface Task<T> {
    T run(int rank) throws Exception;
  }

  /** Guard against hangs: a rank still running after this long fails the test. */
  private static final long GUARD_SECONDS = 120;

  private Ranks() {}

  /** Runs {@code task} for ranks {@code 0 .. n-1} at once and returns every outcome. */
  public static <T> List<Outcome<T>> run(int n, Task<T> task) throws InterruptedException {
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      List<Future<T>> futures = new ArrayList<>();
      for (int r = 0; r < n; r++) {
        int rank = r;
        futures.add(pool.submit((Callable<T>) () -> task.run(rank)));
      }
      List<Outcome<T>> outcomes = new ArrayList<>();
      for (int r = 0; r < n; r++) {
        try {
          outcomes.add(new Outcome<>(futures.get(r).get(GUARD_SECONDS, TimeUnit.SECONDS), null));
        } catch (ExecutionException e) {
          outcomes.add(new Outcome<>(null, e.getCause()));
        } catch (TimeoutException e) {
          throw new AssertionError("rank " + r + " still running after " + GUARD_SECONDS + " s");
        }
      }
      return outcomes;
    } finally {
      pool.shutdownNow();
    }
  }

  /** Values of every rank, failing the test if any rank failed. */
  public static <T> List<T> values(List<Outcome<T>> outcomes) {
    List<T> values = new ArrayList<>();
    for (Outcome<T> o : outcomes) {
      values.add(o.get());
    }
    return values;
  }

  /** Endpoints on loopback for {@code n} ranks. */
  public static List<RingAllReduce.Endpoint> endpoints(int n) {
    List<RingAllReduce.Endpoint> endpoints = new ArrayList<>();
    for (int r = 0; r < n; r++) {
      endpoints.add(RingAllReduce.listen("127.0.0.1"));
    }
    return endpoints;
  }

  public static List<String> addresses(List<RingAllReduce.Endpoint> endpoints) {
    return endpoints.stream().map(RingAllReduce.Endpoint::address).toList();
  }

  /** A connected ring of {@code n} ranks with one secret and one fingerprint. */
  static List<RingAllReduce> ring(int n, SyncOptions options) throws InterruptedException {
    List<RingAllReduce.Endpoint> endpoints = endpoints(n);
    List<String> addresses = addresses(endpoints);
    byte[] secret = RingAllReduce.newSecret();
    return values(
        run(
            n,
            rank -> endpoints.get(rank).connect(rank, addresses, secret, "test-model", options)));
  }

  static void closeAll(List<? extends AutoCloseable> all) throws Exception {
    for (AutoCloseable c : all) {
      c.close();
    }
  }
}
