// A TLS front for the local Temporal dev server (which serves plaintext only): it terminates TLS with the
// stack's server certificate, requires a client certificate from the stack's CA (mTLS, as a self-hosted
// cluster or Temporal Cloud does) and passes the HTTP/2 bytes on to the server unchanged.
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { SERVER_CERT, SERVER_KEY, STACK_CA } from './secure-stack';

export interface MtlsProxy {
  address: string;
  /** Handshakes refused (no client certificate, or one from another CA). */
  refused: () => number;
  close: () => Promise<void>;
}

export async function startMtlsProxy(target: string): Promise<MtlsProxy> {
  const [host, port] = [
    target.slice(0, target.lastIndexOf(':')),
    Number(target.slice(target.lastIndexOf(':') + 1)),
  ];
  const sockets = new Set<net.Socket>();
  let refused = 0;
  const server = tls.createServer(
    {
      key: fs.readFileSync(SERVER_KEY),
      cert: fs.readFileSync(SERVER_CERT),
      ca: [fs.readFileSync(STACK_CA)],
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
    },
    (client) => {
      const upstream = net.connect(port, host);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    },
  );
  server.on('tlsClientError', () => refused++);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    refused: () => refused,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
