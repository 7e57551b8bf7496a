// FitBridge status page: reads the daemon's /v1 API with the bearer token the
// person signs in with, and follows /v1/events for live updates. Plain DOM,
// no framework; every value from the API goes in as text, never as markup.
'use strict';

(() => {
  const TOKEN_KEY = 'fitbridge.token';
  const VIEWS = ['overview', 'activities', 'jobs', 'plan', 'chart'];
  const PAGE = 50;

  const $ = (id) => document.getElementById(id);

  // el('li', {class: 'x', onclick: f}, 'text', child...): an element with
  // attributes, listeners and text or element children.
  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    setProps(e, props);
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : String(c));
    }
    return e;
  }

  function svg(tag, props, ...children) {
    const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    setProps(e, props);
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : String(c));
    }
    return e;
  }

  function setProps(e, props) {
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.setAttribute('class', v);
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
  }

  const token = () => sessionStorage.getItem(TOKEN_KEY);
  let signedIn = false;  // the screens are shown (not the sign-in form)

  // ---- formatting ---------------------------------------------------------

  const pad = (n) => String(n).padStart(2, '0');
  function fmtTime(t) {
    if (t === null || t === undefined || t === '') return '–';
    const d = typeof t === 'number' ? new Date(t * 1000) : new Date(t);
    if (Number.isNaN(d.getTime())) return String(t);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }
  function fmtDuration(s) {
    if (s === null || s === undefined) return '';
    s = Math.round(s);
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
    if (s < 86400) return `${Math.floor(s / 3600)}h ${pad(Math.floor(s / 60) % 60)}m`;
    return `${Math.floor(s / 86400)}d ${Math.floor(s / 3600) % 24}h`;
  }
  const fmtKm = (m) => (m === null || m === undefined ? '' : `${(m / 1000).toFixed(1)} km`);
  const stateChip = (state, label) =>
    el('span', {class: `state s-${state}`, 'data-state': state}, label === undefined ? state : label);

  function facts(pairs) {
    const dl = el('dl', {class: 'facts'});
    for (const [k, v] of pairs) {
      if (v === null || v === undefined || v === '') continue;
      dl.append(el('dt', null, k), el('dd', null, v));
    }
    return dl;
  }

  function showNotice(text, isError) {
    const n = $('notice');
    n.textContent = text || '';
    n.className = isError ? 'notice error' : 'notice';
    n.hidden = !text;
  }

  // ---- the API -------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(method, path, body) {
    const headers = {Accept: 'application/json', Authorization: `Bearer ${token() || ''}`};
    const init = {method, headers, cache: 'no-store', credentials: 'omit', redirect: 'error'};
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, 'network', 'The daemon does not answer. Is `fitbridge serve` running?');
    }
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (e) {
      data = null;
    }
    const err = data && data.error ? data.error : {};
    if (res.status === 401) {
      signOut(refusalText(err.message));
      throw new ApiError(401, err.code || 'unauthorized', refusalText(err.message));
    }
    if (!res.ok) throw new ApiError(res.status, err.code || 'http', err.message || `HTTP ${res.status}`);
    return data;
  }

  function refusalText(serverMessage) {
    if (serverMessage && serverMessage.startsWith('wrong')) {
      return 'The daemon refused this token (HTTP 401: wrong bearer token). It is mistyped, or the daemon ' +
          'has a new one: sign in again with the token from its api-token file.';
    }
    return 'Signed out: the daemon asks for the API token (HTTP 401). Sign in again.';
  }

  function failed(e) {
    if (e instanceof ApiError && e.status === 401) return;  // the sign-in form says it
    showNotice(e.message || String(e), true);
  }

  // ---- sign-in -------------------------------------------------------------

  function showSignin(message) {
    signedIn = false;
    stopEvents();
    for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== 'view-signin';
    $('nav').hidden = true;
    $('signout').hidden = true;
    $('live').hidden = true;
    showNotice('');
    const m = $('signin-message');
    m.textContent = message || '';
    m.className = message ? 'message error' : 'message';
    $('token').value = '';
    $('token').focus();
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    showSignin(message);
  }

  async function signIn(value) {
    sessionStorage.setItem(TOKEN_KEY, value.trim());
    try {
      await api('GET', '/v1/status');
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) {
        sessionStorage.removeItem(TOKEN_KEY);
        showSignin(e.message);
      }
      return;
    }
    enter();
  }

  // Trades the one-time code of a `fitbridge open` link for the token. The
  // code is in the fragment, so it never reached a server log; it is removed
  // from the address bar before anything else happens.
  async function redeemCode(code) {
    history.replaceState(null, '', `${location.pathname}#overview`);
    let res;
    try {
      res = await fetch('/v1/signin', {
        method: 'POST',
        headers: {'Content-Type': 'application/json', Accept: 'application/json'},
        body: JSON.stringify({code}),
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch (e) {
      return 'The daemon does not answer. Is `fitbridge serve` running?';
    }
    const data = await res.json().catch(() => null);
    if (res.ok && data && typeof data.token === 'string') {
      sessionStorage.setItem(TOKEN_KEY, data.token);
      return null;
    }
    return (data && data.error && data.error.message) || `This sign-in link did not work (HTTP ${res.status}).`;
  }

  function enter() {
    signedIn = true;
    $('nav').hidden = false;
    $('signout').hidden = false;
    $('live').hidden = false;
    $('signin-message').textContent = '';
    startEvents();
    show(currentView());
  }

  // ---- navigation ----------------------------------------------------------

  function currentView() {
    const h = location.hash.slice(1);
    return VIEWS.includes(h) ? h : 'overview';
  }

  const loaders = {};
  let visible = null;

  function show(name) {
    visible = name;
    showNotice('');
    for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== `view-${name}`;
    for (const a of document.querySelectorAll('#nav a')) {
      if (a.dataset.view === name) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    document.title = `FitBridge: ${name[0].toUpperCase()}${name.slice(1)}`;
    loaders[name]().catch(failed);
  }

  // ---- overview ------------------------------------------------------------

  function reauthAdvice(a) {
    const c = a.credentials || {};
    if (c.origin === 'stored') {
      return `Sign in again: run \`fitbridge auth ${a.id}\` on the daemon's machine (or POST new credentials to ` +
          `/v1/accounts/${a.id}/credentials).`;
    }
    return 'Put a valid key or token in the file the account\'s configuration names; the daemon reads it at ' +
        'every request, no restart needed.';
  }

  function accountCard(a, st) {
    const state = a.state || (st && st.state) || 'unknown';
    const blocked = st && st.blocked_until && st.blocked_until * 1000 > Date.now() ? st.blocked_until : null;
    const c = a.credentials;
    const budget = a.budget ?
        Object.entries(a.budget).map(([w, b]) => `${w}: ${b.used} of ${b.limit} used, resets ${fmtTime(b.resets_at)}`)
            .join('; ') :
        null;
    const card = el('li', {class: 'card account', 'data-account': a.id},
        el('h3', null, a.id, ' ', stateChip(state), blocked ? [' ', stateChip('paused', 'paused')] : null),
        facts([
          ['Provider', a.provider],
          ['Reason', a.last_error || a.error],
          ['What to do', state === 'needs_reauth' ? reauthAdvice(a) : null],
          ['Paused until', blocked ? `${fmtTime(blocked)} (rate limit)` : null],
          ['Credentials', c ? `${c.kind} (${c.origin})${c.refreshable ? ', refreshable' : ''}` : null],
          ['Expires', c && c.expires_at ? fmtTime(c.expires_at) : null],
          ['Last poll', st && st.last_poll_at ? fmtTime(st.last_poll_at) : (a.items ? 'not yet' : null)],
          ['Next poll', a.next_poll_in_s !== null && a.next_poll_in_s !== undefined ?
             `in ${fmtDuration(a.next_poll_in_s)}` : null],
          ['Rate budget', budget],
          ['Items', a.items ? `${a.items.ingested} ingested, ${a.items.skipped} skipped, ${a.items.failed} failed` :
                              null],
          ['Problems', a.problems && a.problems.length ?
             a.problems.slice(0, 3).map((p) => `${p.origin}: ${p.reason}${p.detail ? ` (${p.detail})` : ''}`)
                 .join('; ') :
             null],
        ]));
    if (a.items && a.running) {
      card.append(el('button', {type: 'button', onclick: () => startSync(a.id)}, `Sync ${a.id} now`));
    }
    return card;
  }

  loaders.overview = async () => {
    const [status, accounts] = await Promise.all([api('GET', '/v1/status'), api('GET', '/v1/accounts')]);
    const daemon = $('daemon');
    daemon.replaceChildren(
        el('h3', null, `FitBridge ${status.version} `, stateChip(status.state)),
        facts([
          ['Up for', fmtDuration(status.uptime_s)],
          ['Listening on', status.api && status.api.listen],
          ['Config', status.config ?
             `${status.config.path}${status.config.source === 'embedded_default' ? ' (absent: built-in default)' : ''}` :
             null],
          ['State directory', status.state_dir],
          ['Token file', status.state_dir ? `${status.state_dir}/api-token` : null],
        ]));
    if (status.loops && status.loops.length) {
      daemon.append(el('h4', null, 'Loops that failed in the last minute'),
          el('ul', null, status.loops.map((l) => el('li', null, `${l.name}: `, stateChip(l.state),
              ` ${l.reason} (${l.failures} failures, ${Math.round(l.seconds_since_failure)} s ago)`))));
    }
    const byId = new Map((status.accounts || []).map((a) => [a.id, a]));
    const list = $('accounts');
    list.replaceChildren(...accounts.accounts.map((a) => accountCard(a, byId.get(a.id))));
    if (!accounts.accounts.length) list.append(el('li', {class: 'muted'}, 'No accounts are configured.'));
  };

  async function startSync(account) {
    try {
      const r = await api('POST', `/v1/accounts/${encodeURIComponent(account)}/sync`);
      showNotice(`Sync of ${account} started (job ${r.job.id}).`);
    } catch (e) {
      failed(e);
    }
  }

  // ---- activities ----------------------------------------------------------

  const acts = {filters: {}, cursor: null, loading: false, done: false, started: false, generation: 0};

  // The API's `until` is exclusive; the form's "until" day is meant inclusive.
  function dayAfter(date) {
    const d = new Date(`${date}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() + 1);
    return d.toISOString().slice(0, 10);
  }

  function filterQuery() {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(acts.filters)) if (v) q.set(k, k === 'until' ? dayAfter(v) : v);
    return q;
  }

  function chip(sink, state) {
    return el('span', {class: `state s-${state}`, 'data-sink': sink, 'data-state': state}, `${sink}: ${state}`);
  }

  function activityRow(a) {
    const deliveries = Object.entries(a.deliveries || {});
    const meta = [a.sport_family, fmtKm(a.distance_m), fmtDuration(a.elapsed_s)].filter(Boolean).join(' · ');
    return el('li', {'data-activity': a.id},
        el('button', {type: 'button', class: 'row', onclick: () => openDetails(a.id),
                      'aria-label': `Activity ${a.id}: ${a.name || 'untitled'}, open details`},
            el('span', {class: 'when'}, fmtTime(a.start_time)),
            el('span', {class: 'name'}, a.name || `Activity ${a.id}`),
            el('span', {class: 'meta'}, meta),
            el('span', {class: 'chips'},
                deliveries.length ? deliveries.map(([s, st]) => chip(s, st)) :
                                    el('span', {class: 'muted'}, 'no sink routes this activity'))));
  }

  async function loadMoreActivities() {
    if (acts.loading || acts.done) return;
    acts.loading = true;
    const generation = acts.generation;
    const q = filterQuery();
    q.set('limit', String(PAGE));
    if (acts.cursor) q.set('cursor', acts.cursor);
    $('activity-end').textContent = 'Loading…';
    try {
      const d = await api('GET', `/v1/activities?${q}`);
      if (generation !== acts.generation) return;
      const list = $('activity-list');
      for (const a of d.activities) {
        if (!list.querySelector(`li[data-activity="${a.id}"]`)) list.append(activityRow(a));
      }
      acts.cursor = d.next_cursor;
      acts.done = !d.next_cursor;
      updateActivityEnd();
    } finally {
      if (generation === acts.generation) acts.loading = false;
    }
    // The observer only reports changes: when the end of the list is still in
    // sight after a page (a tall screen, short rows), fetch the next one now.
    if (generation === acts.generation && !acts.done && visible === 'activities' &&
        $('activity-end').getBoundingClientRect().top < window.innerHeight + 400) {
      await loadMoreActivities();
    }
  }

  function updateActivityEnd() {
    const n = $('activity-list').children.length;
    $('activity-end').textContent =
        acts.done ? (n ? `${n} ${n === 1 ? 'activity' : 'activities'}, the end of the list.` : 'No activities match.') : '';
    $('more').hidden = acts.done;
  }

  function resetActivities() {
    acts.generation++;
    acts.cursor = null;
    acts.done = false;
    acts.loading = false;
    $('activity-list').replaceChildren();
  }

  const observer = 'IntersectionObserver' in window ? new IntersectionObserver((entries) => {
    if (visible === 'activities' && entries.some((e) => e.isIntersecting)) loadMoreActivities().catch(failed);
  }, {rootMargin: '400px'}) : null;

  loaders.activities = async () => {
    if (!acts.started) {
      acts.started = true;
      if (observer) observer.observe($('activity-end'));
      resetActivities();
    }
    if (!$('activity-list').children.length) await loadMoreActivities();
  };

  // Live: a new activity goes on top (when no filter hides it); a delivery's
  // chip changes state where the activity is shown.
  // Activities whose row is being fetched: a delivery event that arrives
  // meanwhile has no row to update, so the row is fetched again after.
  const fetching = new Map();

  async function activityIngested(id) {
    if (!acts.started || Object.values(acts.filters).some(Boolean)) return;
    const key = String(id);
    if (fetching.has(key)) {
      fetching.set(key, true);
      return;
    }
    try {
      for (let again = true; again;) {
        fetching.set(key, false);
        const a = await api('GET', `/v1/activities/${id}`);
        const list = $('activity-list');
        const row = activityRow(a);
        const old = list.querySelector(`li[data-activity="${a.id}"]`);
        if (old) old.replaceWith(row);
        else list.prepend(row);
        updateActivityEnd();
        again = fetching.get(key);
      }
    } finally {
      fetching.delete(key);
    }
  }

  function deliveryUpdated(activity, sink, state) {
    if (fetching.has(String(activity))) fetching.set(String(activity), true);
    const li = $('activity-list').querySelector(`li[data-activity="${activity}"]`);
    if (li) {
      const chips = li.querySelector('.chips');
      const old = chips.querySelector(`[data-sink="${CSS.escape(sink)}"]`);
      const fresh = chip(sink, state);
      if (old) old.replaceWith(fresh);
      else {
        const none = chips.querySelector('.muted');
        if (none) none.remove();
        chips.append(fresh);
      }
    }
    const dlg = $('details');
    if (dlg.open && dlg.dataset.activity === String(activity)) openDetails(activity, true).catch(failed);
  }

  // ---- activity details ----------------------------------------------------

  function table(headers, rows) {
    return el('div', {class: 'scroll'}, el('table', null,
        el('thead', null, el('tr', null, headers.map((h) => el('th', {scope: 'col'}, h)))),
        el('tbody', null, rows.map((r) => el('tr', null, r.map((c) => el('td', null, c)))))));
  }

  function summaryFacts(summary) {
    const pairs = [];
    for (const [k, v] of Object.entries(summary || {})) {
      if (v === null || v === undefined) continue;
      pairs.push([k.replace(/_/g, ' '), typeof v === 'object' ? JSON.stringify(v) : String(v)]);
    }
    return facts(pairs);
  }

  async function retryDelivery(id, activity) {
    const msg = $('details-message');
    try {
      const r = await api('POST', `/v1/deliveries/${id}/retry`);
      await openDetails(activity, true);
      $('details-message').textContent = `Delivery to ${r.delivery.sink} queued again (${r.delivery.state}).`;
    } catch (e) {
      if (msg) msg.textContent = e.message;
    }
  }

  async function openDetails(id, refresh) {
    const dlg = $('details');
    const body = $('details-body');
    dlg.dataset.activity = String(id);
    if (!refresh) {
      $('details-title').textContent = `Activity ${id}`;
      body.replaceChildren(el('p', {class: 'muted'}, 'Loading…'));
      if (!dlg.open) dlg.showModal();
    }
    const a = await api('GET', `/v1/activities/${id}`);
    if (dlg.dataset.activity !== String(id)) return;
    $('details-title').textContent = a.name || `Activity ${a.id}`;
    const deliveries = a.delivery_details.map((d) => [
      d.sink,
      [stateChip(d.state), d.state === 'failed' ?
          [' ', el('button', {type: 'button', 'data-retry': d.id, onclick: () => retryDelivery(d.id, a.id)}, 'Retry')] :
          null],
      [d.reason, d.why && d.why !== d.reason ? ` (${d.why})` : ''].filter(Boolean).join(''),
      d.message || '',
      String(d.attempts),
      d.retry_at ? fmtTime(d.retry_at) : '',
      d.remote_id || '',
    ]);
    const copies = a.links.map((l) => [
      l.account,
      l.remote_id,
      l.matched_by + (l.confidence !== null && l.confidence !== undefined ? ` (${l.confidence})` : ''),
      l.chosen ? 'yes' : '',
      l.records === null || l.records === undefined ? '' : String(l.records),
      [l.has_power ? 'power' : '', l.has_hr ? 'heart rate' : ''].filter(Boolean).join(', '),
    ]);
    body.replaceChildren(
        facts([
          ['Start', fmtTime(a.start_time)],
          ['Sport', a.sport_family],
          ['Duration', fmtDuration(a.elapsed_s)],
          ['Distance', fmtKm(a.distance_m)],
          ['Ambiguous with', a.ambiguous_with ? a.ambiguous_with.join(', ') : null],
          ['Content', a.content_sha256 ? `sha256 ${a.content_sha256.slice(0, 16)}…` : null],
        ]),
        el('p', {id: 'details-message', class: 'message', role: 'status'}),
        el('h3', null, 'Deliveries'),
        deliveries.length ?
            table(['Sink', 'State', 'Reason', 'Message', 'Attempts', 'Retry at', 'Remote id'], deliveries) :
            el('p', {class: 'muted'}, 'No route sends this activity anywhere.'),
        el('h3', null, 'Copies'),
        table(['Account', 'Remote id', 'Matched by', 'Chosen', 'Records', 'Has'], copies),
        el('h3', null, 'Summary'),
        summaryFacts(a.summary));
  }

  // ---- jobs ----------------------------------------------------------------

  function jobRow(j) {
    const of = j.total === null || j.total === undefined ? '?' : j.total;
    const bar = el('progress', {max: j.total || 1, 'aria-label': `job ${j.id} progress`});
    if (j.total) bar.value = Math.min(j.done, j.total);
    else if (j.state === 'done') bar.value = 1;
    else bar.removeAttribute('value');  // indeterminate
    return el('li', {class: 'card job', 'data-job': j.id},
        el('span', null, el('strong', null, `${j.kind} #${j.id}`), ' ',
            [j.route ? `route ${j.route}` : null, j.account ? `account ${j.account}` : null].filter(Boolean).join(', ')),
        stateChip(j.state),
        bar,
        el('span', {class: 'muted'}, `${j.done} of ${of} items · started ${fmtTime(j.created_at)} · updated ` +
            `${fmtTime(j.updated_at)}`),
        j.error ? el('span', {class: 's-failed'}, j.error) : null);
  }

  function fillSelect(select, values, empty) {
    const keep = select.value;
    select.replaceChildren(...values.map((v) => el('option', {value: v}, v)));
    if (!values.length) select.append(el('option', {value: ''}, empty));
    select.disabled = !values.length;
    if (values.includes(keep)) select.value = keep;
  }

  loaders.jobs = async () => {
    const [jobs, accounts, config] =
        await Promise.all([api('GET', '/v1/jobs'), api('GET', '/v1/accounts'), api('GET', '/v1/config')]);
    fillSelect($('sync-form').elements.account, accounts.accounts.filter((a) => a.items).map((a) => a.id),
        'no source accounts');
    fillSelect($('backfill-form').elements.route, (config.routes || []).map((r) => r.id), 'no routes configured');
    const list = $('job-list');
    list.replaceChildren(...jobs.jobs.map(jobRow));
    if (!jobs.jobs.length) list.append(el('li', {class: 'muted'}, 'No jobs yet.'));
  };

  // ---- plan ----------------------------------------------------------------

  loaders.plan = async () => {
    $('plan-totals').textContent = 'Running the dry run…';
    const p = await api('POST', '/v1/plan');
    const t = p.totals;
    $('plan-totals').textContent =
        `${t.deliver} to deliver, ${t.skip} skipped, ${t.already_delivered} already delivered.`;
    const sinks = new Map();
    for (const row of p.plan) {
      if (!sinks.has(row.sink)) sinks.set(row.sink, new Map());
      const key = row.action === 'skip' ? `skip: ${row.reason || 'no reason given'}` : row.action.replace('_', ' ');
      const groups = sinks.get(row.sink);
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(row);
    }
    const out = [];
    for (const [sink, groups] of [...sinks].sort((a, b) => a[0].localeCompare(b[0]))) {
      const counts = [...groups].map(([k, rows]) => `${rows.length} ${k}`).join(', ');
      out.push(el('details', {class: 'group', 'data-sink': sink, open: sinks.size <= 3},
          el('summary', null, `${sink}: ${counts}`),
          [...groups].map(([k, rows]) => [
            el('h4', null, `${k} (${rows.length})`),
            table(['Activity', 'Start', 'Sport', 'Route'],
                rows.slice(0, 200).map((r) => [String(r.activity), fmtTime(r.start_time), r.sport_family || '',
                  r.route || ''])),
            rows.length > 200 ? el('p', {class: 'muted'}, `and ${rows.length - 200} more`) : null,
          ])));
    }
    if (!out.length) out.push(el('p', {class: 'muted'}, 'No route delivers anything: the plan is empty.'));
    $('plan-groups').replaceChildren(...out);
  };

  // ---- chart ---------------------------------------------------------------

  const PALETTE = ['#0b5cad', '#d9730d', '#1a7f37', '#b42318', '#8250df', '#9a6700', '#0e8a8a', '#bf3989'];

  function legend(names) {
    return el('ul', {class: 'legend'}, names.map((n, i) => el('li', null,
        el('span', {class: 'swatch', 'data-color': i}), n)));
  }

  // Stacked columns: one per label, one segment per series; the numbers are
  // also in the columns' titles and the table under the chart.
  function barChart(labels, series, names) {
    const width = Math.max(480, labels.length * 28 + 60);
    const height = 240;
    const top = 10;
    const bottom = 40;
    const left = 40;
    const totals = labels.map((_, i) => series.reduce((s, ser) => s + ser[i], 0));
    const max = Math.max(1, ...totals);
    const step = (width - left - 10) / labels.length;
    const scale = (height - top - bottom) / max;
    const g = svg('svg', {viewBox: `0 0 ${width} ${height}`, role: 'img',
                          'aria-label': `bar chart, highest column ${max}`});
    const ticks = max >= 4 ? [0, Math.round(max / 2), max] : [0, max];
    for (const v of ticks) {
      const y = height - bottom - v * scale;
      g.append(svg('line', {x1: left, x2: width - 10, y1: y, y2: y, stroke: 'currentColor', 'stroke-opacity': 0.15}),
          svg('text', {x: left - 6, y: y + 4, 'text-anchor': 'end'}, String(v)));
    }
    labels.forEach((label, i) => {
      let y = height - bottom;
      const x = left + i * step + step * 0.15;
      series.forEach((ser, k) => {
        if (!ser[i]) return;
        const h = ser[i] * scale;
        y -= h;
        g.append(svg('rect', {x, y, width: step * 0.7, height: h, fill: PALETTE[k % PALETTE.length]},
            svg('title', null, `${label}, ${names[k]}: ${ser[i]}`)));
      });
      if (labels.length <= 12 || i % 3 === 0) {
        g.append(svg('text', {x: x + step * 0.35, y: height - bottom + 14, 'text-anchor': 'middle'}, label));
      }
    });
    return g;
  }

  function paintSwatches(root) {
    // Colours are set from script (no inline style attribute, which the CSP forbids).
    for (const s of root.querySelectorAll('.swatch')) s.style.background = PALETTE[Number(s.dataset.color) % PALETTE.length];
  }

  loaders.chart = async () => {
    const now = new Date();
    const since = new Date(now.getFullYear() - 2, now.getMonth() + 1, 1);
    const months = [];
    for (let d = new Date(since); d <= now; d = new Date(d.getFullYear(), d.getMonth() + 1, 1)) {
      months.push(`${d.getFullYear()}-${pad(d.getMonth() + 1)}`);
    }
    const all = [];
    let cursor = null;
    do {
      const q = new URLSearchParams({since: `${since.getFullYear()}-${pad(since.getMonth() + 1)}-01`, limit: '500'});
      if (cursor) q.set('cursor', cursor);
      const d = await api('GET', `/v1/activities?${q}`);
      all.push(...d.activities);
      cursor = d.next_cursor;
    } while (cursor && all.length < 20000);

    const sources = new Map();
    const sinks = new Map();
    for (const a of all) {
      if (!a.start_time) continue;
      const t = new Date(a.start_time);
      const m = months.indexOf(`${t.getFullYear()}-${pad(t.getMonth() + 1)}`);
      if (m < 0) continue;
      for (const s of a.sources && a.sources.length ? a.sources : ['unknown']) {
        if (!sources.has(s)) sources.set(s, new Array(months.length).fill(0));
        sources.get(s)[m]++;
      }
      for (const [sink, state] of Object.entries(a.deliveries || {})) {
        if (!sinks.has(sink)) sinks.set(sink, {});
        sinks.get(sink)[state] = (sinks.get(sink)[state] || 0) + 1;
      }
    }
    const names = [...sources.keys()].sort();
    const monthsBox = $('chart-months');
    monthsBox.replaceChildren(
        barChart(months.map((m) => m.slice(2)), names.map((n) => sources.get(n)), names), legend(names),
        table(['Source', 'Activities'], names.map((n) => [n, String(sources.get(n).reduce((x, y) => x + y, 0))])));
    const states = ['delivered', 'duplicate', 'planned', 'in_flight', 'skipped', 'failed'];
    const sinkNames = [...sinks.keys()].sort();
    const sinkBox = $('chart-sinks');
    sinkBox.replaceChildren(
        barChart(sinkNames, states.map((st) => sinkNames.map((s) => sinks.get(s)[st] || 0)), states), legend(states),
        table(['Sink', ...states], sinkNames.map((s) => [s, ...states.map((st) => String(sinks.get(s)[st] || 0))])));
    paintSwatches(monthsBox);
    paintSwatches(sinkBox);
    if (!all.length) monthsBox.prepend(el('p', {class: 'muted'}, 'No activities in the last two years.'));
  };

  // ---- live updates --------------------------------------------------------

  // EventSource cannot send the Authorization header, so the event stream is
  // read with fetch() and parsed here; it reconnects with Last-Event-ID.
  const live = {controller: null, lastId: null, retryMs: 2000, timer: null};

  function setLive(on, text) {
    const l = $('live');
    l.className = on ? 'live on' : 'live off';
    l.textContent = text;
  }

  function stopEvents() {
    if (live.controller) live.controller.abort();
    live.controller = null;
    clearTimeout(live.timer);
    live.timer = null;
  }

  function startEvents() {
    stopEvents();
    const controller = new AbortController();
    live.controller = controller;
    followEvents(controller).catch(() => {}).finally(() => {
      if (live.controller !== controller || !token()) return;
      setLive(false, 'Live updates: reconnecting…');
      live.timer = setTimeout(startEvents, live.retryMs);
    });
  }

  async function followEvents(controller) {
    const headers = {Accept: 'text/event-stream', Authorization: `Bearer ${token() || ''}`};
    if (live.lastId) headers['Last-Event-ID'] = live.lastId;
    const res = await fetch('/v1/events', {headers, signal: controller.signal, cache: 'no-store', credentials: 'omit'});
    if (res.status === 401) {
      signOut(refusalText(''));
      return;
    }
    if (!res.ok || !res.body) throw new Error(`events: HTTP ${res.status}`);
    setLive(true, 'Live');
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += value.replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        dispatchBlock(block);
      }
    }
  }

  function dispatchBlock(block) {
    let id = null;
    let type = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (!line || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
      else if (field === 'retry' && /^\d+$/.test(value)) live.retryMs = Number(value);
    }
    if (id !== null) live.lastId = id;
    if (!data.length) return;
    let payload = null;
    try {
      payload = JSON.parse(data.join('\n'));
    } catch (e) {
      return;
    }
    onEvent(type, payload);
  }

  let refreshTimer = null;
  function refreshSoon(view) {
    if (visible !== view) return;
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => {
      if (visible === view) loaders[view]().catch(failed);
    }, 300);
  }

  function onEvent(type, d) {
    if (type === 'activity.ingested') {
      activityIngested(d.activity).catch(failed);
      refreshSoon('overview');
    } else if (type === 'delivery.updated') {
      deliveryUpdated(d.activity, d.sink, d.state);
    } else if (type === 'job.updated') {
      refreshSoon('jobs');
      refreshSoon('overview');
    } else if (type.startsWith('account.') || type.startsWith('item.')) {
      refreshSoon('overview');
    }
  }

  // ---- start ---------------------------------------------------------------

  function wire() {
    $('signin-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const v = $('token').value;
      if (v.trim()) signIn(v);
    });
    $('signout').addEventListener('click', () => signOut('Signed out.'));
    window.addEventListener('hashchange', () => {
      if (!token() || location.hash.startsWith('#code=')) return;
      if (signedIn) show(currentView());
      else enter();
    });
    $('filters').addEventListener('submit', (e) => {
      e.preventDefault();
      const f = e.target.elements;
      acts.filters = {since: f.since.value, until: f.until.value, sport: f.sport.value, state: f.state.value};
      resetActivities();
      loadMoreActivities().catch(failed);
    });
    $('more').addEventListener('click', () => loadMoreActivities().catch(failed));
    $('details-close').addEventListener('click', () => $('details').close());
    $('details').addEventListener('close', () => {
      delete $('details').dataset.activity;
    });
    $('sync-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const account = e.target.elements.account.value;
      if (!account) return;
      try {
        const r = await api('POST', `/v1/accounts/${encodeURIComponent(account)}/sync`);
        $('jobs-message').textContent = `Sync of ${account} started: job ${r.job.id}.`;
        await loaders.jobs();
      } catch (err) {
        $('jobs-message').textContent = err.message;
      }
    });
    $('backfill-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const f = e.target.elements;
      const body = {route: f.route.value, since: f.since.value};
      if (f.until.value) body.until = f.until.value;
      try {
        const r = await api('POST', '/v1/backfill', body);
        $('jobs-message').textContent = `Backfill of route ${body.route} since ${body.since} started: job ${r.job.id}.`;
        await loaders.jobs();
      } catch (err) {
        $('jobs-message').textContent = err.message;
      }
    });
    $('plan-run').addEventListener('click', () => loaders.plan().catch(failed));
  }

  async function boot() {
    wire();
    const m = /^#code=([0-9A-Za-z]+)$/.exec(location.hash);
    if (m) {
      const problem = await redeemCode(m[1]);
      if (problem) {
        showSignin(problem);
        return;
      }
    }
    if (!token()) {
      showSignin('');
      return;
    }
    enter();
  }

  boot();
})();
