// One wrk run (Debian package): requests per second, latency quantiles, errors.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const UNIT_MS = { us: 0.001, ms: 1, s: 1000 };
const ms = (m) => (m ? Number(m[1]) * UNIT_MS[m[2]] : NaN);

/** Writes a wrk script that POSTs `body` (a string) as JSON; returns its path. */
export function wrkScript(name, body) {
  const path = `/tmp/zai-bench-${process.pid}-${name}.lua`;
  const lua = `wrk.method = "POST"\nwrk.body = [==[${body}]==]\nwrk.headers["Content-Type"] = "application/json"\n`;
  writeFileSync(path, lua);
  return path;
}

export function wrk(url, { connections, durationS, script }) {
  const out = execFileSync('wrk', ['-t1', `-c${connections}`, `-d${durationS}s`, '--latency', '-s', script, url], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0),
    p50ms: ms(/50%\s+([\d.]+)(us|ms|s)/.exec(out)),
    p99ms: ms(/99%\s+([\d.]+)(us|ms|s)/.exec(out)),
    errors:
      Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) +
      Number(
        /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/
          .exec(out)
          ?.slice(1)
          .reduce((a, b) => a + Number(b), 0) ?? 0,
      ),
  };
}
