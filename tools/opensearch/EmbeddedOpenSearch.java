import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.settings.Settings;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.transport.Netty4Plugin;

/**
 * One OpenSearch node from the jars on the classpath, configured by {@code <home>/config/opensearch.yml}.
 * A distribution loads its HTTP transport and analyzers as modules from its own directory tree;
 * here they are classpath plugins, which is what Node's protected constructor is for.
 */
public final class EmbeddedOpenSearch {
  private static final class ClasspathNode extends Node {
    ClasspathNode(Path home) {
      super(
          InternalSettingsPreparer.prepareEnvironment(
              Settings.builder().put("path.home", home.toString()).build(),
              Collections.emptyMap(),
              home.resolve("config"),
              () -> "node-1"),
          List.of(Netty4Plugin.class, CommonAnalysisPlugin.class),
          true);
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 1) throw new IllegalArgumentException("usage: EmbeddedOpenSearch <home>");
    Node node = new ClasspathNode(Path.of(args[0])).start();
    CountDownLatch closed = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        node.close();
      } catch (Exception e) {
        e.printStackTrace();
      } finally {
        closed.countDown();
      }
    }));
    closed.await();
  }
}
