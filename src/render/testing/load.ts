import { Agent, get } from 'node:http';

/** One request of the loop: what came back, or why nothing did. */
export interface Outcome {
  /** Order in which requests were started. */
  readonly seq: number;
  readonly status?: number;
  readonly body?: string;
  readonly error?: string;
  /** Connection errors before any response that were retried, as a client may (below). */
  readonly retried: readonly string[];
}

export interface Load {
  /** The seq the next request will get: requests from here on started after this call. */
  mark(): number;
  /** Stops starting requests, waits for those in flight, returns every outcome. */
  stop(): Promise<Outcome[]>;
}

/** Errors of a connection the server closed before sending any of the response. */
const CLOSED_BEFORE_RESPONSE = new Set(['ECONNRESET', 'EPIPE']);

/** How often one GET may be resent after its connection was closed under it. */
const MAX_RETRIES = 2;

/**
 * A steady request loop: `concurrency` clients each sending GET / one after
 * another over keep-alive connections, until stopped.
 *
 * A GET whose connection the server closed before any byte of a response is
 * sent again (at most MAX_RETRIES times), as RFC 9112 §9.3.1 allows for
 * idempotent requests and as Go's net/http and browsers do: an nginx worker
 * that is shutting down after a reload closes its idle keep-alive (and just
 * accepted) connections, and a request already on its way over one is reset.
 * No configuration of nginx 1.22 avoids that (1.27.4 added
 * `keepalive_min_timeout` for it). Retries are recorded so a test can see
 * them; a response that is not 200 is never retried.
 */
export function startLoad(options: { port: number; concurrency: number }): Load {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const outcomes: Outcome[] = [];
  let next = 0;
  let running = true;

  type Attempt =
    | { readonly status: number; readonly body: string }
    | { readonly error: string; readonly closedBeforeResponse: boolean };

  const once = () =>
    new Promise<Attempt>((resolve) => {
      let answered = false;
      const req = get({ host: '127.0.0.1', port: options.port, path: '/', agent }, (res) => {
        answered = true;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', (error) => resolve({ error: error.message, closedBeforeResponse: false }));
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        const reused = req.reusedSocket ? ' (on a reused connection)' : '';
        resolve({
          error: `${error.message}${reused}`,
          closedBeforeResponse: !answered && CLOSED_BEFORE_RESPONSE.has(error.code ?? ''),
        });
      });
      req.setTimeout(5_000, () => req.destroy(new Error('no answer in 5 s')));
    });

  const request = async (seq: number): Promise<Outcome> => {
    const retried: string[] = [];
    for (;;) {
      const attempt = await once();
      if ('status' in attempt) return { seq, ...attempt, retried };
      if (!attempt.closedBeforeResponse || retried.length === MAX_RETRIES) {
        return { seq, error: attempt.error, retried };
      }
      retried.push(attempt.error);
    }
  };

  const client = async () => {
    while (running) outcomes.push(await request(next++));
  };
  const clients = Array.from({ length: options.concurrency }, client);

  return {
    mark: () => next,
    stop: async () => {
      running = false;
      await Promise.all(clients);
      agent.destroy();
      return outcomes.sort((a, b) => a.seq - b.seq);
    },
  };
}
