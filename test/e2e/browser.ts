import { chromium, type Browser } from 'playwright-core'

// Debian's chromium, headless, driven by playwright-core. Without the background-networking
// flags chromium keeps dialling Google's hosts, which this closed network refuses.
export async function launchChromium (t: { teardown: (fn: () => unknown) => void }, executablePath: string | undefined): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic']
  })
  t.teardown(() => browser.close())
  return browser
}
