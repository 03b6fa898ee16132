// The relay as the benchmark runs it: the compiled app (or the sources, for the smoke test), the
// production server options, plus one bare Fastify route in the same process as the ceiling.
import Fastify from 'fastify'
import fp from 'fastify-plugin'

const { default: app, serverOptions } = await import(process.env.BENCH_APP ?? '../dist/app.js')
const { options, compilers } = serverOptions()
const server = Fastify({ ...options, logger: { level: process.env.LOG_LEVEL ?? 'info' } })
await server.register(fp(app), { compilers })
const bare = JSON.stringify({ data: Array.from({ length: 5 }, (_, i) => ({ id: `ref-${i}`, title: 't', description: 'd', url: 'https://x', categories: ['Search', 'Qualys'] })) })
server.post('/bench/bare', async (request, reply) => reply.type('application/json').send(bare))
await server.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
console.log(`listening ${server.server.address().port}`)
process.on('SIGTERM', () => server.close().then(() => process.exit(0)))
