package org.dtmspark.sync;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The authenticated handshake on one ring connection (see the package documentation for the
 * frames). The connecting side is the client; the secret never crosses the wire, only HMACs over
 * fresh nonces and the identities.
 */
final class Handshake {
  /** Version of the whole protocol: handshake, roll call and operation frames. */
  static final int VERSION = 1;

  /** "DTMS" in little-endian byte order. */
  static final int MAGIC = 'D' | 'T' << 8 | 'M' << 16 | 'S' << 24;

  static final int NONCE_BYTES = 32;
  static final int MAC_BYTES = 32;
  static final int MAX_FINGERPRINT_BYTES = 4096;
  static final int HELLO_BYTES = 8 + NONCE_BYTES;

  private static final SecureRandom NONCES = new SecureRandom();
  private static final byte[] CLIENT = "dtm-sync client".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] SERVER = "dtm-sync server".getBytes(StandardCharsets.US_ASCII);

  private Handshake() {}

  /** Who a peer says it is; authenticated by the handshake. */
  record Identity(int rank, int worldSize, String fingerprint) {}

  /** The peer did not prove itself: wrong secret, not our protocol, closed, or silent. */
  static final class Refused extends Exception {
    private static final long serialVersionUID = 1L;

    Refused(String reason) {
      super(reason);
    }
  }

  /** A peer speaking another protocol version. */
  static final class VersionMismatch extends Exception {
    private static final long serialVersionUID = 1L;
    final int version;

    VersionMismatch(int version) {
      super("protocol version " + version);
      this.version = version;
    }
  }

  /**
   * Accepting side: hello in, hello out, the client's proof in and checked, then this side's proof
   * out. Returns the client's identity; anything wrong is {@link Refused} (the caller drops the
   * connection and keeps listening), because nothing the client says counts before its proof.
   */
  static Identity asServer(SocketChannel channel, byte[] secret, Identity self, long deadline)
      throws Refused {
    try (TimedChannel io = new TimedChannel(channel, deadline)) {
      ByteBuffer hello = io.read(HELLO_BYTES);
      if (hello.getInt() != MAGIC) {
        throw new Refused("not a dtm-spark sync peer (bad magic)");
      }
      int version = hello.getInt();
      if (version != VERSION) {
        throw new Refused(
            "speaks sync protocol version " + version + ", this rank speaks " + VERSION);
      }
      byte[] clientNonce = nonce(hello);
      byte[] serverNonce = newNonce();
      io.write(hello(serverNonce));
      Identity client = readProof(io, secret, CLIENT, clientNonce, serverNonce);
      if (client == null) {
        throw new Refused("authentication failed: it does not hold this job's secret");
      }
      io.write(proof(self, secret, SERVER, clientNonce, serverNonce));
      return client;
    } catch (EOFException e) {
      throw new Refused("closed the connection during the handshake");
    } catch (SocketTimeoutException e) {
      throw new Refused("did not complete the handshake in time");
    } catch (IOException e) {
      throw new Refused("handshake failed: " + e);
    }
  }

  /**
   * Connecting side: hello out, hello in, this side's proof out, the server's proof in and checked.
   * Returns the server's identity.
   *
   * @throws Refused the server closed the connection (it refused this side's proof), sent a wrong
   *     proof, is not a sync endpoint, or did not answer in time
   * @throws VersionMismatch the server speaks another protocol version
   */
  static Identity asClient(SocketChannel channel, byte[] secret, Identity self, long deadline)
      throws Refused, VersionMismatch {
    byte[] clientNonce = newNonce();
    boolean proofSent = false;
    try (TimedChannel io = new TimedChannel(channel, deadline)) {
      io.write(hello(clientNonce));
      ByteBuffer hello = io.read(HELLO_BYTES);
      if (hello.getInt() != MAGIC) {
        throw new Refused("is not a dtm-spark sync endpoint (bad magic)");
      }
      int version = hello.getInt();
      if (version != VERSION) {
        throw new VersionMismatch(version);
      }
      byte[] serverNonce = nonce(hello);
      io.write(proof(self, secret, CLIENT, clientNonce, serverNonce));
      proofSent = true;
      Identity server = readProof(io, secret, SERVER, clientNonce, serverNonce);
      if (server == null) {
        throw new Refused("failed authentication: it does not hold this job's secret");
      }
      return server;
    } catch (EOFException e) {
      throw new Refused(
          proofSent
              ? "closed the connection on this rank's credentials: it refused them (a different"
                  + " job secret?)"
              : "closed the connection during the handshake");
    } catch (SocketTimeoutException e) {
      throw new Refused("did not complete the handshake in time");
    } catch (IOException e) {
      throw new Refused("handshake failed: " + e);
    }
  }

  /** A fresh job secret: 32 bytes from a {@link SecureRandom}. */
  static byte[] newSecret() {
    byte[] secret = new byte[32];
    NONCES.nextBytes(secret);
    return secret;
  }

  private static byte[] newNonce() {
    byte[] nonce = new byte[NONCE_BYTES];
    NONCES.nextBytes(nonce);
    return nonce;
  }

  private static byte[] nonce(ByteBuffer hello) {
    byte[] nonce = new byte[NONCE_BYTES];
    hello.get(nonce);
    return nonce;
  }

  private static ByteBuffer hello(byte[] nonce) {
    ByteBuffer b = ByteBuffer.allocate(HELLO_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    return b.putInt(MAGIC).putInt(VERSION).put(nonce).flip();
  }

  private static ByteBuffer proof(
      Identity self, byte[] secret, byte[] label, byte[] clientNonce, byte[] serverNonce) {
    byte[] fingerprint = self.fingerprint().getBytes(StandardCharsets.UTF_8);
    ByteBuffer b =
        ByteBuffer.allocate(12 + fingerprint.length + MAC_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(self.rank()).putInt(self.worldSize()).putInt(fingerprint.length).put(fingerprint);
    b.put(mac(secret, label, clientNonce, serverNonce, self.rank(), self.worldSize(), fingerprint));
    return b.flip();
  }

  /** The peer's identity if its MAC is right, else null. */
  private static Identity readProof(
      TimedChannel io, byte[] secret, byte[] label, byte[] clientNonce, byte[] serverNonce)
      throws IOException, Refused {
    ByteBuffer head = io.read(12);
    int rank = head.getInt();
    int worldSize = head.getInt();
    int fingerprintBytes = head.getInt();
    if (fingerprintBytes < 0 || fingerprintBytes > MAX_FINGERPRINT_BYTES) {
      throw new Refused("sent a malformed proof (fingerprint of " + fingerprintBytes + " bytes)");
    }
    ByteBuffer rest = io.read(fingerprintBytes + MAC_BYTES);
    byte[] fingerprint = new byte[fingerprintBytes];
    rest.get(fingerprint);
    byte[] mac = new byte[MAC_BYTES];
    rest.get(mac);
    byte[] expected = mac(secret, label, clientNonce, serverNonce, rank, worldSize, fingerprint);
    if (!MessageDigest.isEqual(mac, expected)) {
      return null;
    }
    return new Identity(rank, worldSize, new String(fingerprint, StandardCharsets.UTF_8));
  }

  /**
   * HMAC-SHA256 under the job secret of: role label, client nonce, server nonce, protocol version,
   * rank, world size, fingerprint length and bytes.
   */
  static byte[] mac(
      byte[] secret,
      byte[] label,
      byte[] clientNonce,
      byte[] serverNonce,
      int rank,
      int worldSize,
      byte[] fingerprint) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      mac.update(label);
      mac.update(clientNonce);
      mac.update(serverNonce);
      ByteBuffer fields = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
      fields.putInt(VERSION).putInt(rank).putInt(worldSize).putInt(fingerprint.length);
      mac.update(fields.array());
      mac.update(fingerprint);
      return mac.doFinal();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is missing from this JVM", e);
    }
  }
}
