package org.dtmspark.jobs.pretrain;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Map;
import java.util.function.Consumer;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-step metrics from rank 0 to the driver over TCP, authenticated with the job's secret.
 *
 * <p>Protocol: the driver ({@link Receiver}) sends a 32-byte random challenge; the rank ({@link
 * Sender}) answers with {@code HMAC-SHA256(secret, "dtm-metrics" || challenge)} (32 bytes), so the
 * secret never crosses the wire; a wrong answer closes the connection and is logged. Then the rank
 * sends one JSON object per line (UTF-8). A retried stage connects again.
 */
public final class MetricsChannel {
  private static final Logger LOG = LoggerFactory.getLogger(MetricsChannel.class);
  private static final byte[] CONTEXT = "dtm-metrics".getBytes(StandardCharsets.US_ASCII);
  private static final int CHALLENGE_BYTES = 32;
  private static final ObjectMapper JSON = JsonMapper.builder().build();

  private MetricsChannel() {}

  static byte[] answer(byte[] secret, byte[] challenge) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      mac.update(CONTEXT);
      return mac.doFinal(challenge);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA256 is not available", e);
    }
  }

  /** The driver's end: accepts rank 0's connections and hands every record to a consumer. */
  public static final class Receiver implements AutoCloseable {
    private final ServerSocket server;
    private final byte[] secret;
    private final Consumer<Map<String, Object>> consumer;
    private final Thread acceptor;
    private volatile boolean closed;

    /**
     * Listens on {@code host} (an ephemeral port).
     *
     * @param consumer receives every record, on the connection's thread (thread-safe)
     */
    public Receiver(String host, byte[] secret, Consumer<Map<String, Object>> consumer)
        throws IOException {
      this.server = new ServerSocket();
      server.bind(new InetSocketAddress(InetAddress.getByName(host), 0));
      this.secret = secret.clone();
      this.consumer = consumer;
      this.acceptor = new Thread(this::acceptLoop, "dtm-metrics-receiver");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    /** {@code host:port} for ranks to connect to. */
    public String address() {
      return server.getInetAddress().getHostAddress() + ":" + server.getLocalPort();
    }

    /**
     * Accepts connections and serves each on a thread of its own, so that a connection an earlier
     * attempt left half-open never keeps the next attempt's rank 0 out.
     */
    private void acceptLoop() {
      while (!closed) {
        Socket socket;
        try {
          socket = server.accept();
        } catch (IOException e) {
          if (!closed) {
            LOG.warn("Metrics receiver failed: {}", e.getMessage());
          }
          return;
        }
        Thread serving = new Thread(() -> serveAndClose(socket), "dtm-metrics-connection");
        serving.setDaemon(true);
        serving.start();
      }
    }

    private void serveAndClose(Socket socket) {
      try (socket) {
        serve(socket);
      } catch (SocketException e) {
        if (!closed) {
          LOG.warn("Metrics connection failed: {}", e.getMessage());
        }
      } catch (IOException | RuntimeException e) {
        LOG.warn("Metrics connection failed: {}", e.toString());
      }
    }

    private void serve(Socket socket) throws IOException {
      socket.setSoTimeout(60_000);
      byte[] challenge = new byte[CHALLENGE_BYTES];
      new SecureRandom().nextBytes(challenge);
      OutputStream out = socket.getOutputStream();
      out.write(challenge);
      out.flush();
      byte[] response = new byte[CHALLENGE_BYTES];
      new DataInputStream(socket.getInputStream()).readFully(response);
      if (!MessageDigest.isEqual(response, answer(secret, challenge))) {
        LOG.warn(
            "Refused a metrics connection from {}: it does not know this job's secret",
            socket.getRemoteSocketAddress());
        return;
      }
      socket.setSoTimeout(0);
      BufferedReader reader =
          new BufferedReader(
              new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      String line;
      while ((line = reader.readLine()) != null) {
        Map<String, Object> record;
        try {
          record = JSON.readValue(line, new TypeReference<Map<String, Object>>() {});
        } catch (JsonProcessingException e) {
          LOG.warn("Ignored a malformed metrics line from rank 0: {}", e.getOriginalMessage());
          continue;
        }
        consumer.accept(record);
      }
    }

    @Override
    public void close() throws IOException {
      closed = true;
      server.close();
      try {
        acceptor.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Rank 0's end. */
  public static final class Sender implements AutoCloseable {
    private final Socket socket;
    private final Writer writer;

    /** Connects to the driver at {@code host:port} and authenticates. */
    public Sender(String address, byte[] secret) throws IOException {
      int colon = address.lastIndexOf(':');
      if (colon < 0) {
        throw new IllegalArgumentException(
            "Metrics address must be host:port, cannot be: " + address);
      }
      socket = new Socket();
      socket.connect(
          new InetSocketAddress(
              address.substring(0, colon), Integer.parseInt(address.substring(colon + 1))),
          30_000);
      socket.setSoTimeout(30_000);
      byte[] challenge = new byte[CHALLENGE_BYTES];
      new DataInputStream(socket.getInputStream()).readFully(challenge);
      OutputStream out = socket.getOutputStream();
      out.write(answer(secret, challenge));
      out.flush();
      writer = new OutputStreamWriter(out, StandardCharsets.UTF_8);
    }

    /** Sends one record. */
    public synchronized void send(Map<String, Object> record) throws IOException {
      writer.write(JSON.writeValueAsString(record));
      writer.write('\n');
      writer.flush();
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
