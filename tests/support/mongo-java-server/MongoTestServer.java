import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.util.List;

/**
 * An in-memory MongoDB-wire server for the test harness. It reports wire version 9 (server 4.4)
 * because mongodb driver 7.6+ refuses anything older; binds 127.0.0.1 on the given port (0 picks
 * one) and prints the bound port so the harness can connect.
 */
public final class MongoTestServer {
  private MongoTestServer() {}

  public static void main(String[] args) throws Exception {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
    MongoVersion version = new MongoVersion() {
      @Override public List<Integer> getVersionArray() { return List.of(4, 4, 0); }
      @Override public int getWireVersion() { return 9; }
    };
    MemoryBackend backend = new MemoryBackend();
    backend.version(version);
    MongoServer server = new MongoServer(backend);
    server.bind("127.0.0.1", port);
    Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
    System.out.println("mongo-test-server listening on " + server.getLocalAddress().getPort());
    System.out.flush();
    Thread.currentThread().join();
  }
}
