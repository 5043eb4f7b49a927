// A process writing log lines through a LogDestination on its stdout, for
// test/log/destination.test.ts. Usage: destination-child.ts <mode> <lines> <line bytes> [maxWrite]
//   exit:  queues every line, then process.exit() on the same turn (the exit hook must write them)
//   batch: writes the lines as byte batches of 50 lines, waits for each to drain, ends the destination
//   lose:  like batch to a stdout whose reader is gone; reports lostBytes on stderr
import { LogDestination, PIPE_BUF } from '../../../src/log/destination.js';

const [mode, lines, size, maxWrite] = process.argv.slice(2);
const dest = new LogDestination(1, Number(maxWrite ?? PIPE_BUF));
const line = (i: number) => {
  const head = `{"pid":${process.pid},"i":${i},"pad":"`;
  return `${head}${'x'.repeat(Math.max(0, Number(size) - head.length - 3))}"}\n`;
};

if (mode === 'exit') {
  for (let i = 0; i < Number(lines); i++) dest.write(line(i));
  process.exit(0);
}

for (let i = 0; i < Number(lines); i += 50) {
  let text = '';
  for (let j = i; j < Math.min(i + 50, Number(lines)); j++) text += line(j);
  if (!dest.writeBytes(Buffer.from(text))) await new Promise((r) => dest.once('drain', r));
}
dest.end();
await new Promise((r) => dest.once('close', r));
if (mode === 'lose') process.stderr.write(`lost ${dest.lostBytes}\n`);
