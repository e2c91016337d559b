// Browser journeys through minzheng's staff console, in Debian's Chromium via
// playwright-core, run by node:test. One server (fresh data folder, --demo)
// and one browser serve all journeys; the journeys run in order because
// journey 2 uses the 徐汇 person found in journey 1.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { start } from './lib/server.mjs';
import { launch, screenshot } from './lib/browser.mjs';

const TIMEOUT = 15_000; // per Playwright action / wait
const JOURNEY_TIMEOUT = 60_000;
const MASKED = /^\d{6}\*{8}[\dX]{4}$/;
const FULL = /^\d{17}[\dX]$/;
const HAN = /[\u4e00-\u9fff]/;

let server;
let browser;
let contexts = []; // the current journey's browser contexts
const shared = {}; // facts found by one journey for the next

before(async () => {
  server = await start();
  browser = await launch();
}, { timeout: 240_000 }); // may include a cold `go build`

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

// On failure, keep a picture of every page the journey had open next to the
// other screenshots; then close the journey's contexts.
afterEach(async (t) => {
  const failed = t && t.passed === false;
  const tag = ((t && t.name) || 'journey').split(':')[0].replace(/\W+/g, '-');
  let i = 0;
  for (const c of contexts) {
    if (failed) {
      for (const p of c.pages()) await screenshot(p, `FAILED-${tag}-${i++}`).catch(() => {});
    }
    await c.close().catch(() => {});
  }
  contexts = [];
});

async function newPage() {
  const context = await browser.newContext({ baseURL: server.baseURL, locale: 'zh-CN', viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(TIMEOUT);
  contexts.push(context);
  return { context, page: await context.newPage() };
}

// fillLogin fills and submits the login form on a fresh page.
async function fillLogin(page, name, password) {
  const resp = await page.goto('/login');
  assert.equal(resp.status(), 200, 'GET /login');
  await page.locator('input[name="name"]').fill(name);
  await page.locator('input[name="password"]').fill(password);
  const posted = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/login');
  await page.getByRole('button', { name: '登录', exact: true }).click();
  await posted;
  await page.waitForLoadState('load');
}

// login logs name in through the form and returns the logged-in page and
// the header's “who am I” text (display name · role · jurisdiction).
// (/api/v1/* takes bearer tokens only, so the session is checked on pages.)
async function login(name, password = server.passwords[name]) {
  assert.ok(password, `password for ${name}`);
  const { context, page } = await newPage();
  await fillLogin(page, name, password);
  assert.notEqual(new URL(page.url()).pathname, '/login', `${name} should leave /login after logging in`);
  const me = page.locator('header .me span');
  assert.equal(await me.count(), 1, `${name} is shown as logged in`);
  return { context, page, me: (await me.innerText()).trim() };
}

// rows reads the people table of a /persons page.
async function personRows(page) {
  return page.locator('#results tbody tr').evaluateAll((trs) =>
    trs.map((tr) => {
      const td = [...tr.querySelectorAll('td')].map((c) => c.innerText.trim());
      const a = tr.querySelector('td a[href^="/persons/"]');
      return {
        name: a ? a.innerText.trim() : '',
        href: a ? a.getAttribute('href') : '',
        id: td[1], sex: td[2], birth: td[3], hukou: td[4] ?? '', residence: td[5] ?? '',
        cells: td.length,
      };
    }));
}

async function total(page) {
  const txt = await page.locator('#total').innerText();
  return Number(txt.replace(/[^\d]/g, ''));
}

// fact returns the <dd> text for a <dt> label on the profile page.
async function fact(page, label) {
  const dd = page.locator(`xpath=//dl[contains(@class,"facts")]/dt[normalize-space(.)="${label}"]/following-sibling::dd[1]`);
  assert.equal(await dd.count(), 1, `profile fact ${label}`);
  return (await dd.innerText()).trim();
}

// checkDigit validates the GB 11643 check character of an 18-character ID.
function validCheckDigit(id) {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let s = 0;
  for (let i = 0; i < 17; i++) s += Number(id[i]) * w[i];
  return '10X98765432'[s % 11] === id[17];
}

test('journey 1: reviewer searches, opens a profile, reveals the ID number, and the reveal is audited', { timeout: JOURNEY_TIMEOUT }, async () => {
  const { page, me } = await login('xuhui_reviewer');
  assert.match(me, /区审核员.*徐汇区/s, `header “${me}”`);
  await screenshot(page, '01-reviewer-home');

  // Empty search: everyone in 徐汇 the reviewer may see.
  await page.goto('/persons');
  const all = await total(page);
  assert.ok(all > 0, `empty search should find people, got ${all}`);
  const first = (await personRows(page))[0];
  assert.ok(first && first.name, 'first row has a name');
  const surname = [...first.name][0];
  assert.match(surname, HAN, `surname of ${first.name}`);
  await screenshot(page, '02-persons-reviewer');

  // Search by the surname through the search box.
  await page.locator('input[type="search"][name="q"]').fill(surname);
  await page.getByRole('button', { name: '查询', exact: true }).click();
  await page.waitForURL((u) => u.pathname === '/persons' && u.searchParams.get('q') === surname);
  await page.locator('#results .hint', { hasText: `“${surname}”` }).waitFor();
  const found = await total(page);
  assert.ok(found > 0 && found <= all, `search ${surname}: ${found} of ${all}`);
  const rows = await personRows(page);
  assert.ok(rows.length > 0, 'search result rows');
  for (const r of rows) {
    assert.ok(r.name.startsWith(surname), `row ${r.name} should start with ${surname}`);
    assert.match(r.id, MASKED, `list shows masked ID for ${r.name}`);
    assert.ok(r.hukou.includes('徐汇区') || r.residence.includes('徐汇区'), `row ${r.name} (${r.hukou} / ${r.residence}) is in 徐汇`);
  }
  await screenshot(page, '03-search-surname');

  // Prefer a person registered and living in 徐汇 only: journey 2 needs one
  // that a 浦东 clerk must not see.
  const idx = rows.findIndex((r) => r.hukou.includes('徐汇区') && r.residence.includes('徐汇区'));
  assert.ok(idx >= 0, `a person with 户籍地 and 居住地 in 徐汇 among ${JSON.stringify(rows.map((r) => [r.name, r.hukou, r.residence]))}`);
  const target = rows[idx];
  await page.locator('#results tbody tr').nth(idx).locator('a[href^="/persons/"]').first().click();
  await page.waitForURL(/\/persons\/\d+$/);
  const personId = new URL(page.url()).pathname.split('/').pop();
  assert.equal(`/persons/${personId}`, target.href);

  assert.equal((await page.locator('h1').innerText()).trim().split(/\s/)[0], target.name);
  const masked = (await page.locator('#id-number').innerText()).trim();
  assert.match(masked, MASKED);
  assert.equal(masked, target.id, 'profile shows the same masked ID as the list');
  assert.equal(await page.locator('#id-number.full').count(), 0, 'not revealed yet');

  const hukou = await fact(page, '户籍地');
  const residence = await fact(page, '居住地');
  for (const [label, v] of [['户籍地', hukou], ['居住地', residence]]) {
    assert.match(v, /徐汇区/, `${label} “${v}” names the district`);
    assert.match(v, /3101\d{2,}/, `${label} “${v}” shows the division code`);
    const name = v.replace(/\d+/g, '').replace('人户分离', '').trim();
    assert.ok([...name].filter((c) => HAN.test(c)).length >= 4, `${label} “${v}” has a Chinese place name`);
  }
  await screenshot(page, '04-profile-masked');

  // The page as served must not carry the full number anywhere.
  const servedHTML = await (await page.request.get(`/persons/${personId}`)).text();

  // Reveal the full number (htmx POST, audited).
  const reveal = page.getByRole('button', { name: /显示完整号码/ });
  assert.equal(await reveal.count(), 1, 'reviewer sees the reveal button');
  const posted = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/persons/${personId}/id-number`));
  await reveal.click();
  assert.equal((await posted).status(), 200, 'reveal request');
  const full = (await page.locator('#id-number.full').innerText()).trim();
  assert.match(full, FULL);
  assert.equal(full.length, 18);
  assert.equal(full.slice(0, 6), masked.slice(0, 6), 'same area code as the masked number');
  assert.equal(full.slice(-4), masked.slice(-4), 'same last four as the masked number');
  assert.ok(validCheckDigit(full), `check character of ${full}`);
  const birth = (await fact(page, '出生日期')).replace(/\D/g, '');
  assert.ok(birth.startsWith(full.slice(6, 14)), `birth date ${birth} matches ${full.slice(6, 14)}`);
  assert.ok(!servedHTML.includes(full), 'the full number is not in the profile HTML before the reveal');
  await screenshot(page, '05-profile-revealed');

  // The reveal is in the audit log, as the city admin sees it on /audit.
  const admin = await login('admin');
  assert.match(admin.me, /市管理员/, `header “${admin.me}”`);
  await admin.page.goto('/audit');
  await admin.page.locator('input[name="action"]').fill('person.view_id_number');
  await admin.page.locator('input[name="entity_id"]').fill(personId);
  await admin.page.getByRole('button', { name: '筛选', exact: true }).click();
  await admin.page.waitForURL((u) => u.pathname === '/audit' && u.searchParams.get('entity_id') === personId);
  const auditRows = await admin.page.locator('table.list tbody tr').evaluateAll((trs) =>
    trs.map((tr) => [...tr.querySelectorAll('td')].map((c) => c.innerText.trim())));
  // columns: # 时间 操作人 角色 操作 记录 说明 来源
  const hit = auditRows.find((c) => c[2] === 'xuhui_reviewer' && c[4] === 'person.view_id_number');
  assert.ok(hit, `audit entry for the reveal in ${JSON.stringify(auditRows)}`);
  assert.equal(hit[3], 'reviewer');
  assert.match(hit[5], new RegExp(`^person\\s+${personId}$`));
  assert.ok(!(await admin.page.content()).includes(full), 'the audit log never shows the full number');
  await screenshot(admin.page, '06-audit-reveal');

  shared.xuhui = { id: personId, name: target.name, masked, full };
});

test('journey 2: a 浦东 clerk sees only 浦东 and gets not-found for a 徐汇 person', { timeout: JOURNEY_TIMEOUT }, async () => {
  assert.ok(shared.xuhui, 'journey 1 must have found a 徐汇 person');
  const { page, me } = await login('pudong_clerk');
  assert.match(me, /受理员.*浦东新区/s, `header “${me}”`);

  await page.goto('/persons');
  assert.ok((await total(page)) > 0, 'the clerk sees people');
  const rows = await personRows(page);
  assert.ok(rows.length > 0, 'rows');
  for (const r of rows) {
    assert.equal(r.cells, 6, `row ${r.name} has six columns`);
    assert.ok(r.hukou.includes('浦东新区') || r.residence.includes('浦东新区'),
      `row ${r.name} (${r.hukou} / ${r.residence}) must be in 浦东新区`);
  }
  await screenshot(page, '07-persons-pudong');

  // A clerk may not see full ID numbers.
  await page.locator('#results tbody tr a[href^="/persons/"]').first().click();
  await page.waitForURL(/\/persons\/\d+$/);
  assert.match((await page.locator('#id-number').innerText()).trim(), MASKED);
  assert.equal(await page.locator('#reveal-id').count(), 0, 'no reveal button for a clerk');

  // Searching the 徐汇 person's name does not list them.
  await page.goto(`/persons?q=${encodeURIComponent(shared.xuhui.name)}`);
  for (const r of await personRows(page)) {
    assert.notEqual(r.href, `/persons/${shared.xuhui.id}`, 'the 徐汇 person is not in the clerk\'s search');
  }

  // Opening the 徐汇 person directly: the not-found page, none of their data.
  const resp = await page.goto(`/persons/${shared.xuhui.id}`);
  assert.equal(resp.status(), 404);
  assert.equal((await page.locator('h1').innerText()).trim(), '出错了');
  assert.match(await page.locator('#error-message').innerText(), /未找到.*不在您的辖区内/);
  const html = await page.content();
  assert.ok(!html.includes(shared.xuhui.masked), 'no masked ID of the 徐汇 person');
  assert.ok(!html.includes(shared.xuhui.full), 'no full ID of the 徐汇 person');
  assert.equal(await page.locator('#id-number').count(), 0, 'no profile facts');
  await screenshot(page, '08-not-found-pudong-clerk');

  // Nor through the reveal endpoint (with the page's CSRF token, as htmx sends it).
  const csrf = await page.locator('body').getAttribute('hx-headers');
  const token = JSON.parse(csrf)['X-CSRF-Token'];
  const r = await page.request.post(`/persons/${shared.xuhui.id}/id-number`, { headers: { 'X-CSRF-Token': token } });
  assert.ok(r.status() === 403 || r.status() === 404, `reveal by the clerk: ${r.status()}`);
  assert.ok(!(await r.text()).includes(shared.xuhui.full), 'no full ID in the answer');
});

test('journey 3: a wrong password shows 用户名或密码错误', { timeout: JOURNEY_TIMEOUT }, async () => {
  const { page } = await newPage();
  await fillLogin(page, 'admin', 'not-the-password-42');
  assert.equal(new URL(page.url()).pathname, '/login', 'stays on the login page');
  await assert.doesNotReject(page.locator('[role="alert"]', { hasText: '用户名或密码错误' }).waitFor());
  assert.equal(await page.locator('header .me').count(), 0, 'not logged in');
  const persons = await page.request.get('/persons', { maxRedirects: 0 });
  assert.equal(persons.status(), 303, 'GET /persons without a session redirects');
  assert.match(persons.headers()['location'] || '', /^\/login/);
  await screenshot(page, '09-login-wrong-password');

  // An unknown user gets the same answer (no account enumeration).
  await fillLogin(page, 'no_such_user_e2e', 'whatever-123456');
  await page.locator('[role="alert"]', { hasText: '用户名或密码错误' }).waitFor();
});

test('journey 4: the admin creates a clerk for 天平路街道, who can then log in', { timeout: JOURNEY_TIMEOUT }, async () => {
  const { page } = await login('admin');
  await page.goto('/users');
  await screenshot(page, '10-users');
  const name = `e2e_clerk_${Date.now().toString(36)}`;
  await page.locator('input[name="name"]').fill(name);
  await page.locator('input[name="display_name"]').fill('测试受理员');
  await page.locator('select[name="role"]').selectOption('clerk');
  await page.locator('input[name="division"]').fill('310104003');
  const posted = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/users');
  await page.getByRole('button', { name: '创建账号', exact: true }).click();
  assert.equal((await posted).status(), 200, 'POST /users');
  await page.waitForLoadState('load');

  const flash = page.locator('#new-password');
  await flash.waitFor();
  assert.match(await flash.innerText(), new RegExp(name));
  const password = (await flash.locator('code').innerText()).trim();
  assert.ok(password.length >= 12, `generated password “${password}”`);
  const row = page.locator('table.list tbody tr', { hasText: name });
  assert.equal(await row.count(), 1, 'the new user is listed');
  assert.match(await row.innerText(), /受理员/);
  assert.match(await row.innerText(), /天平路街道/);
  assert.match(await row.innerText(), /310104003/);
  await screenshot(page, '11-user-created');

  // The password is shown once only.
  await page.goto('/users');
  assert.equal(await page.locator('#new-password').count(), 0, 'no password after reload');
  assert.ok(!(await page.content()).includes(password), 'password not on the page after reload');
  assert.equal(await page.locator('table.list tbody tr', { hasText: name }).count(), 1);

  // The new clerk logs in with it and works inside 天平路街道.
  const clerk = await login(name, password);
  assert.match(clerk.me, /测试受理员.*受理员.*天平路街道/s, `header “${clerk.me}”`);
  await screenshot(clerk.page, '12-new-clerk-home');
  await clerk.page.goto('/persons');
  assert.ok((await total(clerk.page)) > 0, 'the new clerk sees people of 天平路街道');
  for (const r of await personRows(clerk.page)) {
    assert.ok(r.hukou.includes('天平路街道') || r.residence.includes('天平路街道'), `row ${r.name} (${r.hukou} / ${r.residence}) in 天平路街道`);
  }
  await screenshot(clerk.page, '13-persons-new-clerk');
});

test('journey 5: the 徐汇 approver signs off last month\'s payroll for 徐汇区; 浦东 is not theirs', { timeout: JOURNEY_TIMEOUT }, async () => {
  const { page, me } = await login('xuhui_approver');
  assert.match(me, /审批员.*徐汇区/s, `header “${me}”`);
  await page.getByRole('link', { name: '待遇发放', exact: true }).click();
  await page.waitForLoadState('load');
  assert.equal(new URL(page.url()).pathname, '/payroll');
  // The demo computed last month's payroll at start; an approver cannot run one.
  assert.equal(await page.locator('form[action="/payroll/run"]').count(), 0, 'no run form for an approver');
  const period = page.locator('#payroll-periods tbody tr a').first();
  const periodText = (await period.innerText()).trim();
  assert.match(periodText, /^\d{4}-\d{2}$/);
  await screenshot(page, '14-payroll-approver');
  await period.click();
  await page.waitForLoadState('load');

  // Only 徐汇区 rows, each awaiting sign-off, and one sign-off button for 徐汇区.
  const districts = await page.locator('#payroll-figures tbody tr td:first-child').allInnerTexts();
  assert.ok(districts.length > 0, 'figures for 徐汇区');
  for (const d of districts) assert.equal(d.trim(), '徐汇区');
  const sign = page.getByRole('button', { name: /签发\s*徐汇区/ });
  assert.equal(await sign.count(), 1, 'one sign-off button');
  assert.equal(await page.locator('form[action$="/signoff"] input[value="310115"]').count(), 0, 'no 浦东 sign-off');
  await page.locator('div.chart canvas').first().waitFor();
  await screenshot(page, '15-payroll-period');
  const posted = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith('/signoff'));
  await sign.click();
  assert.equal((await posted).status(), 200, 'POST signoff');
  await page.waitForLoadState('load');
  assert.match(await page.locator('#signoff-result').innerText(), /已签发/);
  for (const cell of await page.locator('#payroll-figures tbody tr td:last-child').allInnerTexts()) {
    assert.equal(cell.trim(), 'xuhui_approver', 'every 徐汇区 row shows who signed');
  }
  assert.equal(await page.getByRole('button', { name: /签发\s*徐汇区/ }).count(), 0, 'signed once only');
  await screenshot(page, '16-payroll-signed');

  // The figures export is an Excel file.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: '导出 Excel' }).click()]);
  assert.match(download.suggestedFilename(), new RegExp(`^payroll-${periodText}\\.xlsx$`));
});

test('journey 6: a 徐汇 clerk and adviser take a social assistance application from 受理 to 公示; the public sees a masked name', { timeout: 90_000 }, async () => {
  assert.ok(shared.xuhui && shared.xuhui.full, 'journey 1 must have found a 徐汇 person and revealed the number');
  const { page } = await login('xuhui_clerk');
  await page.getByRole('link', { name: '社会救助', exact: true }).click();
  await page.waitForLoadState('load');
  assert.equal(new URL(page.url()).pathname, '/applications');
  const form = page.locator('#new-application');
  await form.locator('input[name="person_id"]').fill(String(shared.xuhui.id));
  await form.locator('input[value="dibao"]').check();
  await form.locator('input[value="temporary"]').check();
  await form.locator('input[name="deposits"]').fill('3000');
  await form.getByRole('button', { name: '受理', exact: true }).click();
  await page.waitForLoadState('load');
  const caseURL = new URL(page.url()).pathname;
  assert.match(caseURL, /^\/applications\/\d+$/, `case page, got ${caseURL}`);
  assert.match(await page.locator('#state').innerText(), /^受理/);
  assert.match(await page.locator('#precheck').innerText(), /尚待核对证实/, 'income not yet evidenced');
  await screenshot(page, '17-application-submitted');

  await page.getByRole('button', { name: '发起经济状况核对' }).click();
  await page.waitForLoadState('load');
  assert.match(await page.locator('#state').innerText(), /^经济状况核对/);

  // A department file with a bad row is refused, naming the row; a good one is filed.
  const upload = async (csv) => {
    await page.locator('form[action$="/verification"] input[type="file"]').setInputFiles({ name: '核对.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    const posted = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith('/verification'));
    await page.getByRole('button', { name: '导入核对数据' }).click();
    const resp = await posted;
    await page.waitForLoadState('load');
    return resp.status();
  };
  assert.equal(await upload(`身份证号,数据来源,金额\n${shared.xuhui.full},养老金,abc\n`), 422);
  assert.match(await page.locator('main').innerText(), /第 2 行“金额”/);
  await page.goto(caseURL);
  assert.equal(await upload(`身份证号,数据来源,金额,说明\n${shared.xuhui.full},养老金,500,社保中心\n${shared.xuhui.full},银行存款,3000,工商银行\n`), 303);
  const findings = await page.locator('#findings').innerText();
  assert.match(findings, /养老金/);
  assert.match(findings, /银行存款/);
  await screenshot(page, '18-application-verified');
  await page.getByRole('button', { name: '核对完成，安排入户调查' }).click();
  await page.waitForLoadState('load');
  assert.match(await page.locator('#state').innerText(), /^入户调查/);
  // The clerk may not make the adviser's step.
  assert.equal(await page.getByRole('button', { name: '入户调查完成，开始公示' }).count(), 0);

  // The adviser records the visit with a photo and starts the public notice.
  const adviser = await login('xuhui_adviser');
  await adviser.page.goto(caseURL);
  await adviser.page.locator('form[action$="/materials"] select[name="kind"]').selectOption('visit_photo');
  await adviser.page.locator('form[action$="/materials"] input[type="file"]').setInputFiles({ name: '客厅.jpg', mimeType: 'image/jpeg', buffer: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]) });
  await adviser.page.getByRole('button', { name: '上传', exact: true }).click();
  await adviser.page.waitForLoadState('load');
  assert.match(await adviser.page.locator('#materials ~ table').first().innerText(), /客厅\.jpg/);
  const visit = adviser.page.locator('form[data-to="notice"]');
  await visit.locator('textarea[name="note"]').fill('家中陈设简陋，老人独居');
  await visit.getByRole('button', { name: '入户调查完成，开始公示' }).click();
  await adviser.page.waitForLoadState('load');
  assert.match(await adviser.page.locator('#state').innerText(), /^公示/);
  await screenshot(adviser.page, '19-application-notice');

  // Anyone sees the notice, with the name masked.
  const { page: pub } = await newPage();
  await pub.goto('/notices');
  const notices = await pub.locator('#notices').innerText();
  const masked = shared.xuhui.name[0] + '*'.repeat([...shared.xuhui.name].length - 1);
  assert.ok(notices.includes(masked), `masked name ${masked} in the notice`);
  assert.ok(!notices.includes(shared.xuhui.name), 'the full name is not shown');
  await screenshot(pub, '20-public-notice');
});
