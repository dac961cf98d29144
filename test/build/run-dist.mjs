// Runs the compiled CLI (dist/cli/main.js) in plain Node, no loader at all, whatever the stamp says:
// test/build/dist.test.ts's proof that dist/ runs by itself (bin/polyprov's choice is tested apart).
const { main } = await import(new URL('../../dist/cli/main.js', import.meta.url).href);
process.exitCode = await main(process.argv);
