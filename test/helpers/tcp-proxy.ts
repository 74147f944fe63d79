// A TCP proxy in front of a real server, for tests of a connection that
// dies without a word: `silence(marker)` makes every connection whose client
// has sent `marker` (such as "LISTEN") stop hearing from the server, while
// the socket stays open and the client's bytes still go through, as when a
// network drops packets one way or a server-side session hangs. Other
// connections are untouched.
import { once } from "node:events";
import { connect, createServer, type Socket } from "node:net";

export interface SilencingProxy {
  port: number;
  /** From now on, connections whose client sent `marker` get nothing more from the server. */
  silence(marker: string): void;
  /** How many connections are silenced now. */
  silenced(): number;
  close(): Promise<void>;
}

interface Link {
  client: Socket;
  upstream: Socket;
  /** Everything the client sent so far, kept only until a marker is asked for. */
  sent: string;
  mute: boolean;
}

export async function silencingProxy(host: string, port: number): Promise<SilencingProxy> {
  const links = new Set<Link>();
  let marker: string | null = null;

  const server = createServer((client) => {
    const upstream = connect({ host, port });
    const link: Link = { client, upstream, sent: "", mute: false };
    links.add(link);

    client.on("data", (data: Buffer) => {
      if (!link.mute) {
        link.sent = (link.sent + data.toString("latin1")).slice(-4096);
        if (marker !== null && link.sent.includes(marker)) link.mute = true;
      }
      upstream.write(data);
    });
    upstream.on("data", (data: Buffer) => {
      if (!link.mute) client.write(data);
    });

    const end = () => {
      links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on("error", end);
      socket.on("close", end);
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("proxy has no port");

  return {
    port: address.port,
    silence(text) {
      marker = text;
      for (const link of links) if (link.sent.includes(text)) link.mute = true;
    },
    silenced: () => [...links].filter((link) => link.mute).length,
    async close() {
      for (const link of links) {
        link.client.destroy();
        link.upstream.destroy();
      }
      server.close();
      await once(server, "close");
    },
  };
}
