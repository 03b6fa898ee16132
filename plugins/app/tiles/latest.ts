import type { QualysEvent } from '../../../schemas/qualys.js'
import { str } from '../../../lib/event-fields.js'
import { descriptor, hunting, timeFilter, type TileBuilder } from './common.js'

// A markdown table cell: no pipe or line break may end it early.
const cell = (text: string | undefined) => (text ?? '—').replace(/[|\\]/g, (c) => `\\${c}`).replace(/\s+/g, ' ').slice(0, 200)

// The 10 newest events scored 8 or more (one events call), with a link to hunt for them.
export const latest: TileBuilder = {
  descriptor: descriptor('qualys-ioc-latest-malicious', 'markdown', 'Latest malicious Qualys IOC events',
    'The 10 newest events scored 8 or more, with a link to hunt for them in Qualys.'),
  cost: 1,
  async build ({ calls, w, common, platform }) {
    const filter = `indicator.score>=8 and ${timeFilter(w)}`
    const events = await calls.historical(filter, 10)
    const name = (e: QualysEvent) => str(e, 'file.fileName') ?? str(e, 'process.processName') ?? str(e, 'network.remoteDns') ??
      str(e, 'network.remoteIP') ?? str(e, 'handle.name')
    const link = hunting(platform, filter)
    const lines = events.length === 0
      ? ['No event scored 8 or more in this period.']
      : ['| Time (UTC) | Host | Type | Name | Score |', '| --- | --- | --- | --- | --- |',
          ...events.map((e) => `| ${cell(str(e, 'dateTime')?.slice(0, 19).replace('T', ' '))} | ${cell(str(e, 'asset.netBiosName'))} | ` +
            `${cell(str(e, 'type'))} | ${cell(name(e))} | ${cell(str(e, 'score'))} |`)]
    return { ...common, data: link === undefined ? lines : [...lines, '', `[Hunt for them in Qualys](${link})`] }
  }
}
