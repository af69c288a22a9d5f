import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * Test workload for the daemon's `java -jar` path, behaving like a Paper server where the cloud can
 * see it. WORKLOAD_MODE selects the behaviour: "serve" (default) refuses to run without
 * `eula=true` in ./eula.txt (as Paper does), listens on `--port N` and answers Server List Pings
 * there (max players from server.properties), prints a Paper-style ready line and obeys console
 * commands until `stop`; "oom" fills the heap until the JVM throws a real OutOfMemoryError;
 * "exit1" fails at once.
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
            default -> serve(started, args);
        }
    }

    private static void exhaustHeap() {
        List<long[]> hoard = new ArrayList<>();
        while (true) {
            hoard.add(new long[1 << 16]);
        }
    }

    private static void serve(long started, String[] args) throws Exception {
        if (!eulaAccepted()) {
            info("You need to agree to the EULA in order to run the server. Go to eula.txt for more info.");
            System.exit(1);
        }
        int port = portFrom(args);
        if (port > 0) {
            ServerSocket listener = new ServerSocket();
            try {
                listener.bind(new InetSocketAddress("0.0.0.0", port));
            } catch (IOException e) {
                System.err.println("[" + now() + " WARN]: **** FAILED TO BIND TO PORT! " + e.getMessage());
                System.exit(1);
            }
            info("Starting Minecraft server on *:" + port);
            Thread pinger = new Thread(() -> acceptPings(listener, maxPlayers()), "server-list-ping");
            pinger.setDaemon(true);
            pinger.start();
        }
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

    private static boolean eulaAccepted() {
        Path eula = Path.of("eula.txt");
        try {
            return Files.exists(eula)
                    && Files.readAllLines(eula, StandardCharsets.UTF_8).stream()
                            .anyMatch(l -> l.trim().equalsIgnoreCase("eula=true"));
        } catch (IOException e) {
            return false;
        }
    }

    private static int portFrom(String[] args) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("--port")) return Integer.parseInt(args[i + 1]);
        }
        return -1;
    }

    private static int maxPlayers() {
        Path props = Path.of("server.properties");
        try {
            if (Files.exists(props)) {
                for (String line : Files.readAllLines(props, StandardCharsets.UTF_8)) {
                    if (line.startsWith("max-players=")) return Integer.parseInt(line.substring(12).trim());
                }
            }
        } catch (IOException | NumberFormatException e) {
            // fall through to Paper's default
        }
        return 20;
    }

    /** The Server List Ping: handshake, status request → JSON, ping → the same long back. */
    private static void acceptPings(ServerSocket listener, int max) {
        while (true) {
            try (Socket socket = listener.accept()) {
                socket.setSoTimeout(5000);
                DataInputStream in = new DataInputStream(socket.getInputStream());
                DataOutputStream out = new DataOutputStream(socket.getOutputStream());
                readVarInt(in); // handshake length
                if (readVarInt(in) != 0) continue;
                int protocol = readVarInt(in);
                in.readNBytes(readVarInt(in)); // host
                in.readUnsignedShort();
                if (readVarInt(in) != 1) continue; // only status, no login
                readVarInt(in); // status request length
                readVarInt(in); // id 0
                String json = "{\"version\":{\"name\":\"Paper 1.21.4\",\"protocol\":" + protocol + "},"
                        + "\"players\":{\"max\":" + max + ",\"online\":0,\"sample\":[]},"
                        + "\"description\":{\"text\":\"A PrexorCloud test server\"}}";
                ByteArrayOutputStream body = new ByteArrayOutputStream();
                writeVarInt(body, 0);
                byte[] text = json.getBytes(StandardCharsets.UTF_8);
                writeVarInt(body, text.length);
                body.write(text);
                sendPacket(out, body.toByteArray());
                readVarInt(in); // ping length
                if (readVarInt(in) != 1) continue;
                long payload = in.readLong();
                ByteArrayOutputStream pong = new ByteArrayOutputStream();
                writeVarInt(pong, 1);
                new DataOutputStream(pong).writeLong(payload);
                sendPacket(out, pong.toByteArray());
            } catch (IOException e) {
                if (listener.isClosed()) return;
            }
        }
    }

    private static void sendPacket(DataOutputStream out, byte[] packet) throws IOException {
        ByteArrayOutputStream framed = new ByteArrayOutputStream();
        writeVarInt(framed, packet.length);
        framed.write(packet);
        out.write(framed.toByteArray());
        out.flush();
    }

    private static int readVarInt(DataInputStream in) throws IOException {
        int value = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            int b = in.readUnsignedByte();
            value |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) return value;
        }
        throw new IOException("VarInt too long");
    }

    private static void writeVarInt(ByteArrayOutputStream out, int value) {
        while ((value & ~0x7f) != 0) {
            out.write((value & 0x7f) | 0x80);
            value >>>= 7;
        }
        out.write(value);
    }

    private static void info(String message) {
        System.out.println("[" + now() + " INFO]: " + message);
    }

    private static String now() {
        return LocalTime.now().format(CLOCK);
    }
}
