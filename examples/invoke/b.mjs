// App "b": answers GET /hello; GET /flaky fails twice (503) and succeeds on the third call, over
// and over, as a callee with a transient fault does. Plain Node.
import { createServer } from 'node:http';

const port = Number(process.env.APP_PORT ?? 3002);
let flakyCalls = 0;

const server = createServer((req, res) => {
  if (req.url === '/hello') return res.end('hello from b\n');
  if (req.url === '/flaky') {
    flakyCalls++;
    if (flakyCalls % 3 !== 0) {
      res.statusCode = 503;
      return res.end(`b is flaky: call ${flakyCalls} fails\n`);
    }
    return res.end(`b answered on call ${flakyCalls}\n`);
  }
  res.statusCode = 404;
  res.end(`b has no ${req.url}\n`);
});
server.listen(port, '127.0.0.1', () => console.log(`app b listening on 127.0.0.1:${server.address().port}`));
