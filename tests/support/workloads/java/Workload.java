import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * Test workload for the daemon's `java -jar` path. WORKLOAD_MODE selects the behaviour:
 * "serve" (default) prints a Paper-style ready line and obeys console commands until `stop`;
 * "oom" fills the heap until the JVM throws a real OutOfMemoryError; "exit1" fails at once.
 */
public final class Workload {
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");

    public static void main(String[] args) throws Exception {
        long started = System.nanoTime();
        String mode = System.getenv().getOrDefault("WORKLOAD_MODE", "serve");
        info("Starting workload (mode " + mode + ", args " + String.join(" ", args) + ")");
        switch (mode) {
            case "oom" -> exhaustHeap();
            case "exit1" -> {
                System.err.println("[" + now() + " ERROR]: Workload asked to fail");
                System.exit(1);
            }
            default -> serve(started);
        }
    }

    private static void exhaustHeap() {
        List<long[]> hoard = new ArrayList<>();
        while (true) {
            hoard.add(new long[1 << 16]);
        }
    }

    private static void serve(long started) throws Exception {
        double seconds = (System.nanoTime() - started) / 1e9;
        info(String.format("Done (%.3fs)! For help, type \"help\"", seconds));
        BufferedReader console = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = console.readLine()) != null) {
            String command = line.trim();
            if (command.equals("stop")) {
                info("Stopping server");
                System.exit(0);
            } else if (command.startsWith("say ")) {
                info("[Server] " + command.substring(4));
            } else if (!command.isEmpty()) {
                info("Unknown command: " + command);
            }
        }
        // Like Paper, a closed console does not stop the server; wait for a signal instead.
        Thread.currentThread().join();
    }

    private static void info(String message) {
        System.out.println("[" + now() + " INFO]: " + message);
    }

    private static String now() {
        return LocalTime.now().format(CLOCK);
    }
}
