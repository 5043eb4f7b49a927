import http from 'node:http';

export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

/** A minimal SSE reader over node:http that records events and comments; bounded waits only. */
export function openSse(url: string, headers: Record<string, string> = {}) {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  let status = 0;
  let resHeaders: http.IncomingHttpHeaders = {};
  let ended = false;
  const req = http.get(url, { headers: { accept: 'text/event-stream', ...headers } });
  const ready = new Promise<void>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      status = res.statusCode ?? 0;
      resHeaders = res.headers;
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let at: number;
        while ((at = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          const e: SseEvent = { event: 'message', data: '' };
          let isEvent = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line);
            else if (line.startsWith('event: ')) {
              e.event = line.slice(7);
              isEvent = true;
            } else if (line.startsWith('id: ')) e.id = line.slice(4);
            else if (line.startsWith('data: ')) {
              e.data = line.slice(6);
              isEvent = true;
            }
          }
          if (isEvent) events.push(e);
        }
      });
      res.on('close', () => (ended = true));
      resolve();
    });
  });
  const waitFor = async <T>(check: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = check();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return {
    ready,
    events,
    comments,
    status: () => status,
    headers: () => resHeaders,
    ended: () => ended,
    waitFor,
    close: () => req.destroy(),
  };
}
