import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { VERSION } from '../../lib/version.js'
import { frameworkErrors } from '../../schemas/envelope.js'

const plugin: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/', {
    config: { public: true },
    schema: {
      tags: ['Operations'],
      summary: 'The relay version (no authentication)',
      response: { 200: Type.Object({ version: Type.String() }, { examples: [{ version: VERSION }] }), ...frameworkErrors }
    }
  }, async () => ({ version: VERSION }))
}

export default plugin
