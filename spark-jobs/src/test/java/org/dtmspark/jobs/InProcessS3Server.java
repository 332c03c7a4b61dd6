package org.dtmspark.jobs;

import com.amazonaws.auth.AWSStaticCredentialsProvider;
import com.amazonaws.auth.BasicAWSCredentials;
import com.amazonaws.client.builder.AwsClientBuilder.EndpointConfiguration;
import com.amazonaws.services.s3.AmazonS3;
import com.amazonaws.services.s3.AmazonS3ClientBuilder;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * An S3-compatible server in this JVM for tests: S3Proxy with its in-memory blob store, listening
 * on a free port of 127.0.0.1 only, with AWS signature (V2 or V4) authentication.
 *
 * <p>S3Proxy runs from its self-contained jar (Maven Central, classifier {@code
 * jar-with-dependencies}, copied by the build to the path in the system property {@value
 * #JAR_PROPERTY}) in a class loader of its own whose parent is the platform class loader: its
 * dependencies (Jetty 12, Guava 33, Jackson 2.18 and 3, jakarta.ws.rs 3, logback) then never meet
 * Spark's and Hadoop's on the test class path. Hence the reflection: no S3Proxy type is visible
 * here.
 */
public final class InProcessS3Server implements AutoCloseable {
  /** System property holding the path of S3Proxy's self-contained jar (set by surefire). */
  static final String JAR_PROPERTY = "dtm.test.s3proxy.jar";

  private final URLClassLoader loader;
  private final Object proxy;
  private final int port;
  private final String accessKey;
  private final String secretKey;

  private InProcessS3Server(
      URLClassLoader loader, Object proxy, int port, String accessKey, String secretKey) {
    this.loader = loader;
    this.proxy = proxy;
    this.port = port;
    this.accessKey = accessKey;
    this.secretKey = secretKey;
  }

  /**
   * Starts a server that accepts requests signed with {@code accessKey} and {@code secretKey}.
   *
   * @throws IllegalStateException when the jar named by {@value #JAR_PROPERTY} is missing
   */
  public static InProcessS3Server start(String accessKey, String secretKey) throws Exception {
    String jar = System.getProperty(JAR_PROPERTY);
    if (jar == null || !Files.isRegularFile(Path.of(jar))) {
      throw new IllegalStateException(
          "System property "
              + JAR_PROPERTY
              + " must name S3Proxy's jar-with-dependencies, cannot be: "
              + jar
              + " (run the test through Maven, which copies it to target/test-servers)");
    }
    URLClassLoader loader =
        new URLClassLoader(
            "s3proxy",
            new URL[] {Path.of(jar).toUri().toURL()},
            ClassLoader.getPlatformClassLoader());
    Thread thread = Thread.currentThread();
    ClassLoader previous = thread.getContextClassLoader();
    // Jetty's threads start here and keep the context class loader they are created with.
    thread.setContextClassLoader(loader);
    try {
      Properties properties = new Properties();
      properties.setProperty("s3proxy.endpoint", "http://127.0.0.1:0");
      properties.setProperty("s3proxy.authorization", "aws-v2-or-v4");
      properties.setProperty("s3proxy.identity", accessKey);
      properties.setProperty("s3proxy.credential", secretKey);
      Class<?> builderType = loader.loadClass("org.gaul.s3proxy.S3Proxy$Builder");
      Class<?> blobStoreType = loader.loadClass("org.gaul.s3proxy.blobstore.BlobStore");
      Object store =
          loader
              .loadClass("org.gaul.s3proxy.nio2blob.TransientNio2BlobStore")
              .getConstructor()
              .newInstance();
      Object builder =
          builderType.getMethod("fromProperties", Properties.class).invoke(null, properties);
      builderType.getMethod("blobStore", blobStoreType).invoke(builder, store);
      Object proxy = builderType.getMethod("build").invoke(builder);
      proxy.getClass().getMethod("start").invoke(proxy);
      int port = (Integer) proxy.getClass().getMethod("getPort").invoke(proxy);
      return new InProcessS3Server(loader, proxy, port, accessKey, secretKey);
    } catch (InvocationTargetException e) {
      loader.close();
      throw e.getCause() instanceof Exception cause ? cause : e;
    } catch (Exception | Error e) {
      loader.close();
      throw e;
    } finally {
      thread.setContextClassLoader(previous);
    }
  }

  /** The port the server listens on, on 127.0.0.1. */
  public int port() {
    return port;
  }

  /** The server's endpoint, {@code http://127.0.0.1:<port>}. */
  public String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  /**
   * What S3A needs to talk to an S3-compatible server at {@code endpoint} (over plain HTTP, with
   * static keys) with this server's keys. All but the last two are what any user of such a store
   * sets; the last two only make a broken test fail fast instead of retrying for minutes. Change
   * detection keeps its default (mode {@code server}, source {@code etag}): S3Proxy returns an ETag
   * for every object it stored. A store that returns none needs {@code
   * fs.s3a.change.detection.version.required=false}.
   */
  public Map<String, String> s3aSettings() {
    String endpoint = endpoint();
    Map<String, String> s = new LinkedHashMap<>();
    // Where the server is; with the scheme, so that S3A does not assume HTTPS.
    s.put("fs.s3a.endpoint", endpoint);
    // The region requests are signed for (SigV4); S3Proxy accepts any, AWS needs the bucket's.
    s.put("fs.s3a.endpoint.region", "us-east-1");
    // Bucket in the path (http://host:port/bucket/key), not in the host name: no DNS needed.
    s.put("fs.s3a.path.style.access", "true");
    // The server speaks plain HTTP.
    s.put("fs.s3a.connection.ssl.enabled", "false");
    // Static keys from the configuration, and nothing else (no environment, no EC2 metadata).
    s.put(
        "fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
    s.put("fs.s3a.access.key", accessKey);
    s.put("fs.s3a.secret.key", secretKey);
    // Test only: one attempt per request and few retries, so a misbehaving server fails the test.
    s.put("fs.s3a.attempts.maximum", "1");
    s.put("fs.s3a.retry.limit", "1");
    return s;
  }

  /** S3A cannot create buckets: the SDK client hadoop-aws brings does it. */
  public void createBucket(String bucket) {
    String endpoint = endpoint();
    AmazonS3 s3 =
        AmazonS3ClientBuilder.standard()
            .withEndpointConfiguration(new EndpointConfiguration(endpoint, "us-east-1"))
            .withPathStyleAccessEnabled(true)
            .withCredentials(
                new AWSStaticCredentialsProvider(new BasicAWSCredentials(accessKey, secretKey)))
            .build();
    try {
      s3.createBucket(bucket);
    } finally {
      s3.shutdown();
    }
  }

  /** Stops the server (its in-memory data is gone) and closes its class loader. */
  @Override
  public void close() throws IOException {
    try {
      proxy.getClass().getMethod("stop").invoke(proxy);
    } catch (ReflectiveOperationException e) {
      throw new IOException("Cannot stop S3Proxy on port " + port, e);
    } finally {
      loader.close();
    }
  }
}
