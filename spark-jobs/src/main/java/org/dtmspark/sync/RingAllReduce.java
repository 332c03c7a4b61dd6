package org.dtmspark.sync;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.dtmspark.sync.Handshake.Identity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Host-memory ring all-reduce over TCP: reduce-scatter then all-gather around a ring in which rank
 * {@code r} sends to rank {@code r + 1} and receives from rank {@code r - 1}, buffers cut into
 * pipelined buckets ({@link RingPlan}), fp32 or fp16 on the wire ({@link Wire}).
 *
 * <p>Setting up a ring takes two calls on every rank:
 *
 * <pre>{@code
 * try (RingAllReduce.Endpoint endpoint = RingAllReduce.listen(host)) {
 *   String mine = endpoint.address();             // publish, e.g. BarrierTaskContext.allGather
 *   List<String> addresses = ...;                 // every rank's address, indexed by rank
 *   try (AllReduce ring = endpoint.connect(rank, addresses, secret, fingerprint, options)) {
 *     ring.sumInPlace(gradients);                 // every step
 *   }
 * }
 * }</pre>
 *
 * <p>{@code connect} accepts the previous rank on the endpoint and connects to the next rank at the
 * same time; both connections are authenticated with the job secret in both directions; then a roll
 * call around the ring checks that every rank has the same world size, model fingerprint, bucket
 * size and wire, and fails on every rank with the same message otherwise. A connection that fails
 * authentication is closed and logged (WARN, with the remote address) and the endpoint keeps
 * waiting for the right peer until the connect timeout.
 *
 * <p>The buffer is a {@code float[]} or a {@link FloatBuffer}; a direct buffer may be the memory of
 * a tensor, summed where it lies. With a {@link Filling} the ring sends and adds each bucket only
 * once the producer has put this rank's values of it in the buffer, so that filling the buffer
 * (downloads from a GPU) overlaps the transfer of the buckets before.
 *
 * <p>Results are bit-identical on every rank: each segment's sum is computed by one rank (its
 * owner) and copied by the others. With {@link Wire#FP16} the owner replaces its sum by the rounded
 * value it sends, so it holds what the others receive.
 *
 * <p>One thread per rank does all the work: both channels are non-blocking and served by one
 * selector, so sending to the next rank and receiving from the previous one proceed together and no
 * rank blocks on a full socket buffer while its neighbour waits for it. Every wait is bounded by
 * the connect or operation timeout; a timeout, a closed connection or a disagreement between ranks
 * ends the operation with an exception that names the ranks, and closes this instance.
 *
 * <p>Not thread-safe (see {@link AllReduce}); {@link #close()} may be called from any thread and
 * then fails an operation in progress.
 */
public final class RingAllReduce implements AllReduce {
  private static final Logger LOG = LoggerFactory.getLogger(RingAllReduce.class);

  /** Bytes of every operation frame header: kind, operation number, tag, payload bytes. */
  static final int HEADER_BYTES = 16;

  static final int KIND_SUM_FP32 = 1;
  static final int KIND_SUM_FP16 = 2;
  static final int KIND_GATHER = 3;

  /** Largest payload of {@link #allGather}. */
  public static final int MAX_GATHER_BYTES = 64 << 20;

  /** Minimum length of a job secret. */
  public static final int MIN_SECRET_BYTES = 16;

  /** Longest time the endpoint spends on one incoming handshake before it drops the peer. */
  private static final long HANDSHAKE_LIMIT_NANOS = TimeUnit.SECONDS.toNanos(10);

  private final int rank;
  private final int worldSize;
  private final SyncOptions options;
  private final Link previous;
  private final Link next;
  private final Selector selector;
  private final SelectionKey readKey;
  private final SelectionKey writeKey;
  private final ByteBuffer outHeader;
  private final ByteBuffer inHeader;
  private final ByteBuffer sendBuffer;
  private final ByteBuffer receiveBuffer;
  private final float[] floats;
  private final float[] values;
  private final short[] halves;
  private int operation;
  private volatile String closedBecause;

  /** One ring connection: the channel and the rank and address at its other end. */
  private record Link(SocketChannel channel, int rank, String address) {}

  private RingAllReduce(int rank, int worldSize, SyncOptions options, Link previous, Link next)
      throws IOException {
    this.rank = rank;
    this.worldSize = worldSize;
    this.options = options;
    this.previous = previous;
    this.next = next;
    if (worldSize == 1) {
      selector = null;
      readKey = null;
      writeKey = null;
      outHeader = null;
      inHeader = null;
      sendBuffer = null;
      receiveBuffer = null;
      floats = null;
      values = null;
      halves = null;
      return;
    }
    selector = Selector.open();
    try {
      readKey = previous.channel().register(selector, 0);
      writeKey = next.channel().register(selector, 0);
    } catch (IOException | RuntimeException e) {
      selector.close();
      throw e;
    }
    int segment = RingPlan.maxSegmentElements(worldSize, options.bucketElements());
    outHeader = ByteBuffer.allocateDirect(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    inHeader = ByteBuffer.allocateDirect(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    int bytes = segment * options.wire().bytes();
    sendBuffer = ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
    receiveBuffer = ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
    floats = options.wire() == Wire.FP32 ? new float[segment] : null;
    values = new float[segment];
    halves = options.wire() == Wire.FP16 ? new short[segment] : null;
  }

  /**
   * Opens this rank's endpoint: a listening socket on {@code host} (an address or name of this
   * machine that the other ranks can reach; {@code 0.0.0.0} listens everywhere but is no address to
   * publish) and an ephemeral port.
   */
  public static Endpoint listen(String host) {
    Objects.requireNonNull(host, "host");
    ServerSocketChannel server = null;
    try {
      server = ServerSocketChannel.open();
      server.bind(new InetSocketAddress(host, 0), 64);
      int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
      String address = host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
      return new Endpoint(server, address);
    } catch (IOException e) {
      closeQuietly(server);
      throw new UncheckedIOException("Cannot listen for ring peers on " + host + ": " + e, e);
    }
  }

  /** A fresh per-job secret: 32 bytes from a {@link java.security.SecureRandom}. */
  public static byte[] newSecret() {
    return Handshake.newSecret();
  }

  /**
   * A rank's listening socket, opened before the ranks exchange addresses. {@link #connect} uses it
   * once and closes it; closing an unused endpoint releases the port.
   */
  public static final class Endpoint implements AutoCloseable {
    private final ServerSocketChannel server;
    private final String address;
    private boolean used;

    private Endpoint(ServerSocketChannel server, String address) {
      this.server = server;
      this.address = address;
    }

    /** {@code host:port} to publish to the other ranks ({@code [v6]:port} for IPv6 literals). */
    public String address() {
      return address;
    }

    /**
     * Builds the ring: accepts rank {@code rank - 1} here while connecting to rank {@code rank +
     * 1}, authenticates both, then checks with every rank that all agree. Returns once this rank is
     * connected both ways; the first operation waits for the rest of the ring.
     *
     * @param rank this rank, {@code 0 <= rank < addresses.size()}
     * @param addresses every rank's {@link #address()}, indexed by rank; the world size is its size
     * @param secret the per-job secret ({@link #newSecret()}), at least 16 bytes, same on every
     *     rank
     * @param fingerprint what every rank must agree on, e.g. the model config and a hash of the
     *     sorted parameter names and shapes (at most 4096 UTF-8 bytes)
     * @throws PeerFailureException a neighbour did not connect, authenticate or answer in time
     * @throws RingMismatchException the ranks disagree on the fingerprint, world size, protocol
     *     version, bucket size or wire; every rank that completes the roll call reports the same
     */
    public RingAllReduce connect(
        int rank, List<String> addresses, byte[] secret, String fingerprint, SyncOptions options) {
      Objects.requireNonNull(addresses, "addresses");
      Objects.requireNonNull(secret, "secret");
      Objects.requireNonNull(fingerprint, "fingerprint");
      Objects.requireNonNull(options, "options");
      int worldSize = addresses.size();
      if (worldSize == 0) {
        throw new IllegalArgumentException("Addresses must list at least one rank, cannot be: []");
      }
      if (rank < 0 || rank >= worldSize) {
        throw new IllegalArgumentException(
            "Rank must be in [0, " + worldSize + "), cannot be: " + rank);
      }
      if (secret.length < MIN_SECRET_BYTES) {
        throw new IllegalArgumentException(
            "Job secret must have at least "
                + MIN_SECRET_BYTES
                + " bytes, cannot be: "
                + secret.length
                + " bytes");
      }
      int fingerprintBytes = fingerprint.getBytes(StandardCharsets.UTF_8).length;
      if (fingerprintBytes > Handshake.MAX_FINGERPRINT_BYTES) {
        throw new IllegalArgumentException(
            "Fingerprint must have at most "
                + Handshake.MAX_FINGERPRINT_BYTES
                + " UTF-8 bytes, cannot be: "
                + fingerprintBytes
                + " bytes");
      }
      List<InetSocketAddress> sockets = new ArrayList<>();
      for (int i = 0; i < worldSize; i++) {
        sockets.add(parseAddress(i, addresses.get(i)));
      }
      synchronized (this) {
        if (used) {
          throw new IllegalStateException(
              "This endpoint already built a ring: open a new endpoint for each ring");
        }
        used = true;
      }
      try {
        return RingAllReduce.connect(
            server, rank, addresses, sockets, secret.clone(), fingerprint, options);
      } finally {
        closeQuietly(server);
      }
    }

    @Override
    public void close() {
      closeQuietly(server);
    }
  }

  private static RingAllReduce connect(
      ServerSocketChannel server,
      int rank,
      List<String> addresses,
      List<InetSocketAddress> sockets,
      byte[] secret,
      String fingerprint,
      SyncOptions options) {
    int worldSize = addresses.size();
    try {
      if (worldSize == 1) {
        return new RingAllReduce(rank, 1, options, null, null);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    long start = System.nanoTime();
    long deadline = start + options.connectTimeout().toNanos();
    Identity self = new Identity(rank, worldSize, fingerprint);
    int previousRank = Math.floorMod(rank - 1, worldSize);
    int nextRank = (rank + 1) % worldSize;
    String listening = addresses.get(rank);
    ExecutorService pool = Executors.newFixedThreadPool(2, new Threads(rank));
    ExecutorCompletionService<Link> done = new ExecutorCompletionService<>(pool);
    Future<Link> accepted =
        done.submit(
            () -> acceptPrevious(server, listening, secret, self, previousRank, options, deadline));
    Future<Link> connected =
        done.submit(
            () ->
                connectNext(
                    sockets.get(nextRank),
                    addresses.get(nextRank),
                    secret,
                    self,
                    nextRank,
                    options,
                    deadline));
    Throwable failure = null;
    try {
      for (int i = 0; i < 2 && failure == null; i++) {
        try {
          done.take().get();
        } catch (ExecutionException e) {
          failure = e.getCause();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      failure =
          new PeerFailureException(
              "Rank " + rank + " was interrupted while connecting", List.of(), e);
    } finally {
      pool.shutdownNow();
      awaitTermination(pool);
    }
    Link previous = finished(accepted);
    Link next = finished(connected);
    if (failure != null) {
      closeQuietly(previous == null ? null : previous.channel());
      closeQuietly(next == null ? null : next.channel());
      RuntimeException e = asRuntime(failure);
      LOG.warn("Rank {} of {} could not join the ring: {}", rank, worldSize, e.getMessage());
      throw e;
    }
    RingAllReduce ring;
    try {
      ring = new RingAllReduce(rank, worldSize, options, previous, next);
    } catch (IOException e) {
      closeQuietly(previous.channel());
      closeQuietly(next.channel());
      throw new UncheckedIOException(e);
    }
    ring.rollCall(fingerprint, deadline);
    LOG.info(
        "Rank {} of {} joined the ring in {} ms: receives from rank {} ({}), sends to rank {} ({});"
            + " {} wire, {} buckets",
        rank,
        worldSize,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start),
        previousRank,
        previous.address(),
        nextRank,
        next.address(),
        options.wire().label(),
        bytes(options.bucketBytes()));
    return ring;
  }

  /** Accepts connections until the previous rank authenticates; drops and logs the others. */
  private static Link acceptPrevious(
      ServerSocketChannel server,
      String listening,
      byte[] secret,
      Identity self,
      int previousRank,
      SyncOptions options,
      long deadline)
      throws IOException {
    List<String> refused = new ArrayList<>();
    server.configureBlocking(false);
    try (Selector selector = Selector.open()) {
      server.register(selector, SelectionKey.OP_ACCEPT);
      while (true) {
        SocketChannel channel = server.accept();
        if (channel == null) {
          long remaining = deadline - System.nanoTime();
          if (remaining <= 0) {
            throw new PeerFailureException(
                String.format(
                    "Rank %d of %d timed out after %s waiting for rank %d to connect to %s%s",
                    self.rank(),
                    self.worldSize(),
                    seconds(options.connectTimeout()),
                    previousRank,
                    listening,
                    refused.isEmpty()
                        ? ""
                        : "; refused "
                            + refused.size()
                            + " connection(s): "
                            + String.join("; ", refused)),
                List.of(previousRank));
          }
          selector.select(millis(remaining));
          selector.selectedKeys().clear();
          if (Thread.currentThread().isInterrupted()) {
            throw new InterruptedIOException("interrupted");
          }
          continue;
        }
        String remote = remoteAddress(channel);
        boolean keep = false;
        try {
          configure(channel);
          long limit = Math.min(deadline, System.nanoTime() + HANDSHAKE_LIMIT_NANOS);
          Identity peer = Handshake.asServer(channel, secret, self, limit);
          checkNeighbour(self, peer, previousRank, "previous", remote);
          keep = true;
          return new Link(channel, previousRank, remote);
        } catch (Handshake.Refused e) {
          LOG.warn("Rank {} refused a connection from {}: {}", self.rank(), remote, e.getMessage());
          refused.add(remote + " (" + e.getMessage() + ")");
        } finally {
          if (!keep) {
            closeQuietly(channel);
          }
        }
      }
    }
  }

  /** Connects to the next rank, retrying refused connections until the deadline. */
  private static Link connectNext(
      InetSocketAddress socket,
      String address,
      byte[] secret,
      Identity self,
      int nextRank,
      SyncOptions options,
      long deadline)
      throws IOException {
    IOException last = null;
    while (true) {
      long remaining = deadline - System.nanoTime();
      if (remaining <= 0) {
        throw new PeerFailureException(
            String.format(
                "Rank %d of %d could not connect to rank %d at %s within %s%s",
                self.rank(),
                self.worldSize(),
                nextRank,
                address,
                seconds(options.connectTimeout()),
                last == null ? "" : ": " + last.getMessage()),
            List.of(nextRank));
      }
      SocketChannel channel = SocketChannel.open();
      boolean keep = false;
      try {
        channel.configureBlocking(false);
        InetSocketAddress target =
            socket.isUnresolved()
                ? new InetSocketAddress(socket.getHostString(), socket.getPort())
                : socket;
        try (TimedChannel io = new TimedChannel(channel, deadline)) {
          if (!channel.connect(target)) {
            io.finishConnect();
          }
        }
        configure(channel);
        Identity peer = Handshake.asClient(channel, secret, self, deadline);
        checkNeighbour(self, peer, nextRank, "next", address);
        keep = true;
        return new Link(channel, nextRank, address);
      } catch (ConnectException | NoRouteToHostException e) {
        last = e;
      } catch (UnresolvedAddressException e) {
        last = new IOException("cannot resolve " + socket.getHostString());
      } catch (SocketTimeoutException e) {
        last = new IOException("no answer");
      } catch (Handshake.Refused e) {
        throw new PeerFailureException(
            String.format(
                "Rank %d of %d could not join the ring: rank %d at %s %s (connect timeout %s)",
                self.rank(),
                self.worldSize(),
                nextRank,
                address,
                e.getMessage(),
                seconds(options.connectTimeout())),
            List.of(nextRank));
      } catch (Handshake.VersionMismatch e) {
        throw new RingMismatchException(
            String.format(
                "Rank %d at %s speaks sync protocol version %d but rank %d speaks %d: every rank"
                    + " must run the same build",
                nextRank, address, e.version, self.rank(), Handshake.VERSION));
      } finally {
        if (!keep) {
          closeQuietly(channel);
        }
      }
      try {
        Thread.sleep(Math.min(100, millis(deadline - System.nanoTime())));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted");
      }
    }
  }

  private static void checkNeighbour(
      Identity self, Identity peer, int expectedRank, String role, String where) {
    if (peer.worldSize() != self.worldSize()) {
      throw new RingMismatchException(
          String.format(
              "Rank %d (%s) has world size %d but rank %d has %d: every rank must be given the"
                  + " same list of addresses",
              peer.rank(), where, peer.worldSize(), self.rank(), self.worldSize()));
    }
    if (peer.rank() != expectedRank) {
      throw new RingMismatchException(
          String.format(
              "Rank %d expected rank %d (its %s in the ring) at %s but rank %d answered: the ranks"
                  + " were given different lists of addresses",
              self.rank(), expectedRank, role, where, peer.rank()));
    }
  }

  /**
   * Every rank's world size, model fingerprint, bucket size and wire, gathered around the ring and
   * compared with rank 0's: every rank sees the same list, so every rank fails with the same
   * message.
   */
  private void rollCall(String fingerprint, long deadline) {
    byte[] fp = fingerprint.getBytes(StandardCharsets.UTF_8);
    ByteBuffer mine = ByteBuffer.allocate(16 + fp.length).order(ByteOrder.LITTLE_ENDIAN);
    mine.putInt(rank).putInt(worldSize).putInt(options.bucketBytes());
    mine.putInt(options.wire().ordinal()).put(fp);
    List<byte[]> all = gather(mine.array(), 0, deadline);
    try {
      ByteBuffer first = ByteBuffer.wrap(all.get(0)).order(ByteOrder.LITTLE_ENDIAN);
      for (int k = 1; k < worldSize; k++) {
        ByteBuffer other = ByteBuffer.wrap(all.get(k)).order(ByteOrder.LITTLE_ENDIAN);
        String mismatch = compareRollCall(first.rewind(), other, k);
        if (mismatch != null) {
          throw new RingMismatchException(mismatch);
        }
      }
    } catch (RuntimeException e) {
      fail(e);
      throw e;
    }
  }

  private static String compareRollCall(ByteBuffer first, ByteBuffer other, int k) {
    first.getInt();
    int otherRank = other.getInt();
    if (otherRank != k) {
      return "Rank " + k + "'s roll-call entry names rank " + otherRank;
    }
    int firstWorld = first.getInt();
    int otherWorld = other.getInt();
    if (firstWorld != otherWorld) {
      return String.format(
          "Rank %d has world size %d but rank 0 has %d: every rank must be given the same list of"
              + " addresses",
          k, otherWorld, firstWorld);
    }
    int firstBucket = first.getInt();
    int otherBucket = other.getInt();
    if (firstBucket != otherBucket) {
      return String.format(
          "Rank %d uses %d-byte buckets but rank 0 uses %d: every rank must use the same bucket"
              + " size",
          k, otherBucket, firstBucket);
    }
    int firstWire = first.getInt();
    int otherWire = other.getInt();
    if (firstWire != otherWire) {
      return String.format(
          "Rank %d sends %s on the wire but rank 0 sends %s: every rank must use the same wire"
              + " format",
          k, wireName(otherWire), wireName(firstWire));
    }
    String firstFingerprint = StandardCharsets.UTF_8.decode(first).toString();
    String otherFingerprint = StandardCharsets.UTF_8.decode(other).toString();
    if (!firstFingerprint.equals(otherFingerprint)) {
      return String.format(
          "Rank %d has model fingerprint '%s' but rank 0 has '%s': every rank must train the same"
              + " model",
          k, otherFingerprint, firstFingerprint);
    }
    return null;
  }

  private static String wireName(int ordinal) {
    return ordinal >= 0 && ordinal < Wire.values().length
        ? Wire.values()[ordinal].label()
        : "wire #" + ordinal;
  }

  @Override
  public int rank() {
    return rank;
  }

  @Override
  public int worldSize() {
    return worldSize;
  }

  /** The options this ring was built with. */
  public SyncOptions options() {
    return options;
  }

  @Override
  public void sumInPlace(float[] data, int offset, int length) {
    Objects.requireNonNull(data, "data");
    if (offset < 0 || length < 0 || offset > data.length - length) {
      throw new IllegalArgumentException(
          String.format(
              "Range to sum must lie within the array of %d floats, cannot be: offset %d, length"
                  + " %d",
              data.length, offset, length));
    }
    ensureOpen();
    if (worldSize == 1) {
      return;
    }
    int op = ++operation;
    RingPlan plan = new RingPlan(worldSize, rank, length, options.bucketElements());
    long deadline = deadline();
    run(
        new Sum(plan, new ArrayFloats(data, offset), Filling.FILLED, 1f, op, deadline),
        op,
        deadline);
  }

  @Override
  public void sumInPlace(ByteBuffer data, Filling filling, float scale) {
    Objects.requireNonNull(data, "data");
    Objects.requireNonNull(filling, "filling");
    if (data.isReadOnly() || data.remaining() % Float.BYTES != 0) {
      throw new IllegalArgumentException(
          "Buffer to sum must be writable and hold whole floats, cannot be: "
              + (data.isReadOnly() ? "read-only" : data.remaining() + " bytes"));
    }
    if (!Float.isFinite(scale)) {
      throw new IllegalArgumentException("Scale must be finite, cannot be: " + scale);
    }
    ensureOpen();
    long deadline = deadline();
    int length = data.remaining() / Float.BYTES;
    BufferFloats floats = new BufferFloats(data, options.wire());
    if (worldSize == 1) {
      filling.awaitFilled(length, deadline);
      if (scale != 1f) {
        floats.scale(0, length, scale, new float[Math.min(length, 1 << 16)]);
      }
      return;
    }
    int op = ++operation;
    RingPlan plan = new RingPlan(worldSize, rank, length, options.bucketElements());
    run(new Sum(plan, floats, filling, scale, op, deadline), op, deadline);
  }

  @Override
  public List<byte[]> allGather(byte[] payload) {
    Objects.requireNonNull(payload, "payload");
    if (payload.length > MAX_GATHER_BYTES) {
      throw new IllegalArgumentException(
          "All-gather payload must have at most "
              + MAX_GATHER_BYTES
              + " bytes, cannot be: "
              + payload.length);
    }
    ensureOpen();
    if (worldSize == 1) {
      return List.of(payload.clone());
    }
    return gather(payload.clone(), ++operation, deadline());
  }

  private List<byte[]> gather(byte[] payload, int op, long deadline) {
    Gather gather = new Gather(payload, op);
    run(gather, op, deadline);
    return List.of(gather.entries);
  }

  private long deadline() {
    return System.nanoTime() + options.operationTimeout().toNanos();
  }

  private void ensureOpen() {
    String why = closedBecause;
    if (why != null) {
      throw new IllegalStateException("Rank " + rank + "'s ring is closed (" + why + ")");
    }
  }

  @Override
  public void close() {
    shut("closed by this rank");
  }

  private void fail(RuntimeException e) {
    if (closedBecause == null) {
      LOG.warn("Rank {} of {} leaves the ring: {}", rank, worldSize, e.getMessage());
    }
    shut("failed: " + e.getMessage());
  }

  private synchronized void shut(String why) {
    if (closedBecause != null) {
      return;
    }
    closedBecause = why;
    if (worldSize > 1) {
      closeQuietly(selector);
      closeQuietly(previous.channel());
      closeQuietly(next.channel());
    }
  }

  /** One collective operation as frames: what to send, what to expect, what to do on arrival. */
  private interface Exchange {
    int frames();

    /** The received frame that sending {@code frame} waits for, or -1. */
    int after(int frame);

    int kind();

    int sendTag(int frame);

    /** The payload of {@code frame}, ready to be written. */
    ByteBuffer encode(int frame);

    int receiveTag(int frame);

    /** Where the payload of received {@code frame} goes, checked against its announced size. */
    ByteBuffer receiveInto(int frame, int payloadBytes, int fromRank);

    /** Applies the complete (flipped) payload of received {@code frame}. */
    void decode(int frame, ByteBuffer payload);

    /** What the operation is, for messages ("all-reduce #3 of 1000 floats"). */
    String describe();

    /** The tag mismatch message when the previous rank announces {@code tag} for {@code frame}. */
    String tagMismatch(int frame, int tag, int fromRank);
  }

  /** Sends and receives every frame of {@code exchange} concurrently, bounded by the deadline. */
  private void run(Exchange exchange, int op, long deadline) {
    try {
      exchangeFrames(exchange, op, deadline);
    } catch (RuntimeException e) {
      fail(e);
      throw e;
    }
  }

  private void exchangeFrames(Exchange exchange, int op, long deadline) {
    int frames = exchange.frames();
    int sent = 0;
    int received = 0;
    ByteBuffer[] outgoing = null;
    ByteBuffer incoming = null;
    inHeader.clear();
    while (sent < frames || received < frames) {
      boolean progress = false;
      if (outgoing == null && sent < frames && exchange.after(sent) < received) {
        ByteBuffer payload = exchange.encode(sent);
        outHeader.clear();
        outHeader.putInt(exchange.kind()).putInt(op).putInt(exchange.sendTag(sent));
        outHeader.putInt(payload.remaining()).flip();
        outgoing = new ByteBuffer[] {outHeader, payload};
      }
      if (outgoing != null) {
        try {
          if (next.channel().write(outgoing) > 0) {
            progress = true;
          }
        } catch (IOException e) {
          throw lost(exchange, next, "to", e);
        }
        if (!outgoing[0].hasRemaining() && !outgoing[1].hasRemaining()) {
          outgoing = null;
          sent++;
          progress = true;
        }
      }
      if (received < frames) {
        if (incoming == null) {
          if (read(exchange, inHeader) > 0) {
            progress = true;
          }
          if (!inHeader.hasRemaining()) {
            inHeader.flip();
            int kind = inHeader.getInt();
            int theirOp = inHeader.getInt();
            int tag = inHeader.getInt();
            int bytes = inHeader.getInt();
            inHeader.clear();
            checkHeader(exchange, op, received, kind, theirOp, tag);
            incoming = exchange.receiveInto(received, bytes, previous.rank());
          }
        }
        if (incoming != null) {
          if (incoming.hasRemaining() && read(exchange, incoming) > 0) {
            progress = true;
          }
          if (!incoming.hasRemaining()) {
            incoming.flip();
            exchange.decode(received, incoming);
            incoming = null;
            received++;
            progress = true;
          }
        }
      }
      if (!progress) {
        long remaining = deadline - System.nanoTime();
        if (remaining <= 0) {
          throw timedOut(exchange, frames, sent, received, outgoing != null);
        }
        await(exchange, received < frames, outgoing != null, remaining);
      }
    }
  }

  private void await(Exchange exchange, boolean reading, boolean writing, long remaining) {
    try {
      readKey.interestOps(reading ? SelectionKey.OP_READ : 0);
      writeKey.interestOps(writing ? SelectionKey.OP_WRITE : 0);
      selector.select(millis(remaining));
      selector.selectedKeys().clear();
    } catch (IOException | RuntimeException e) {
      throw new PeerFailureException(
          String.format(
              "Rank %d could not wait for its neighbours in %s (%s): %s",
              rank, exchange.describe(), closedBecause == null ? "open" : closedBecause, e),
          List.of(previous.rank(), next.rank()),
          e);
    }
    if (Thread.currentThread().isInterrupted()) {
      throw new PeerFailureException(
          "Rank " + rank + " was interrupted in " + exchange.describe(), List.of());
    }
  }

  private int read(Exchange exchange, ByteBuffer into) {
    int n;
    try {
      n = previous.channel().read(into);
    } catch (IOException e) {
      throw lost(exchange, previous, "from", e);
    }
    if (n < 0) {
      throw new PeerFailureException(
          String.format(
              "Rank %d (%s) closed the connection during %s on rank %d of %d: it failed or left"
                  + " the ring (see its log)",
              previous.rank(), previous.address(), exchange.describe(), rank, worldSize),
          List.of(previous.rank()));
    }
    return n;
  }

  private PeerFailureException lost(Exchange exchange, Link link, String direction, IOException e) {
    String why = closedBecause != null ? closedBecause : e.toString();
    return new PeerFailureException(
        String.format(
            "Rank %d of %d lost the connection %s rank %d (%s) during %s: %s",
            rank, worldSize, direction, link.rank(), link.address(), exchange.describe(), why),
        List.of(link.rank()),
        e);
  }

  private PeerFailureException timedOut(
      Exchange exchange, int frames, int sent, int received, boolean sending) {
    List<Integer> peers = new ArrayList<>();
    List<String> waits = new ArrayList<>();
    if (received < frames) {
      peers.add(previous.rank());
      waits.add(
          String.format(
              "waiting for data from rank %d (%s), %d of %d frames received",
              previous.rank(), previous.address(), received, frames));
    }
    if (sending) {
      if (!peers.contains(next.rank())) {
        peers.add(next.rank());
      }
      waits.add(
          String.format(
              "rank %d (%s) not taking data, %d of %d frames sent",
              next.rank(), next.address(), sent, frames));
    }
    return new PeerFailureException(
        String.format(
            "Rank %d of %d timed out after %s in %s: %s",
            rank,
            worldSize,
            seconds(options.operationTimeout()),
            exchange.describe(),
            String.join("; ", waits)),
        peers);
  }

  private void checkHeader(Exchange exchange, int op, int frame, int kind, int theirOp, int tag) {
    int from = previous.rank();
    if (kind != exchange.kind() && kind != KIND_GATHER && exchange.kind() != KIND_GATHER) {
      throw new RingMismatchException(
          String.format(
              "Rank %d sends %s on the wire but rank %d expects %s in %s: every rank must use the"
                  + " same wire format",
              from, kindName(kind), rank, kindName(exchange.kind()), exchange.describe()));
    }
    if (kind != exchange.kind() || theirOp != op) {
      throw new RingMismatchException(
          String.format(
              "Rank %d is in operation #%d (%s) but rank %d is in %s: every rank must call the same"
                  + " operations in the same order",
              from, theirOp, kindName(kind), rank, exchange.describe()));
    }
    if (tag != exchange.receiveTag(frame)) {
      throw new RingMismatchException(exchange.tagMismatch(frame, tag, from));
    }
  }

  private static String kindName(int kind) {
    return switch (kind) {
      case KIND_SUM_FP32 -> "an fp32 all-reduce";
      case KIND_SUM_FP16 -> "an fp16 all-reduce";
      case KIND_GATHER -> "an all-gather";
      default -> "an unknown operation (kind " + kind + ")";
    };
  }

  /**
   * The floats an all-reduce sums in place: a heap array or a (possibly direct) buffer. Bulk copies
   * only, so that neither form costs a call per element.
   */
  private interface Floats {
    /** Copies {@code n} floats from index {@code start} into {@code to[0, n)}. */
    void read(int start, float[] to, int n);

    /** Copies {@code from[0, n)} to index {@code start}. */
    void write(int start, float[] from, int n);

    /** Writes floats {@code [start, start + n)} into {@code out} (little-endian fp32). */
    void encode(int start, int n, FloatBuffer out);

    /** Stores {@code n} floats of {@code in} at index {@code start}. */
    void store(int start, int n, FloatBuffer in);

    /**
     * Adds {@code from[0, n)} to floats {@code [start, start + n)} and multiplies the sums by
     * {@code scale} (1 leaves them as they are).
     */
    void add(int start, float[] from, int n, float scale, float[] scratch);

    /** Multiplies floats {@code [start, start + n)} by {@code scale}. */
    default void scale(int start, int n, float scale, float[] scratch) {
      for (int done = 0; done < n; ) {
        int k = Math.min(scratch.length, n - done);
        read(start + done, scratch, k);
        for (int i = 0; i < k; i++) {
          scratch[i] *= scale;
        }
        write(start + done, scratch, k);
        done += k;
      }
    }

    /**
     * The wire bytes of floats {@code [start, start + n)} as a view of this buffer, for sending
     * from and receiving into without a copy; {@code null} when the floats must be copied.
     */
    default ByteBuffer view(int start, int n) {
      return null;
    }
  }

  private record ArrayFloats(float[] data, int offset) implements Floats {
    @Override
    public void read(int start, float[] to, int n) {
      System.arraycopy(data, offset + start, to, 0, n);
    }

    @Override
    public void write(int start, float[] from, int n) {
      System.arraycopy(from, 0, data, offset + start, n);
    }

    @Override
    public void encode(int start, int n, FloatBuffer out) {
      out.put(data, offset + start, n);
    }

    @Override
    public void store(int start, int n, FloatBuffer in) {
      in.get(data, offset + start, n);
    }

    @Override
    public void add(int start, float[] from, int n, float scale, float[] scratch) {
      int base = offset + start;
      if (scale == 1f) {
        for (int i = 0; i < n; i++) {
          data[base + i] += from[i];
        }
      } else {
        for (int i = 0; i < n; i++) {
          data[base + i] = (data[base + i] + from[i]) * scale;
        }
      }
    }
  }

  /**
   * Floats in a byte buffer, indexed from the caller's position (a slice, so the caller's position
   * stays put). A direct little-endian buffer with the fp32 wire holds exactly the wire's bytes:
   * frames are sent from it and gathered sums received into it without a copy.
   */
  private static final class BufferFloats implements Floats {
    private final ByteBuffer bytes;
    private final FloatBuffer data;
    private final boolean wireBytes;

    BufferFloats(ByteBuffer buffer, Wire wire) {
      bytes = buffer.slice().order(buffer.order());
      data = bytes.asFloatBuffer();
      wireBytes = wire == Wire.FP32 && bytes.isDirect() && bytes.order() == ByteOrder.LITTLE_ENDIAN;
    }

    @Override
    public void read(int start, float[] to, int n) {
      data.get(start, to, 0, n);
    }

    @Override
    public void write(int start, float[] from, int n) {
      data.put(start, from, 0, n);
    }

    @Override
    public void encode(int start, int n, FloatBuffer out) {
      out.put(data.slice(start, n));
    }

    @Override
    public void store(int start, int n, FloatBuffer in) {
      data.slice(start, n).put(in);
    }

    @Override
    public void add(int start, float[] from, int n, float scale, float[] scratch) {
      data.get(start, scratch, 0, n);
      if (scale == 1f) {
        for (int i = 0; i < n; i++) {
          scratch[i] += from[i];
        }
      } else {
        for (int i = 0; i < n; i++) {
          scratch[i] = (scratch[i] + from[i]) * scale;
        }
      }
      data.put(start, scratch, 0, n);
    }

    @Override
    public ByteBuffer view(int start, int n) {
      return wireBytes ? bytes.slice(start * Float.BYTES, n * Float.BYTES) : null;
    }
  }

  /** {@code sumInPlace}: the frames of a {@link RingPlan}. */
  private final class Sum implements Exchange {
    private final RingPlan plan;
    private final Floats data;
    private final Filling filling;
    private final float scale;
    private final int op;
    private final Wire wire = options.wire();
    private final int bucketElements = options.bucketElements();
    private final long deadline;
    private int filledBuckets;
    private boolean receivedInPlace;

    Sum(RingPlan plan, Floats data, Filling filling, float scale, int op, long deadline) {
      this.plan = plan;
      this.data = data;
      this.filling = filling;
      this.scale = scale;
      this.op = op;
      this.deadline = deadline;
    }

    /** Waits until this rank's values of {@code frame}'s bucket are in the buffer. */
    private void awaitBucket(int frame) {
      int bucket = plan.bucket(frame);
      if (bucket < filledBuckets) {
        return;
      }
      int end = (int) Math.min(plan.length(), (long) (bucket + 1) * bucketElements);
      filling.awaitFilled(end, deadline);
      filledBuckets = bucket + 1;
    }

    @Override
    public int frames() {
      return plan.frames();
    }

    @Override
    public int after(int frame) {
      return plan.after(frame);
    }

    @Override
    public int kind() {
      return wire == Wire.FP32 ? KIND_SUM_FP32 : KIND_SUM_FP16;
    }

    @Override
    public int sendTag(int frame) {
      return plan.length();
    }

    @Override
    public int receiveTag(int frame) {
      return plan.length();
    }

    @Override
    public ByteBuffer encode(int frame) {
      awaitBucket(frame);
      int start = plan.sendStart(frame);
      int n = plan.sendLength(frame);
      boolean ownSum = plan.sendsOwnSum(frame);
      ByteBuffer out = sendBuffer.clear();
      if (wire == Wire.FP32) {
        ByteBuffer view = data.view(start, n);
        if (view != null) {
          return view;
        }
        data.encode(start, n, out.asFloatBuffer());
      } else {
        // The owner keeps the rounded sum it sends, so that every rank ends with the same floats.
        data.read(start, values, n);
        for (int i = 0; i < n; i++) {
          short h = Half.fromFloat(values[i]);
          halves[i] = h;
          values[i] = Half.toFloat(h);
        }
        if (ownSum) {
          data.write(start, values, n);
        }
        out.asShortBuffer().put(halves, 0, n);
      }
      return out.limit(n * wire.bytes());
    }

    @Override
    public ByteBuffer receiveInto(int frame, int payloadBytes, int fromRank) {
      int expected = plan.receiveLength(frame) * wire.bytes();
      if (payloadBytes != expected) {
        throw new RingMismatchException(
            String.format(
                "Rank %d sent %d bytes where rank %d expected %d in %s: the ranks cut buffers"
                    + " differently",
                fromRank, payloadBytes, rank, expected, describe()));
      }
      // Received floats overwrite or add to this rank's own: they must be in the buffer first.
      awaitBucket(frame);
      receivedInPlace = false;
      if (!plan.reduces(frame)) {
        ByteBuffer view = data.view(plan.receiveStart(frame), plan.receiveLength(frame));
        if (view != null) {
          receivedInPlace = true;
          return view;
        }
      }
      return receiveBuffer.clear().limit(payloadBytes);
    }

    @Override
    public void decode(int frame, ByteBuffer payload) {
      if (receivedInPlace) {
        return;
      }
      int start = plan.receiveStart(frame);
      int n = plan.receiveLength(frame);
      boolean add = plan.reduces(frame);
      // The last addition completes the segment this rank owns: its owner scales it, once, before
      // sending it round, so every rank ends with the same scaled floats.
      float times = plan.step(frame) == worldSize - 2 ? scale : 1f;
      if (wire == Wire.FP32) {
        if (add) {
          payload.asFloatBuffer().get(floats, 0, n);
          data.add(start, floats, n, times, values);
        } else {
          data.store(start, n, payload.asFloatBuffer());
        }
      } else {
        payload.asShortBuffer().get(halves, 0, n);
        if (add) {
          data.read(start, values, n);
          if (times == 1f) {
            for (int i = 0; i < n; i++) {
              values[i] += Half.toFloat(halves[i]);
            }
          } else {
            for (int i = 0; i < n; i++) {
              values[i] = (values[i] + Half.toFloat(halves[i])) * times;
            }
          }
        } else {
          for (int i = 0; i < n; i++) {
            values[i] = Half.toFloat(halves[i]);
          }
        }
        data.write(start, values, n);
      }
    }

    @Override
    public String describe() {
      return "all-reduce #" + op + " of " + plan.length() + " floats";
    }

    @Override
    public String tagMismatch(int frame, int tag, int fromRank) {
      return String.format(
          "Rank %d passed %d floats to all-reduce #%d but rank %d passed %d: every rank must"
              + " reduce buffers of the same length",
          fromRank, tag, op, rank, plan.length());
    }
  }

  /** {@code allGather}: in {@code R - 1} steps every rank forwards what it received last. */
  private final class Gather implements Exchange {
    private final byte[][] entries = new byte[worldSize][];
    private final int op;

    Gather(byte[] payload, int op) {
      this.op = op;
      entries[rank] = payload;
    }

    @Override
    public int frames() {
      return worldSize - 1;
    }

    @Override
    public int after(int frame) {
      return frame - 1;
    }

    @Override
    public int kind() {
      return KIND_GATHER;
    }

    @Override
    public int sendTag(int frame) {
      return Math.floorMod(rank - frame, worldSize);
    }

    @Override
    public int receiveTag(int frame) {
      return Math.floorMod(rank - frame - 1, worldSize);
    }

    @Override
    public ByteBuffer encode(int frame) {
      return ByteBuffer.wrap(entries[sendTag(frame)]);
    }

    @Override
    public ByteBuffer receiveInto(int frame, int payloadBytes, int fromRank) {
      if (payloadBytes < 0 || payloadBytes > MAX_GATHER_BYTES) {
        throw new RingMismatchException(
            String.format(
                "Rank %d announced an all-gather entry of %d bytes in %s, at most %d are allowed",
                fromRank, payloadBytes, describe(), MAX_GATHER_BYTES));
      }
      byte[] entry = new byte[payloadBytes];
      entries[receiveTag(frame)] = entry;
      return ByteBuffer.wrap(entry);
    }

    @Override
    public void decode(int frame, ByteBuffer payload) {}

    @Override
    public String describe() {
      return op == 0 ? "the roll call of connect" : "all-gather #" + op;
    }

    @Override
    public String tagMismatch(int frame, int tag, int fromRank) {
      return String.format(
          "Rank %d forwarded rank %d's entry where rank %d expected rank %d's in %s",
          fromRank, tag, rank, receiveTag(frame), describe());
    }
  }

  static InetSocketAddress parseAddress(int rank, String address) {
    String rule = "Address of rank " + rank + " must be host:port, cannot be: '" + address + "'";
    if (address == null) {
      throw new IllegalArgumentException(rule);
    }
    int colon = address.lastIndexOf(':');
    if (colon <= 0 || colon == address.length() - 1) {
      throw new IllegalArgumentException(rule);
    }
    String host = address.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(address.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(rule);
    }
    if (host.isEmpty() || port < 1 || port > 65535) {
      throw new IllegalArgumentException(rule);
    }
    return InetSocketAddress.createUnresolved(host, port);
  }

  private static void configure(SocketChannel channel) throws IOException {
    channel.configureBlocking(false);
    channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
  }

  private static String remoteAddress(SocketChannel channel) {
    try {
      return String.valueOf(channel.getRemoteAddress());
    } catch (IOException e) {
      return "an unknown address";
    }
  }

  private static Link finished(Future<Link> future) {
    if (!future.isDone() || future.isCancelled()) {
      return null;
    }
    try {
      return future.get();
    } catch (ExecutionException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  private static void awaitTermination(ExecutorService pool) {
    try {
      if (!pool.awaitTermination(30, TimeUnit.SECONDS)) {
        LOG.warn("Ring connect threads did not stop within 30 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static RuntimeException asRuntime(Throwable t) {
    if (t instanceof RuntimeException r) {
      return r;
    }
    if (t instanceof IOException io) {
      return new UncheckedIOException(io.toString(), io);
    }
    if (t instanceof Error e) {
      throw e;
    }
    return new IllegalStateException(t);
  }

  /** {@code 4 MiB}, {@code 64 KiB} or {@code 100 bytes}. */
  static String bytes(long n) {
    if (n >= 1 << 20 && n % (1 << 20) == 0) {
      return (n >> 20) + " MiB";
    }
    if (n >= 1 << 10 && n % (1 << 10) == 0) {
      return (n >> 10) + " KiB";
    }
    return n + " bytes";
  }

  static String seconds(Duration d) {
    long ms = d.toMillis();
    return ms % 1000 == 0 ? (ms / 1000) + " s" : ms + " ms";
  }

  private static long millis(long nanos) {
    return Math.max(1, (nanos + 999_999) / 1_000_000);
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      LOG.debug("Ignoring a failure to close {}: {}", c, e.toString());
    }
  }

  /** Named daemon threads for the two connect tasks. */
  private static final class Threads implements ThreadFactory {
    private final int rank;
    private final AtomicInteger count = new AtomicInteger();

    Threads(int rank) {
      this.rank = rank;
    }

    @Override
    public Thread newThread(Runnable task) {
      Thread t = new Thread(task, "dtm-sync-rank-" + rank + "-connect-" + count.incrementAndGet());
      t.setDaemon(true);
      return t;
    }
  }
}
