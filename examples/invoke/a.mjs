// App "a": answers GET /hello, and GET /ask-b asks app "b" through its own sidecar (the sidecar
// finds b by its app id; the Resiliency file in ./resources guards the call). Plain Node.
import { createServer } from 'node:http';

const port = Number(process.env.APP_PORT ?? 3001);
const sidecar = `http://127.0.0.1:${process.env.DAPR_HTTP_PORT ?? 3500}`;

const server = createServer(async (req, res) => {
  if (req.url === '/hello') return res.end('hello from a\n');
  if (req.url === '/ask-b') {
    const answer = await fetch(`${sidecar}/v1.0/invoke/b/method/hello`).catch((err) => ({ status: 502, text: async () => String(err) }));
    res.statusCode = answer.status;
    return res.end(`b said: ${await answer.text()}`);
  }
  res.statusCode = 404;
  res.end(`a has no ${req.url}\n`);
});
server.listen(port, '127.0.0.1', () => console.log(`app a listening on 127.0.0.1:${server.address().port}`));
