// The baseline the proxy is measured against: a bare node:http + undici pass-through with no
// accounting, metrics or limits, and a pool large enough that no request waits for a
// connection. Usage: node bench/bare-passthrough.mjs <port> <upstream origin>
import { createServer } from 'node:http';
import { Pool } from 'undici';

const [port, origin] = process.argv.slice(2);
const pool = new Pool(origin, { connections: 1024, pipelining: 1 });

createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    try {
      const body = Buffer.concat(chunks);
      const headers = { ...req.headers };
      delete headers.host;
      delete headers.connection;
      const up = await pool.request({ path: req.url, method: req.method, headers, body: body.length ? body : undefined });
      const out = { ...up.headers };
      delete out.connection;
      delete out['keep-alive'];
      delete out['transfer-encoding'];
      res.writeHead(up.statusCode, out);
      for await (const chunk of up.body) res.write(chunk);
      res.end();
    } catch {
      res.writeHead(502).end();
    }
  });
}).listen(Number(port), '127.0.0.1', () => console.log(`bare pass-through on ${port}`));
