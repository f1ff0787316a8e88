// A tiny scripted HTTP server for the client's unit tests: each request is recorded, then
// answered by a function that returns a reply or a transport misbehaviour.
import { type IncomingHttpHeaders, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export type StubReply =
  | { readonly status?: number; readonly headers?: Record<string, string>; readonly body?: string | object }
  /** Never answers (until the server closes). */
  | { readonly action: 'hang' }
  /** Drops the connection without an answer. */
  | { readonly action: 'reset' }
  /** Sends the status and part of a longer body, then drops the connection. */
  | { readonly action: 'partial'; readonly status?: number; readonly body: string };

export interface StubServer {
  readonly url: string;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startStubServer(reply: (request: RecordedRequest) => StubReply): Promise<StubServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(recorded);
      const answer = reply(recorded);
      if ('action' in answer) {
        if (answer.action === 'reset') req.socket.destroy();
        if (answer.action === 'partial') {
          res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', 'content-length': String(answer.body.length * 2) });
          res.write(answer.body, () => req.socket.destroy());
        }
        return;
      }
      const body = typeof answer.body === 'string' ? answer.body : answer.body === undefined ? '' : JSON.stringify(answer.body);
      const type = typeof answer.body === 'object' ? 'application/json' : 'text/plain';
      res.writeHead(answer.status ?? 200, { 'content-type': type, ...answer.headers });
      res.end(body);
    });
  });
  server.unref();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
