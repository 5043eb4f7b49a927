// A node:test reporter that writes one JSON line of totals when the run ends, so the test
// script adds up results from the runner's own events instead of scraping the spec output.
export default async function* countReporter(source) {
  const totals = { pass: 0, fail: 0, skipped: 0 };
  for await (const { type, data } of source) {
    if (type !== 'test:pass' && type !== 'test:fail') continue;
    if (data.details?.type === 'suite') continue;
    if (data.skip || data.todo) totals.skipped++;
    else if (type === 'test:pass') totals.pass++;
    else totals.fail++;
  }
  yield `${JSON.stringify(totals)}\n`;
}
