// The start-up yardsticks of `npm run bench`: BENCH_FLOOR=design is what any relay of this design
// must load (Fastify 5 with @fastify/swagger, @fastify/swagger-ui and @fastify/jwt; undici and
// TypeBox imported); BENCH_FLOOR=bare is Fastify with one route. Both answer POST /version.
import Fastify from 'fastify'

const server = Fastify({ logger: false })
if (process.env.BENCH_FLOOR === 'design') {
  await import('undici')
  const { Type } = await import('@sinclair/typebox')
  await server.register((await import('@fastify/swagger')).default, { openapi: { info: { title: 'floor', version: '1.0.0' } } })
  await server.register((await import('@fastify/swagger-ui')).default, { routePrefix: '/docs' })
  await server.register((await import('@fastify/jwt')).default, { secret: 'floor-secret-0123456789abcdef' })
  server.post('/version', { schema: { response: { 200: Type.Object({ version: Type.String() }) } } }, async () => ({ version: '1.0.0' }))
} else {
  server.post('/version', async () => ({ version: '1.0.0' }))
}
await server.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
process.on('SIGTERM', () => server.close().then(() => process.exit(0)))
