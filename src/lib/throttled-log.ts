/**
 * Counts failures of a side task (metrics, accounting) and says whether this one should be
 * logged: the first ten, then every thousandth, so a persistent fault is visible without
 * flooding the log from the request path.
 */
export class FailureCounter {
  count = 0;

  /** Records one failure; true when it should be logged. */
  record(): boolean {
    this.count++;
    return this.count <= 10 || this.count % 1000 === 0;
  }
}
