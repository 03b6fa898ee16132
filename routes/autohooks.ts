import type { FastifyInstance } from 'fastify'

declare module 'fastify' {
  interface FastifyContextConfig {
    public?: boolean
  }
}

// Every relay route authenticates first, before its body is parsed or validated.
export default async function autohooks (fastify: FastifyInstance) {
  fastify.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.public === true) return
    request.credentials = await fastify.authenticate(request)
  })
}
