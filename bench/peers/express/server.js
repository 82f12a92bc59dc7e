// SPDX-License-Identifier: MIT
// The load-test peer of calendar_sync_server: a receiver written "the seed's way", as the Meeting BaaS
// calendar webhook guide shows it: answer 200 at once, dedupe with an in-memory Set keyed on
// event-calendar_id-last_updated_ts, and process asynchronously with processWithRetry (3 attempts, 1 s and
// 2 s delays), fetching each affected event (approach 2) and scheduling or cancelling its bot.
//
//   PORT=8081 MEETINGBAAS_API_KEY=... MEETINGBAAS_API_BASE_URL=http://127.0.0.1:9000 node server.js
//
// Nothing here is durable: a restart loses the Set and any work in flight (that is the point of the
// comparison). Needs Node >= 18 (global fetch) and express (npm install in a temp dir; bench/load.sh does).
'use strict';
const express = require('express');

const port = Number(process.env.PORT || 8081);
const apiKey = process.env.MEETINGBAAS_API_KEY || '';
const apiBase = (process.env.MEETINGBAAS_API_BASE_URL || 'https://api.meetingbaas.com').replace(/\/$/, '');
const botName = process.env.BOT_NAME || 'Recorder';

const app = express();
app.use(express.json({ limit: '1mb' }));

const processed = new Set();  // "use Redis/DB in production", says the guide

async function api(method, path, body) {
  const res = await fetch(apiBase + path, {
    method,
    headers: { 'x-meeting-baas-api-key': apiKey, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status}`);
  return res.json();
}

async function processCalendarEvents(data) {
  for (const uuid of data.affected_event_uuids || []) {
    let event;
    try {
      event = await api('GET', `/calendar_events/${uuid}`);
    } catch (e) {
      if (String(e.message).includes('HTTP 404')) continue;
      throw e;
    }
    const hasUrl = Boolean(event.meeting_url);
    if (event.deleted || !hasUrl) {
      if (event.bot_param) await api('DELETE', `/calendar_events/${uuid}/bot`);
    } else if (!event.bot_param && new Date(event.end_time) > new Date()) {
      await api('POST', `/calendar_events/${uuid}/bot`, { bot_name: botName });
    }
  }
}

async function processWithRetry(fn, attempts = 3) {
  for (let i = 0; i < attempts; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i === attempts - 1) {
        console.error('giving up:', e.message);
        return;
      }
      await new Promise((r) => setTimeout(r, 1000 * 2 ** i));  // 1 s, then 2 s
    }
  }
}

app.post('/webhooks/meeting-baas', (req, res) => {
  if (req.get('x-meeting-baas-api-key') !== apiKey) return res.status(401).send('Unauthorized');
  res.status(200).send('OK');  // respond right away, then process
  const { event, data } = req.body || {};
  if (event !== 'calendar.sync_events' || !data) return;
  const key = `${event}-${data.calendar_id}-${data.last_updated_ts}`;  // the guide's key
  if (processed.has(key)) return;
  processed.add(key);
  processWithRetry(() => processCalendarEvents(data));
});

app.get('/healthz', (req, res) => res.send('ok'));

const server = app.listen(port, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${server.address().port}`));
