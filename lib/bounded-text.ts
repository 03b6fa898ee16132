import type { Readable } from 'node:stream'

// A response body as text, read to its end unless it grows past `max` bytes: then the stream is
// destroyed and `tooLarge()` thrown (an upstream answer must not fill the relay's memory).
export async function boundedText (body: Readable, max: number, tooLarge: () => Error): Promise<string> {
  let size = 0
  const chunks: Buffer[] = []
  for await (const chunk of body) {
    size += (chunk as Buffer).length
    if (size > max) {
      body.destroy()
      throw tooLarge()
    }
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}
