import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import type { Page } from 'playwright-core'
import { ROOT, spawnTs } from '../helper.js'
import { PROGRAMS, withPrograms } from '../system.js'
import { launchChromium } from './browser.js'

const TYPES = ['domain', 'file_name', 'file_path', 'ip', 'ipv6', 'md5', 'mutex', 'sha256']

// As a person would: the demo, /docs in Debian's chromium, Authorize with the JWT the demo
// printed, "Try it out" with the pre-filled example, Execute, and read the rendered answer.
withPrograms(t, [PROGRAMS.chromium], '/docs in demo mode: Authorize, then observe and refer from Swagger UI', async (t, paths) => {
  const demo = spawnTs(t, 'scripts/demo.ts', { PORT: '0', DEMO_QUALYS_PORT: '0', LOG_LEVEL: 'warn' })
  const [, url] = await demo.waitFor(/^URL=(\S+)$/m)
  const [, jwt] = await demo.waitFor(/^JWT=(\S+)$/m)

  const browser = await launchChromium(t, paths.chromium)
  const page = await browser.newPage({ viewport: { width: 1280, height: 1800 } })
  await page.goto(`${url}/docs`)
  await page.waitForSelector('.opblock', { timeout: 30000 })

  await page.locator('.auth-wrapper .authorize').click()
  const modal = page.locator('.modal-ux')
  t.match(await modal.textContent(), /npm run demo/, 'the scheme explains where the token comes from')
  await modal.locator('#auth-bearer-value').fill(jwt as string)
  await modal.getByRole('button', { name: 'Apply credentials' }).click()
  await modal.locator('button.btn-done').click()

  async function tryIt (route: string): Promise<{ body: any, block: ReturnType<Page['locator']> }> {
    const block = page.locator('.opblock', { has: page.locator(`[data-path="${route}"]`) })
    await block.locator('.opblock-summary').click()
    await block.getByRole('button', { name: 'Try it out' }).click()
    const editor = block.locator('textarea.body-param__text')
    t.match(await editor.inputValue(), /"type": "ipv6"/, `${route}: the body is pre-filled with the demo's observables`)
    await block.getByRole('button', { name: 'Execute' }).click()
    const rendered = block.locator('.live-responses-table .response-col_description pre').first()
    await rendered.waitFor({ timeout: 30000 })
    const status = await block.locator('.live-responses-table tbody .response-col_status').first().textContent()
    t.match(status, /^\s*200\b/, `${route}: HTTP 200`)
    return { body: JSON.parse(await rendered.textContent() ?? 'null'), block }
  }

  const observed = await tryIt('/observe/observables')
  t.notOk(observed.body.errors, 'observe: no errors (the token was sent)')
  const types = new Set(observed.body.data.sightings.docs.map((d: { observables: Array<{ type: string }> }) => d.observables[0]?.type))
  t.same([...types].sort(), TYPES, 'sightings for every supported type, rendered in the browser')
  t.ok(observed.body.data.judgements.count > 0 && observed.body.data.relationships.count > 0)

  const dir = path.join(ROOT, 'artifacts')
  mkdirSync(dir, { recursive: true })
  const file = path.join(dir, 'docs-observe.png')
  rmSync(file, { force: true })
  await observed.block.locator('.live-responses-table').screenshot({ path: file })
  const png = readFileSync(file)
  t.ok(png.length > 1000 && png.subarray(1, 4).toString() === 'PNG', `artifacts/docs-observe.png: a ${png.length}-byte PNG of the rendered answer`)

  const referred = await tryIt('/refer/observables')
  t.equal(referred.body.data.length, TYPES.length, 'refer: a pivot link per observable')
  t.ok(referred.body.data.every((l: { url: string }) => l.url.startsWith(new URL(referred.body.data[0].url).origin)), 'links into the (simulated) Qualys UI')
})
