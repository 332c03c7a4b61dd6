package org.dtmspark.clustertests;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapVolumeSource;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import okio.Buffer;
import org.apache.spark.SecurityManager;
import org.apache.spark.SparkConf;
import org.apache.spark.deploy.k8s.KubernetesConf$;
import org.apache.spark.deploy.k8s.KubernetesExecutorConf;
import org.apache.spark.deploy.k8s.SparkPod;
import org.apache.spark.resource.ResourceProfile$;
import org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.Option;

/**
 * What {@code deploy/bin/dtm-submit --target k8s} makes of a pretrain stage, checked with Spark's
 * own Kubernetes code; no Kubernetes cluster runs here. Real {@code spark-submit} (Spark's {@code
 * KubernetesClientApplication}) submits to fabric8's mock API server in CRUD mode, in this JVM: the
 * driver pod and its configuration map it creates are read back from there. The executor pod is
 * what Spark's {@code KubernetesExecutorBuilder} builds, as the driver would in that pod, from the
 * configuration and executor pod template the configuration map carries to the driver.
 */
class KubernetesSubmitTest {
  private static final String IMAGE = "registry.example.com/ml/dtm-spark:0.1.0-test";
  private static final String NAMESPACE = "ml-training";
  private static final String JAR = "local:///opt/dtm-spark/lib/dtm-spark-cluster.jar";

  /**
   * fabric8's CRUD dispatcher (6.7) answers a server-side apply of an object it does not hold with
   * 404 Not Found, where an API server creates the object; Spark 3.5's client creates the driver's
   * service and configuration map that way. This one creates it, as a POST to its collection.
   */
  static final class ApplyCreates extends KubernetesCrudDispatcher {
    @Override
    public MockResponse handlePatch(RecordedRequest request) {
      Buffer body = request.getBody().clone();
      MockResponse response = super.handlePatch(request);
      String type = request.getHeader("Content-Type");
      if (response.getStatus().contains(" 404 ")
          && type != null
          && type.startsWith("application/apply-patch")) {
        String path = request.getPath();
        int query = path.indexOf('?');
        String resource = query < 0 ? path : path.substring(0, query);
        String collection = resource.substring(0, resource.lastIndexOf('/'));
        // RecordedRequest reads the addresses of a socket; an unconnected one has none to give.
        try (Socket none = new Socket()) {
          return handleCreate(
              new RecordedRequest(
                  "POST " + collection + " HTTP/1.1",
                  request.getHeaders(),
                  List.of(),
                  body.size(),
                  body,
                  request.getSequenceNumber(),
                  none));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
      return response;
    }
  }

  @TempDir Path dir;
  private KubernetesMockServer server;
  private NamespacedKubernetesClient client;

  @BeforeEach
  void startApiServer() {
    server =
        new KubernetesMockServer(
            new Context(), new MockWebServer(), new HashMap<>(), new ApplyCreates(), false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    client = server.createClient();
  }

  @AfterEach
  void stopApiServer() {
    client.close();
    server.destroy();
  }

  private Processes.Result submit(List<String> subcommand) throws Exception {
    Path sparkHome = SparkHome.layOut(dir.resolve("spark-home"));
    List<String> command =
        new ArrayList<>(
            List.of(
                "bash",
                SparkHome.DTM_SUBMIT.toString(),
                "--target",
                "k8s",
                "--master",
                "k8s://http://127.0.0.1:" + server.getPort(),
                "--image",
                IMAGE,
                "--namespace",
                NAMESPACE,
                "--spark-submit",
                sparkHome.resolve("bin/spark-submit").toString(),
                // The S3 credentials as a site would give them: a secret volume and an env var.
                "--conf",
                "spark.kubernetes.driver.secrets.dtm-s3=/etc/dtm/s3",
                "--conf",
                "spark.kubernetes.executor.secrets.dtm-s3=/etc/dtm/s3",
                "--conf",
                "spark.kubernetes.driver.secretKeyRef.AWS_ACCESS_KEY_ID=dtm-s3:access-key",
                "--conf",
                "spark.kubernetes.executor.secretKeyRef.AWS_ACCESS_KEY_ID=dtm-s3:access-key",
                // Submit and return: no pod will ever run against the stand-in server.
                "--conf",
                "spark.kubernetes.submission.waitAppCompletion=false",
                "--"));
    command.addAll(subcommand);
    return Processes.run(dir, Map.of(), command, 180);
  }

  private static Map<String, EnvVar> env(Container c) {
    return c.getEnv().stream().collect(Collectors.toMap(EnvVar::getName, e -> e));
  }

  private static Map<String, Volume> volumes(Pod pod) {
    return pod.getSpec().getVolumes().stream().collect(Collectors.toMap(Volume::getName, v -> v));
  }

  private static void assertDataAndSecretVolumes(Pod pod, Container container) {
    Map<String, Volume> volumes = volumes(pod);
    assertThat(volumes.get("dshm").getEmptyDir().getMedium()).isEqualTo("Memory");
    assertThat(volumes.get("dtm-data").getPersistentVolumeClaim().getClaimName())
        .isEqualTo("dtm-data");
    assertThat(volumes.get("dtm-s3-volume").getSecret().getSecretName()).isEqualTo("dtm-s3");
    assertThat(container.getVolumeMounts())
        .anyMatch(m -> m.getName().equals("dshm") && m.getMountPath().equals("/dev/shm"))
        .anyMatch(m -> m.getName().equals("dtm-data") && m.getMountPath().equals("/data"))
        .anyMatch(
            m -> m.getName().equals("dtm-s3-volume") && m.getMountPath().equals("/etc/dtm/s3"));
    EnvVar key = env(container).get("AWS_ACCESS_KEY_ID");
    assertThat(key.getValueFrom().getSecretKeyRef().getName()).isEqualTo("dtm-s3");
    assertThat(key.getValueFrom().getSecretKeyRef().getKey()).isEqualTo("access-key");
    assertThat(pod.getSpec().getTolerations())
        .extracting(Toleration::getKey)
        .contains("nvidia.com/gpu");
  }

  private static void assertJavaOptions(String options) throws Exception {
    List<String> list = List.of(options.split(" "));
    assertThat(list)
        .containsAll(addOpens())
        .contains(
            "-Dai.djl.offline=true",
            "-Djava.awt.headless=true",
            "-Dlog4j2.configurationFile=/opt/dtm-spark/conf/log4j2.properties");
  }

  private static List<String> addOpens() throws Exception {
    return Files.readAllLines(SparkHome.REPOSITORY.resolve("conf/java17-add-opens.txt")).stream()
        .map(String::strip)
        .filter(l -> !l.isEmpty() && !l.startsWith("#"))
        .toList();
  }

  @Test
  void probeRunsItsModelInTheDriverPodWhichGetsTheGpu() throws Exception {
    Processes.Result r =
        submit(
            List.of(
                "probe",
                "--checkpoint",
                "/data/runs/vit-b/checkpoints/last",
                "--images",
                "shards:s3a://ml-bucket/in1k#train",
                "--val",
                "shards:s3a://ml-bucket/in1k#val",
                "--output",
                "/data/runs/vit-b/probe.json"));

    assertThat(r.code()).as(r.both()).isZero();
    Pod driver = client.pods().inNamespace(NAMESPACE).list().getItems().get(0);
    Container container = driver.getSpec().getContainers().get(0);
    assertThat(container.getImage()).isEqualTo(IMAGE);
    // 16g heap and 8g off-heap for the model in the driver, and one GPU.
    assertThat(container.getResources().getLimits())
        .containsEntry("nvidia.com/gpu", new Quantity("1"))
        .containsEntry("memory", new Quantity("24576Mi"));
    String configMapName = volumes(driver).get("spark-conf-volume-driver").getConfigMap().getName();
    Properties properties = new Properties();
    properties.load(
        new StringReader(
            client
                .configMaps()
                .inNamespace(NAMESPACE)
                .withName(configMapName)
                .get()
                .getData()
                .get("spark.properties")));
    assertThat(properties)
        .containsEntry(
            "spark.driver.resource.gpu.discoveryScript", "/opt/dtm-spark/bin/discover-gpus.sh")
        .containsEntry("spark.driver.resource.gpu.vendor", "nvidia.com")
        .doesNotContainKey("spark.executor.resource.gpu.amount");
    assertDataAndSecretVolumes(driver, container);
  }

  @Test
  void pretrainDriverAndExecutorPodsCarryTheImageGpusDiscoveryScriptVolumesSecretsAndJavaOptions()
      throws Exception {
    List<String> pretrain =
        List.of(
            "pretrain",
            "--images",
            "shards:s3a://ml-bucket/in1k#train",
            "--targets",
            "s3a://ml-bucket/in1k-targets",
            "--ranks",
            "2",
            "--output",
            "/data/runs/vit-b");

    Processes.Result r = submit(pretrain);

    assertThat(r.code()).as(r.both()).isZero();
    // The echoed line masks the values of keys naming secrets.
    assertThat(r.err())
        .contains("spark.kubernetes.executor.secretKeyRef.AWS_ACCESS_KEY_ID=*****")
        .doesNotContain("dtm-s3:access-key");

    // ---- the driver pod, as the API server got it -------------------------------------------
    List<Pod> pods = client.pods().inNamespace(NAMESPACE).list().getItems();
    assertThat(pods).hasSize(1);
    Pod driver = pods.get(0);
    assertThat(driver.getSpec().getServiceAccountName()).isEqualTo("spark");
    assertThat(driver.getMetadata().getLabels())
        .containsEntry("app.kubernetes.io/component", "driver")
        .containsEntry("spark-role", "driver");
    Container driverContainer = driver.getSpec().getContainers().get(0);
    assertThat(driverContainer.getName()).isEqualTo("spark-kubernetes-driver");
    assertThat(driverContainer.getImage()).isEqualTo(IMAGE);
    List<String> driverArgs = driverContainer.getArgs();
    assertThat(driverArgs.subList(0, 6))
        .containsExactly(
            "driver",
            "--properties-file",
            "/opt/spark/conf/spark.properties",
            "--class",
            "org.dtmspark.cli.DtmCli",
            JAR);
    assertThat(driverArgs.subList(6, driverArgs.size())).isEqualTo(pretrain);
    // pretrain's model runs in the executors: no GPU for the driver.
    assertThat(driverContainer.getResources().getLimits())
        .doesNotContainKey("nvidia.com/gpu")
        .containsEntry("memory", new Quantity("4505Mi"));
    assertDataAndSecretVolumes(driver, driverContainer);

    // ---- the configuration the driver reads: spark.properties and the executor template -------
    String configMapName = volumes(driver).get("spark-conf-volume-driver").getConfigMap().getName();
    ConfigMap configMap = client.configMaps().inNamespace(NAMESPACE).withName(configMapName).get();
    Properties properties = new Properties();
    properties.load(new StringReader(configMap.getData().get("spark.properties")));
    assertJavaOptions(properties.getProperty("spark.driver.extraJavaOptions"));
    assertThat(properties)
        .containsEntry("spark.executor.resource.gpu.amount", "1")
        .containsEntry("spark.executor.resource.gpu.vendor", "nvidia.com")
        .containsEntry(
            "spark.executor.resource.gpu.discoveryScript", "/opt/dtm-spark/bin/discover-gpus.sh")
        .containsEntry("spark.task.resource.gpu.amount", "1")
        .containsEntry("spark.executor.instances", "2")
        .containsEntry("spark.stage.maxConsecutiveAttempts", "1")
        .containsEntry("spark.dynamicAllocation.enabled", "false");
    // The image the pods run puts the discovery script and the log4j2 file where those name them.
    assertThat(Files.readString(SparkHome.REPOSITORY.resolve("deploy/docker/Dockerfile")))
        .contains("deploy/gpu/discover-gpus.sh /opt/dtm-spark/bin/discover-gpus.sh")
        .contains("COPY conf/ /opt/dtm-spark/conf/")
        .contains("/opt/dtm-spark/lib/dtm-spark-cluster.jar");
    // The executor pod template travels in a configuration map of its own, mounted in the driver
    // at the path its spark.kubernetes.executor.podTemplateFile names.
    ConfigMapVolumeSource templateVolume =
        volumes(driver).get("pod-template-volume").getConfigMap();
    String template =
        client
            .configMaps()
            .inNamespace(NAMESPACE)
            .withName(templateVolume.getName())
            .get()
            .getData()
            .get(templateVolume.getItems().get(0).getKey());
    assertThat(template)
        .isEqualTo(
            Files.readString(
                SparkHome.REPOSITORY.resolve("deploy/k8s/executor-pod-template.yaml")));
    assertThat(properties.getProperty("spark.kubernetes.executor.podTemplateFile"))
        .endsWith("/" + templateVolume.getItems().get(0).getPath());

    // ---- an executor pod, as the driver would build it ------------------------------------------
    Path templateFile = Files.writeString(dir.resolve("pod-spec-template.yml"), template);
    SparkConf conf = new SparkConf(false);
    for (String key : properties.stringPropertyNames()) {
      conf.set(key, properties.getProperty(key));
    }
    conf.set("spark.kubernetes.executor.podTemplateFile", templateFile.toString());
    conf.set("spark.app.id", "spark-dtm-test");
    KubernetesExecutorConf executorConf =
        KubernetesConf$.MODULE$.createExecutorConf(
            conf,
            "1",
            "spark-dtm-test",
            Option.apply(driver),
            ResourceProfile$.MODULE$.DEFAULT_RESOURCE_PROFILE_ID());
    SparkPod executor =
        new KubernetesExecutorBuilder()
            .buildFromFeatures(
                executorConf,
                new SecurityManager(
                    conf,
                    Option.empty(),
                    org.apache.spark.internal.config.package$.MODULE$.AUTH_SECRET_FILE_EXECUTOR()),
                client,
                ResourceProfile$.MODULE$.getOrCreateDefaultProfile(conf))
            .pod();
    Container container = executor.container();
    assertThat(container.getName()).isEqualTo("spark-kubernetes-executor");
    assertThat(container.getImage()).isEqualTo(IMAGE);
    assertThat(container.getResources().getLimits())
        .containsEntry("nvidia.com/gpu", new Quantity("1"))
        .containsEntry("memory", new Quantity("24576Mi"));
    assertThat(executor.pod().getMetadata().getLabels())
        .containsEntry("app.kubernetes.io/component", "executor")
        .containsEntry("spark-role", "executor");
    Map<String, EnvVar> env = env(container);
    assertThat(env.get("SPARK_EXECUTOR_CORES").getValue()).isEqualTo("8");
    String javaOptions =
        env.values().stream()
            .filter(e -> e.getName().startsWith("SPARK_JAVA_OPT_"))
            .map(EnvVar::getValue)
            .collect(Collectors.joining(" "));
    assertJavaOptions(javaOptions);
    assertDataAndSecretVolumes(executor.pod(), container);
  }
}
