import java.lang.reflect.Field;

import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * Starts DynamoDB Local bound to 127.0.0.1 only.
 *
 * DynamoDB Local has no host option and its Jetty server listens on every interface, so we build the server
 * through its own command-line entry point, rebind the Jetty connectors to loopback before they open, then start it.
 * Arguments are passed through (-port, -inMemory, -dbPath, -sharedDb, -disableTelemetry, ...), except that
 * "-port 0" is accepted and means "let the kernel pick a free port" (DynamoDB Local itself rejects 0).
 *
 * Protocol with the Node parent (lib/local/emulators/dynamodb-local.ts):
 *   - prints exactly one line "LISTENING 127.0.0.1:<port>" on stdout once the socket is open;
 *   - exits when stdin reaches end-of-file, so the server dies with its parent even if the parent was SIGKILLed.
 */
public final class LoopbackDynamoDb {
    private static final String HOST = "127.0.0.1";

    private LoopbackDynamoDb() {}

    public static void main(String[] args) throws Exception {
        watchParent();

        boolean ephemeralPort = false;
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("-port") && args[i + 1].equals("0")) {
                // Any valid number satisfies the parser; the connector is switched to port 0 below, before it binds.
                args[i + 1] = "8000";
                ephemeralPort = true;
            }
        }

        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        if (proxy == null) {
            // -help / -version: nothing to serve.
            return;
        }

        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Server jetty = (Server) field.get(proxy);

        Connector[] connectors = jetty.getConnectors();
        if (connectors.length == 0) {
            fail("DynamoDB Local exposed no Jetty connectors; refusing to start");
        }
        for (Connector connector : connectors) {
            // Refuse rather than risk listening on all interfaces with a connector type we do not know how to rebind.
            if (!(connector instanceof ServerConnector serverConnector)) {
                fail("unexpected Jetty connector " + connector.getClass().getName() + "; refusing to start");
                return;
            }
            serverConnector.setHost(HOST);
            if (ephemeralPort) {
                serverConnector.setPort(0);
            }
        }

        proxy.start();

        ServerConnector first = (ServerConnector) connectors[0];
        // Read the port back: with -port 0 the kernel picks it.
        System.out.println("LISTENING " + HOST + ":" + first.getLocalPort());
        System.out.flush();

        proxy.join();
    }

    /** The parent holds the write end of our stdin pipe; EOF means it is gone, so we go too. */
    private static void watchParent() {
        Thread watcher = new Thread(() -> {
            try {
                byte[] buffer = new byte[256];
                while (System.in.read(buffer) != -1) {
                    // Input is ignored; we only care about the pipe closing.
                }
            } catch (Exception ignored) {
                // A broken stdin is as good as EOF.
            }
            System.exit(0);
        }, "parent-watch");
        watcher.setDaemon(true);
        watcher.start();
    }

    private static void fail(String message) {
        System.err.println("LoopbackDynamoDb: " + message);
        System.exit(2);
    }
}
