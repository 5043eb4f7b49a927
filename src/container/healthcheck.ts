/**
 * The image's HEALTHCHECK. One image runs either server (`serve`, `dashboard`, or both under
 * `start`), and a health check cannot see the command, so it asks both: healthy when the proxy's
 * `/health` on PORT or the dashboard's `/healthz` on DASHBOARD_PORT answers 2xx within the timeout.
 */
const TIMEOUT_MS = 4_000;

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    return res.ok;
  } catch {
    return false;
  }
}

const proxy = `http://127.0.0.1:${process.env.PORT || 8080}/health`;
const dashboard = `http://127.0.0.1:${process.env.DASHBOARD_PORT || 3000}/healthz`;
const healthy = (await Promise.all([answers(proxy), answers(dashboard)])).some(Boolean);
process.exit(healthy ? 0 : 1);
