/**
 * Gradient synchronisation for data-parallel training, one JVM per rank: the {@link
 * org.dtmspark.sync.AllReduce} interface and its host-memory implementation {@link
 * org.dtmspark.sync.RingAllReduce}, a ring all-reduce over TCP. Plain Java: no Spark, no DJL. The
 * Spark barrier job publishes each rank's {@link
 * org.dtmspark.sync.RingAllReduce.Endpoint#address()} and the per-job secret; everything else
 * happens here.
 *
 * <h2>Wire protocol, version 1</h2>
 *
 * <p>Every integer is a little-endian int32. Each rank has two TCP connections (TCP_NODELAY): the
 * one it opened to rank {@code r + 1} (it is the client there) and the one rank {@code r - 1}
 * opened to it (it is the server there). With two ranks these are still two connections. Operation
 * data flows client to server only: rank {@code r} sends on its client connection and receives on
 * its server connection.
 *
 * <h3>Handshake, on each connection</h3>
 *
 * <ol>
 *   <li>client to server, HELLO (40 bytes): magic {@code "DTMS"} (bytes 44 54 4D 53), version,
 *       32-byte client nonce;
 *   <li>server to client, HELLO: magic, version, 32-byte server nonce. A client that sees another
 *       version fails connect; a server drops a client with another magic or version;
 *   <li>client to server, PROOF: rank, world size, fingerprint length {@code n} (at most 4096),
 *       {@code n} bytes of UTF-8 fingerprint, then a 32-byte MAC = HMAC-SHA256(secret, {@code
 *       "dtm-sync client"} | client nonce | server nonce | version | rank | world size | {@code n}
 *       | fingerprint);
 *   <li>the server checks the MAC (in constant time). If it is wrong, the server closes the
 *       connection, logs a WARN naming the remote address and keeps listening. Otherwise it sends
 *       its own PROOF, labelled {@code "dtm-sync server"}, which the client checks the same way.
 * </ol>
 *
 * <p>The secret never crosses the wire and the fresh nonces on both sides make recorded proofs
 * useless. Both sides then check that the peer has the same world size and is the expected
 * neighbour. The nonces come from a {@link java.security.SecureRandom}, not from the training
 * seeds: they must be unpredictable.
 *
 * <h3>Operation frames</h3>
 *
 * <p>Every frame has a 16-byte header, then its payload:
 *
 * <pre>
 * kind       1 = fp32 all-reduce, 2 = fp16 all-reduce, 3 = all-gather
 * operation  number of the operation on this ring: 0 for the roll call, then 1, 2, ...
 * tag        all-reduce: the length of the buffer in floats; all-gather: the rank whose entry
 *            the payload is
 * bytes      payload length
 * payload    all-reduce: the segment's floats as little-endian IEEE binary32 or binary16;
 *            all-gather: the entry's bytes
 * </pre>
 *
 * <p>The receiver checks kind, operation and tag against what it is doing, so ranks that call
 * different operations, or the same operation with different lengths, fail with a {@link
 * org.dtmspark.sync.RingMismatchException} naming both ranks instead of mixing data. The frames of
 * an all-reduce and their order are given by {@link org.dtmspark.sync.RingPlan}: buckets of {@code
 * bucketBytes / 4} floats, each cut into world-size segments, {@code 2 (R - 1)} frames per bucket,
 * in wavefront order. An all-gather sends {@code R - 1} frames: first its own entry, then each
 * entry it has just received.
 *
 * <h3>Roll call</h3>
 *
 * <p>Once both connections are up, connect runs an all-gather (operation 0) of each rank's (rank,
 * world size, bucket bytes, wire ordinal, fingerprint bytes) and compares every entry with rank
 * 0's. Every rank sees the same list, so a fingerprint that differs anywhere in the ring fails
 * connect on every rank with the same message, e.g. {@code Rank 2 has model fingerprint 'b' but
 * rank 0 has 'a': every rank must train the same model}.
 *
 * <h3>Failures</h3>
 *
 * <p>Connect is bounded by the connect timeout, every operation by the operation timeout. A
 * connection that closes or breaks, or a neighbour that sends nothing until the timeout, fails the
 * operation with a {@link org.dtmspark.sync.PeerFailureException} naming the rank(s) waited for and
 * the timeout; the failing rank then closes its connections, so that its neighbours fail at once
 * instead of at their own timeouts, and the failure travels round the ring.
 */
package org.dtmspark.sync;
