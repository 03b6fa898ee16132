import { Type, type Static } from '@sinclair/typebox'

// What /health answers (SPEC §1, §12): "ok", the credential's Qualys budget as the relay sees it
// (once any answer carried the rate-limit headers), and a note when Qualys was only logged in to.
export const HealthSchema = Type.Object({
  status: Type.Literal('ok'),
  budget: Type.Optional(Type.Object({
    remaining: Type.Integer({ minimum: 0, description: 'calls left in the window (X-RateLimit-Remaining less the calls sent since)' }),
    limit: Type.Integer({ minimum: 1, description: 'X-RateLimit-Limit' }),
    window_seconds: Type.Optional(Type.Integer({ minimum: 1, description: 'X-RateLimit-Window-Sec' })),
    seen_at: Type.String({ format: 'date-time', description: 'when Qualys last said so' })
  })),
  note: Type.Optional(Type.String())
})

export type Health = Static<typeof HealthSchema>

export const HELD_BACK_NOTE = 'Qualys was logged in to but not searched: the API budget is at its reserve for investigations (QUALYS_BUDGET_RESERVE).'
