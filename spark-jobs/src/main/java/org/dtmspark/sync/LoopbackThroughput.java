package org.dtmspark.sync;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The bound a ring all-reduce on this machine's loopback can reach: {@code R} ranks (threads of
 * this JVM) in a ring of plain TCP connections, each sending a given number of bytes to the next
 * rank while it receives as many from the previous one, with nothing else to do (no framing, no
 * arithmetic, no copies out of the socket buffers). Its bus bandwidth, bytes per rank over the
 * time, is what an all-reduce's bus bandwidth is compared with.
 */
public final class LoopbackThroughput {
  private static final int CHUNK_BYTES = 4 << 20;

  private LoopbackThroughput() {}

  /**
   * Seconds of each timed transfer, first rank's start to last rank's end.
   *
   * @param ranks ring size, at least 2
   * @param bytesPerRank bytes each rank sends (and receives)
   */
  public static List<Double> ringTransferSeconds(
      int ranks, long bytesPerRank, int warmup, int repeats) throws InterruptedException {
    if (ranks < 2) {
      throw new IllegalArgumentException("A ring needs at least 2 ranks, cannot be: " + ranks);
    }
    if (bytesPerRank < 1 || repeats < 1 || warmup < 0) {
      throw new IllegalArgumentException(
          "Bytes, repeats and warm-up must be positive, cannot be: "
              + bytesPerRank
              + ", "
              + repeats
              + ", "
              + warmup);
    }
    List<SocketChannel> out = new ArrayList<>();
    List<SocketChannel> in = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(2 * ranks);
    try {
      connect(ranks, out, in);
      List<Double> seconds = new ArrayList<>();
      for (int rep = 0; rep < warmup + repeats; rep++) {
        CyclicBarrier start = new CyclicBarrier(2 * ranks);
        List<Future<long[]>> done = new ArrayList<>();
        for (int r = 0; r < ranks; r++) {
          done.add(pool.submit(new Send(out.get(r), bytesPerRank, start)));
          done.add(pool.submit(new Receive(in.get(r), bytesPerRank, start)));
        }
        long first = Long.MAX_VALUE;
        long last = Long.MIN_VALUE;
        for (Future<long[]> f : done) {
          long[] t = get(f);
          first = Math.min(first, t[0]);
          last = Math.max(last, t[1]);
        }
        if (rep >= warmup) {
          seconds.add((last - first) / 1e9);
        }
      }
      return seconds;
    } finally {
      pool.shutdownNow();
      for (SocketChannel c : out) {
        close(c);
      }
      for (SocketChannel c : in) {
        close(c);
      }
    }
  }

  /**
   * {@code out.get(r)} sends to rank {@code r + 1}, {@code in.get(r)} receives from {@code r - 1}.
   */
  private static void connect(int ranks, List<SocketChannel> out, List<SocketChannel> in) {
    List<ServerSocketChannel> servers = new ArrayList<>();
    try {
      for (int r = 0; r < ranks; r++) {
        ServerSocketChannel server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress("127.0.0.1", 0));
        servers.add(server);
        in.add(null);
      }
      for (int r = 0; r < ranks; r++) {
        SocketChannel c = SocketChannel.open(servers.get((r + 1) % ranks).getLocalAddress());
        c.setOption(StandardSocketOptions.TCP_NODELAY, true);
        out.add(c);
        SocketChannel accepted = servers.get((r + 1) % ranks).accept();
        in.set((r + 1) % ranks, accepted);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot connect the loopback ring: " + e, e);
    } finally {
      servers.forEach(LoopbackThroughput::close);
    }
  }

  private record Send(SocketChannel channel, long bytes, CyclicBarrier start)
      implements Callable<long[]> {
    @Override
    public long[] call() throws Exception {
      ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK_BYTES);
      start.await();
      long t0 = System.nanoTime();
      long left = bytes;
      while (left > 0) {
        chunk.clear().limit((int) Math.min(CHUNK_BYTES, left));
        while (chunk.hasRemaining()) {
          left -= channel.write(chunk);
        }
      }
      return new long[] {t0, System.nanoTime()};
    }
  }

  private record Receive(SocketChannel channel, long bytes, CyclicBarrier start)
      implements Callable<long[]> {
    @Override
    public long[] call() throws Exception {
      ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK_BYTES);
      start.await();
      long t0 = System.nanoTime();
      long left = bytes;
      while (left > 0) {
        chunk.clear().limit((int) Math.min(CHUNK_BYTES, left));
        int n = channel.read(chunk);
        if (n < 0) {
          throw new IOException("loopback peer closed with " + left + " bytes to go");
        }
        left -= n;
      }
      return new long[] {t0, System.nanoTime()};
    }
  }

  private static long[] get(Future<long[]> f) throws InterruptedException {
    try {
      return f.get();
    } catch (ExecutionException e) {
      throw new IllegalStateException("Loopback transfer failed: " + e.getCause(), e.getCause());
    }
  }

  private static void close(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      // closing after the measurement: nothing to report
    }
  }
}
