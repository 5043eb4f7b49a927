// Writes deploy/grafana/zai-proxy.json from src/monitoring/grafana-dashboard.ts.
// Run after changing a panel: node --import tsx deploy/grafana/generate.ts
// (test/deploy/grafana.test.ts fails while the file and the builder disagree).
import { writeFileSync } from 'node:fs';
import { buildGrafanaDashboard } from '../../src/monitoring/grafana-dashboard.js';

const target = new URL('./zai-proxy.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(buildGrafanaDashboard(), null, 2)}\n`);
process.stdout.write(`wrote ${target.pathname}\n`);
