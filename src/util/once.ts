// A function that does its work the first time it is called and nothing after: a release handed to
// a reader, which a careless caller may call twice (shared-reads.ts, the TFTP shared content).
export function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
