// Runs one autocannon load in its own process (so the load generator does not share an
// event loop with the servers under test) and prints the result summary as JSON.
import autocannon from 'autocannon';

const [url, method, body, seconds, connections] = process.argv.slice(2);
const result = await autocannon({
  url: url!,
  method: method as 'GET' | 'POST',
  ...(body ? { body, headers: { 'content-type': 'application/json' } } : {}),
  duration: Number(seconds),
  connections: Number(connections),
  pipelining: 1,
});
process.stdout.write(
  JSON.stringify({
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
    total: result.requests.total,
  }),
);
