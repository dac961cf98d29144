// Waits, bounded in time, for a condition the code under test makes true by itself (a timer, a
// write loop): polls every `everyMs`, throws when `ms` pass first.
export async function until(cond: () => boolean, ms = 5000, everyMs = 5): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
