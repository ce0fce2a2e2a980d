/** In-container Worker runtime (bundled for Node >= 18). Filled in by the agents/gateway issue. */
process.stderr.write('factory worker runtime: not yet implemented\n');
process.exitCode = 2;
