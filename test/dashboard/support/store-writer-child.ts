// Child process for the kill -9 test: writes one round every few ms until killed.
import { HistoryStore } from '../../../src/dashboard/store/history-store.js';
import { snapshotAt } from './snapshots.js';

const [path] = process.argv.slice(2);
const store = HistoryStore.open(path!, { retentionMs: { '5s': 1e12, '1m': 1e12, '1h': 1e12 } });
let ts = 5_000;
const writeOne = () => {
  store.write([snapshotAt(ts, 'stable', 5), snapshotAt(ts, 'canary', 5)]);
  process.stdout.write(`${ts}\n`);
  ts += 5_000;
};
const timer = setInterval(writeOne, 2);
setTimeout(() => clearInterval(timer), 60_000).unref();
