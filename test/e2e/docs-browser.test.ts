import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import t from 'tap'
import { build, ROOT } from '../helper.js'
import { PROGRAMS, withPrograms } from '../system.js'
import { launchChromium } from './browser.js'

// Debian's chromium, headless, driven by playwright-core: Swagger UI as a user sees it.
withPrograms(t, [PROGRAMS.chromium], '/docs in a real browser lists every route, and Try it out on /version works', async (t, paths) => {
  const { app } = await build(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`

  const browser = await launchChromium(t, paths.chromium)
  const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } })
  await page.goto(`${url}/docs`)
  await page.waitForSelector('.opblock', { timeout: 30000 })

  const operations = await page.$$eval('.opblock', (blocks) => blocks.map((b) =>
    `${b.querySelector('.opblock-summary-method')?.textContent} ${b.querySelector('.opblock-summary-path')?.getAttribute('data-path')}`))
  t.same(operations.sort(), [
    'GET /watchdog', 'POST /deliberate/observables', 'POST /health', 'POST /observe/observables', 'POST /refer/observables',
    'POST /respond/observables', 'POST /respond/trigger', 'POST /tiles', 'POST /tiles/tile', 'POST /tiles/tile-data', 'POST /version'
  ])

  const version = page.locator('.opblock', { has: page.locator('[data-path="/version"]') })
  await version.locator('.opblock-summary').click()
  await version.getByRole('button', { name: 'Try it out' }).click()
  await version.getByRole('button', { name: 'Execute' }).click()
  const body = version.locator('.live-responses-table .response-col_description pre').first()
  await body.waitFor({ timeout: 15000 })
  t.match(await body.textContent(), /"version":\s*"2\.0\.0"/, 'the response body shows the version')

  const dir = path.join(ROOT, 'artifacts')
  mkdirSync(dir, { recursive: true })
  const file = path.join(dir, 'docs.png')
  rmSync(file, { force: true })
  await page.screenshot({ path: file, fullPage: false })
  const png = readFileSync(file)
  t.ok(png.length > 1000, `artifacts/docs.png holds ${png.length} bytes`)
  t.same([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'and is a PNG')
})
