/** Console tails as a Paper/Velocity instance prints them (written for these tests). */

export const paperOomTail = (instanceId: string, clock: string, copyOfLine: number) => [
  `[${clock}:11 INFO]: [LobbyCore] Saved 212 player profiles`,
  `[${clock}:41 ERROR]: Encountered an unexpected exception`,
  "java.lang.OutOfMemoryError: Java heap space",
  `\tat java.base/java.util.Arrays.copyOf(Arrays.java:${copyOfLine})`,
  "\tat java.base/java.io.ByteArrayOutputStream.ensureCapacity(ByteArrayOutputStream.java:100)",
  "\tat net.minecraft.network.FriendlyByteBuf.writeBytes(FriendlyByteBuf.java:1462) ~[paper-1.21.4.jar:1.21.4-232-12fa3a1]",
  "\tat net.minecraft.server.MinecraftServer.tickServer(MinecraftServer.java:1589) ~[paper-1.21.4.jar:1.21.4-232-12fa3a1]",
  "\tat net.minecraft.server.MinecraftServer.runServer(MinecraftServer.java:1285) ~[paper-1.21.4.jar:1.21.4-232-12fa3a1]",
  "\tat java.base/java.lang.Thread.run(Thread.java:1583) ~[?:?]",
  `[${clock}:41 ERROR]: This crash report has been saved to: /srv/prexor/instances/${instanceId}/crash-reports/crash-2026-11-23_14.02.41-server.txt`,
  `[${clock}:42 INFO]: Stopping server`,
];

export const nettyThreadOomTail = [
  "[09:12:00] [Server thread/INFO]: Preparing spawn area: 100%",
  'Exception in thread "Netty Epoll Server IO #3" java.lang.OutOfMemoryError: Java heap space',
  "\tat java.base/java.nio.HeapByteBuffer.<init>(HeapByteBuffer.java:71)",
];

export const jvmNativeOomTail = [
  "#",
  "# There is insufficient memory for the Java Runtime Environment to continue.",
  "# Native memory allocation (mmap) failed to map 2147483648 bytes for committing reserved memory.",
  "# An error report file with more information is saved as:",
  "# /srv/prexor/instances/lobby-1/hs_err_pid48211.log",
];

export const paperBindTail = [
  "[10:15:02 INFO]: Loading properties",
  "[10:15:03 INFO]: Starting Minecraft server on *:30002",
  "[10:15:03 INFO]: Using epoll channel type",
  "[10:15:03 WARN]: **** FAILED TO BIND TO PORT!",
  "[10:15:03 WARN]: The exception was: io.netty.channel.unix.Errors$NativeIoException: bind(..) failed: Address already in use",
  "[10:15:03 WARN]: Perhaps a server is already running on that port?",
  "[10:15:03 INFO]: Stopping server",
];

export const velocityBindTail = [
  "[10:20:11 INFO]: Booting up Velocity 3.4.0-SNAPSHOT (git-6a4e4d7e-b465)...",
  "[10:20:12 ERROR]: Couldn't bind to 0.0.0.0/0.0.0.0:25577",
  "java.net.BindException: Address already in use",
];

export const unsupportedJavaTail = [
  "Error: LinkageError occurred while loading main class io.papermc.paperclip.Main",
  "\tjava.lang.UnsupportedClassVersionError: io/papermc/paperclip/Main has been compiled by a more recent version of the Java Runtime (class file version 65.0), this version of the Java Runtime only recognizes class file versions up to 61.0",
];

export const paperJavaCheckTail = [
  "Unsupported Java detected (61.0). This version of Minecraft requires at least Java 21. Check your Java version with the command 'java -version'.",
];

export const corruptJarTail = ["Error: Invalid or corrupt jarfile server.jar"];
export const missingJarTail = ["Error: Unable to access jarfile server.jar"];

export const paperWatchdogTail = (pid: number) => [
  "[18:40:12 ERROR]: ------------------------------",
  "[18:40:12 ERROR]: The server has stopped responding! This is (probably) not a Paper bug.",
  "[18:40:12 ERROR]: If you see a plugin in the Server thread dump below, then please report it to that author",
  "[18:40:12 ERROR]: Paper has not responded for 60 seconds, therefore it will be killed",
  "[18:40:12 ERROR]: ------------------------------",
  "[18:40:12 ERROR]: Server thread dump (Look for plugins here before reporting to Paper!):",
  "[18:40:12 ERROR]: Current Thread: Server thread",
  `[18:40:12 ERROR]: \tPID: ${pid} | Suspended: false | Native: false | State: TIMED_WAITING`,
  "[18:40:12 ERROR]: \tStack:",
  "[18:40:12 ERROR]: \t\tjava.base@21.0.5/java.lang.Thread.sleep0(Native Method)",
  "[18:40:12 ERROR]: \t\tcom.example.shop.ShopPlugin.loadPrices(ShopPlugin.java:88)",
];

export const pluginEnableTail = [
  "[09:00:01 INFO]: [Shopkeeper] Enabling Shopkeeper v2.3.1",
  "[09:00:01 ERROR]: Error occurred while enabling Shopkeeper v2.3.1 (Is it up to date?)",
  'java.lang.NullPointerException: Cannot invoke "org.bukkit.configuration.ConfigurationSection.getKeys(boolean)" because "section" is null',
  "\tat com.example.shopkeeper.ShopkeeperPlugin.onEnable(ShopkeeperPlugin.java:57) ~[Shopkeeper-2.3.1.jar:?]",
  "\tat org.bukkit.plugin.java.JavaPlugin.setEnabled(JavaPlugin.java:288) ~[paper-api-1.21.4-R0.1-SNAPSHOT.jar:?]",
];

export const legacyPluginTail = [
  "[12:00:00 ERROR]: Could not load 'plugins/LegacyChat.jar' in folder 'plugins'",
  "org.bukkit.plugin.InvalidPluginException: java.lang.NoClassDefFoundError: org/bukkit/craftbukkit/v1_8_R3/entity/CraftPlayer",
  "\tat org.bukkit.plugin.java.JavaPluginLoader.loadPlugin(JavaPluginLoader.java:152) ~[paper-api-1.21.4.jar:?]",
  "Caused by: java.lang.ClassNotFoundException: org.bukkit.craftbukkit.v1_8_R3.entity.CraftPlayer",
  "\tat java.base/java.net.URLClassLoader.findClass(URLClassLoader.java:445) ~[?:?]",
];

export const stackOverflowTail = (depthLine: number) => [
  '[11:11:11 ERROR]: Exception in thread "Server thread"',
  "java.lang.StackOverflowError: null",
  "\tat com.example.portal.PortalListener.onTeleport(PortalListener.java:42)",
  `\tat com.example.portal.PortalListener.onTeleport(PortalListener.java:${depthLine})`,
];

export const genericExceptionTail = (instanceId: string, lockHash: string) => [
  '[08:00:00 INFO]: Done preparing level "world" (2.345s)',
  '[08:00:05 ERROR]: Exception in thread "main" java.lang.RuntimeException: failed to start world',
  "\tat com.example.worlds.Boot.start(Boot.java:31)",
  `Caused by: java.lang.IllegalStateException: /data/instances/${instanceId}/world/session.lock held by com.example.worlds.Lock@${lockHash}`,
  "\tat com.example.worlds.Lock.acquire(Lock.java:77) ~[Worlds-1.2.jar:?]",
  "\tat com.example.worlds.Boot.start(Boot.java:29) ~[Worlds-1.2.jar:?]",
];
