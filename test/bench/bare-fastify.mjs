// The yardstick of start.bench.ts: a bare fastify process serving one route on the port given
// as its argument. Plain JavaScript, as an app runs it: nothing to strip of types.
import Fastify from 'fastify';

const app = Fastify();
app.get('/v1.0/healthz', (_request, reply) => reply.code(204).send());
await app.listen({ port: Number(process.argv[2]), host: '127.0.0.1' });
