// The benchmark's markdown table and SVG chart (latency against the number of observables).
import type { ScenarioResult } from './budget-scenario.js'
import type { budgetRow } from './budget.js'
import type { ContainerRow } from './container.js'

export interface LatencyRow {
  series: string
  observables: number
  medianMs: number
  p90Ms: number
  p99Ms: number
  qualysCalls: number
  referenceMs: number
  referenceCalls: number
}

export function svgChart (rows: LatencyRow[], latencyMs: number): string {
  const W = 640; const H = 360; const L = 70; const B = 50; const T = 30; const R = 170
  const xs = [...new Set(rows.map((r) => r.observables))].sort((a, b) => a - b)
  const maxY = Math.max(...rows.map((r) => Math.max(r.medianMs, r.referenceMs)))
  const x = (n: number) => L + (W - L - R) * (xs.indexOf(n) / Math.max(1, xs.length - 1))
  const y = (ms: number) => T + (H - T - B) * (1 - Math.log10(Math.max(1, ms)) / Math.log10(maxY * 1.2))
  const series: Array<[string, string, (r: LatencyRow) => number, string]> = [
    ['reference relay (computed)', '#999', (r) => r.referenceMs, 'sha256'],
    ['this relay: sha256', '#d62728', (r) => r.medianMs, 'sha256'],
    ['this relay: mixed types', '#1f77b4', (r) => r.medianMs, 'mixed']
  ]
  const lines = series.map(([label, color, value, name], i) => {
    const pts = rows.filter((r) => r.series === name).map((r) => `${x(r.observables).toFixed(1)},${y(value(r)).toFixed(1)}`)
    return `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.join(' ')}"/>` +
      pts.map((p) => `<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="3" fill="${color}"/>`).join('') +
      `<text x="${W - R + 10}" y="${T + 20 + i * 20}" fill="${color}" font-size="12">${label}</text>`
  })
  const ticks = [10, 100, 1000, 10000].filter((v) => v <= maxY * 1.2)
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${L}" y="18" font-size="13">/observe median latency (ms, log scale), Qualys latency ${latencyMs} ms per call</text>
<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#333"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#333"/>
${xs.map((n) => `<text x="${x(n)}" y="${H - B + 18}" font-size="11" text-anchor="middle">${n}</text>`).join('')}
<text x="${(L + W - R) / 2}" y="${H - 12}" font-size="12" text-anchor="middle">distinct observables per request</text>
${ticks.map((v) => `<text x="${L - 6}" y="${y(v) + 4}" font-size="11" text-anchor="end">${v}</text><line x1="${L}" y1="${y(v)}" x2="${W - R}" y2="${y(v)}" stroke="#eee"/>`).join('')}
${lines.join('\n')}
</svg>
`
}

export function markdown (r: {
  date: string,
  machine: string,
  latencyMs: number,
  latency: LatencyRow[],
  grouping: Record<string, { medianMs: number, p99Ms: number, qualysCalls: number }>,
  tenants: Record<string, { medianMs: number, p99Ms: number, qualysCalls: number, refused: number }>,
  startup: { runs: number, rows: Record<string, { readyMs: number, rssMb: number }>, readyRatio: number, rssRatio: number },
  container: ContainerRow,
  relayCpu: { requests: number, answerBytes: number, medianWallMs: number, cpuMsPerRequest: number },
  loginsPer1000: number,
  refer: { rps: number, p99: number },
  bare: { rps: number, p99: number },
  observeCacheOff: { rps: number, p99: number },
  observeCacheOn: { rps: number, p99: number },
  rss: { beforeMb: number, afterMb: number, requests: number }
  budget: Awaited<ReturnType<typeof budgetRow>>
}): string {
  const ratio = (r.refer.rps / r.bare.rps * 100).toFixed(0)
  return `# Benchmark ${r.date}

Machine: ${r.machine}. Simulated Qualys latency: ${r.latencyMs} ms per call. Relay: compiled, NODE_ENV=production.

## /observe latency (median of the requests; reference = login + 2 sequential calls per observable)

| series | observables | median ms | p90 ms | p99 ms | Qualys calls / request | reference ms | reference calls | × latency |
|---|---|---|---|---|---|---|---|---|
${r.latency.map((l) => `| ${l.series} | ${l.observables} | ${l.medianMs.toFixed(0)} | ${l.p90Ms.toFixed(0)} | ${l.p99Ms.toFixed(0)} | ${l.qualysCalls.toFixed(1)} | ${l.referenceMs} | ${l.referenceCalls} | ${(l.medianMs / r.latencyMs).toFixed(2)} |`).join('\n')}

Mixed series: the seven types in turn (7 of each at 49), two events per observable (one Active, one Historical).

## Grouping of the largest mixed request (QUALYS_BATCH)

| QUALYS_BATCH | Qualys calls / request | median ms | p99 ms |
|---|---|---|---|
${Object.entries(r.grouping).map(([mode, g]) => `| ${mode} | ${g.qualysCalls.toFixed(1)} | ${g.medianMs.toFixed(0)} | ${g.p99Ms.toFixed(0)} |`).join('\n')}

## What real tenants do (qualys-api.md §2.6)

| case | Qualys calls / request | refused calls in all | median ms | p99 ms |
|---|---|---|---|---|
${Object.entries(r.tenants).map(([name, g]) => `| ${name} | ${g.qualysCalls.toFixed(1)} | ${g.refused} | ${g.medianMs.toFixed(0)} | ${g.p99Ms.toFixed(0)} |`).join('\n')}

## Start-up (spawn → first answer to POST /version; RSS 2 s later; medians of ${r.startup.runs} interleaved runs)

| process | ready ms | RSS MB |
|---|---|---|
${Object.entries(r.startup.rows).map(([name, x]) => `| ${name} | ${x.readyMs.toFixed(0)} | ${x.rssMb.toFixed(1)} |`).join('\n')}

The relay ÷ the design floor: **${r.startup.readyRatio.toFixed(2)}×** ready time, **${r.startup.rssRatio.toFixed(2)}×** RSS.

${'skipped' in r.container
    ? `Container image: not measured (${r.container.skipped}).`
    : `Container image (podman, host network; medians of ${r.container.runs} starts): \`podman run\` → HEALTHCHECK passing **${r.container.healthyMs.toFixed(0)} ms**, → first answer of /watchdog ${r.container.answerMs.toFixed(0)} ms; the image adds ${r.container.addedMb.toFixed(1)} MB to its base.`}

## The relay's own CPU per answer

Qualys answering at once, lookup cache off, 50 sha256 observables finding 100 events (a ${(r.relayCpu.answerBytes / 1024).toFixed(0)} KB answer), ${r.relayCpu.requests} sequential requests: **${r.relayCpu.cpuMsPerRequest.toFixed(1)} ms of relay CPU per answer** (user + system time of the relay process), median request time ${r.relayCpu.medianWallMs.toFixed(1)} ms.

## Throughput (64 connections)

| what | requests/s | p99 ms |
|---|---|---|
| /refer/observables (5 observables) | ${r.refer.rps.toFixed(0)} | ${r.refer.p99} |
| bare Fastify route, same process (ceiling) | ${r.bare.rps.toFixed(0)} | ${r.bare.p99} |
| /observe (1 observable), lookup cache off | ${r.observeCacheOff.rps.toFixed(1)} | ${r.observeCacheOff.p99} |
| /observe (1 observable), lookup cache on | ${r.observeCacheOn.rps.toFixed(0)} | ${r.observeCacheOn.p99} |

/refer reaches **${ratio} %** of the bare-route ceiling.

${budgetSection(r.budget)}

## Logins and memory

- Logins per 1,000 /observe requests with one credential: **${r.loginsPer1000}**.
- RSS of the relay: ${r.rss.beforeMb.toFixed(1)} MB before, ${r.rss.afterMb.toFixed(1)} MB after ${r.rss.requests.toLocaleString('en')} requests (growth ${(r.rss.afterMb - r.rss.beforeMb).toFixed(1)} MB).
`
}

const budgetLine = (name: string, x: ScenarioResult) => {
  const i = x.investigations
  const errors = Object.entries(x.tiles.errors).map(([m, n]) => `${n}× ${m}`).join('; ')
  const windows = x.perWindow.map((w) => `${w.relayCalls}/${w.otherAllowed} of ${w.otherAsked}`).join(', ')
  return `| ${name} | ${i.answered} of ${i.asked} (${i.budgetErrors} budget errors), slowest ${(i.maxMs / 1000).toFixed(1)} s | ${x.tiles.withData} of ${x.tiles.asked} (${(100 * x.tiles.withData / Math.max(1, x.tiles.asked)).toFixed(1)} %), ${x.tiles.stale} stale | ${x.tiles.callsPerCycle.toFixed(2)} | ${windows} | ${errors === '' ? '—' : errors} |`
}

function budgetSection (b: Awaited<ReturnType<typeof budgetRow>>): string {
  const s = b.scenario
  return `## The Qualys budget under contention (issue 28's hour on a compressed clock)

A ${s.windowSec}-second window stands for Qualys' hour: ${b.limit} calls a window, another consumer spends ${s.otherPerWindow} evenly, ${s.observablesPerInvestigation} new observables are investigated every ${s.investigationEverySec} s, the dashboard asks its 12 tiles every ${s.dashboardEverySec} s, /health every ${s.healthEverySec} s; ${s.windows} windows.

| relay | investigations answered | tile answers with data | tile calls per dashboard refresh | per window: relay calls / other consumer's allowed of asked | tile errors |
|---|---|---|---|---|---|
${'before' in b && b.before !== undefined && !('skipped' in b.before) ? budgetLine(`before (${'beforeRef' in b ? b.beforeRef : ''}, TILE_CACHE_TTL_S=15)`, b.before) + '\n' : ''}${budgetLine('this build (defaults on the same clock)', b.after)}
${'before' in b && b.before !== undefined && 'skipped' in b.before ? `\nBefore: not measured (${b.before.skipped}).` : ''}`
}
