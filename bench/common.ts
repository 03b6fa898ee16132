// What the benchmark scripts share: waiting for a relay they started, and order statistics.
import { request, type Dispatcher } from 'undici'

// Resolves once the relay at `url` answers POST /version (it was just spawned); ~20 s at most.
export async function relayUp (url: string, dispatcher?: Dispatcher): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await (await request(`${url}/version`, { method: 'POST', dispatcher })).body.dump()
      return
    } catch (err) {
      if (i > 200) throw err
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

export const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] as number }
export const percentile = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(s.length * p))] as number }
