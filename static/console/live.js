/* Live job panel: websocket stream with gap-free resume, windowed log view, filters, cancel. No build step. */
(function () {
  "use strict";

  var root = document.getElementById("rs-live");
  if (!root) return;
  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, many, n) { return n === 1 ? one : many; };
  var interpolate = window.interpolate || function (fmt, obj) {
    return fmt.replace(/%\((\w+)\)s/g, function (m, key) { return String(obj[key]); });
  };
  var STATUS_LABELS = {
    PENDING: gettext("PENDING"), RUNNING: gettext("RUNNING"), SUCCESS: gettext("SUCCESS"),
    ERROR: gettext("ERROR"), CANCELLED: gettext("CANCELLED")
  };
  var config = JSON.parse(document.getElementById("rs-live-config").textContent);
  var jobId = config.id;
  var ROW = 18; // px per row; must match .rs-log-row in console.css
  var OVERSCAN = 20;
  var FINAL = { SUCCESS: 1, ERROR: 1, CANCELLED: 1 };

  function $(role) { return root.querySelector('[data-role="' + role + '"]'); }
  var viewport = $("viewport"), spacer = $("spacer"), rowsEl = $("rows"), countEl = $("count");
  var followBox = $("follow"), systemSel = $("system"), notice = $("notice"), connEl = $("conn");
  var searchBox = $("search"), newLinesBtn = $("new-lines");

  // --- state ---------------------------------------------------------------------
  var lines = [];        // every line received, in seq order
  var visible = [];      // indices into lines that pass the filters
  var lastSeq = 0;       // highest seq received: the resume point
  var levels = { DEBUG: true, INFO: true, WARNING: true, ERROR: true, CRITICAL: true };
  var system = "";
  var needle = "";       // lower-cased search text
  var follow = true;
  var unseen = 0;        // lines that arrived (and pass the filters) while the view was paused
  var finished = !!FINAL[String(config.status).toUpperCase()];
  var startedAt = config.started_at ? Date.parse(config.started_at) : null;
  var finishedAt = config.finished_at ? Date.parse(config.finished_at) : null;
  var completed = false; // job_complete received on this page: the stream is whole
  var socket = null, attempts = 0, reconnectTimer = null, renderQueued = false;

  // Times are shown in the console's zone (TIME_ZONE), as the server shows them, not the browser's.
  var clockFormat = null;
  try {
    clockFormat = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
      hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false, timeZone: root.dataset.timeZone || undefined
    });
  } catch (e) { clockFormat = null; }
  function clock(stamp) {
    if (!stamp) return "";
    var when = new Date(stamp);
    if (!clockFormat || isNaN(when.getTime())) return String(stamp).slice(11, 19);
    return clockFormat.format(when);
  }

  function passes(line) {
    return levels[line.level] !== false && (!system || line.sistema_id === system) &&
      (!needle || String(line.mensagem).toLowerCase().indexOf(needle) >= 0);
  }

  function addLines(batch) {
    var added = 0;
    for (var i = 0; i < batch.length; i++) {
      var line = batch[i];
      if (line.seq <= lastSeq) continue; // duplicate of something already shown
      lastSeq = line.seq;
      lines.push(line);
      if (passes(line)) { visible.push(lines.length - 1); if (!follow) unseen++; }
      added++;
    }
    if (added) { showUnseen(); scheduleRender(); }
  }

  function refilter() {
    visible = [];
    for (var i = 0; i < lines.length; i++) if (passes(lines[i])) visible.push(i);
    scheduleRender();
  }

  // --- windowed rendering: only the rows in view (plus overscan) exist in the DOM ----------
  function scheduleRender() {
    if (renderQueued) return;
    renderQueued = true;
    window.requestAnimationFrame(render);
  }

  function render() {
    renderQueued = false;
    spacer.style.height = visible.length * ROW + "px";
    if (follow) viewport.scrollTop = viewport.scrollHeight;
    var first = Math.max(0, Math.floor(viewport.scrollTop / ROW) - OVERSCAN);
    var last = Math.min(visible.length, Math.ceil((viewport.scrollTop + viewport.clientHeight) / ROW) + OVERSCAN);
    var frag = document.createDocumentFragment();
    for (var i = first; i < last; i++) {
      var line = lines[visible[i]];
      var row = document.createElement("div");
      row.className = "rs-log-row lvl-" + line.level;
      row.style.top = i * ROW + "px";
      row.dataset.seq = line.seq;
      var seq = document.createElement("span");
      seq.className = "rs-seq";
      seq.textContent = line.seq;
      var meta = document.createElement("span");
      meta.className = "rs-meta";
      meta.textContent = clock(line.timestamp) + " " + line.level + " " + line.sistema;
      var msg = document.createElement("span");
      msg.className = "rs-msg";
      msg.textContent = line.mensagem;
      row.appendChild(seq); row.appendChild(meta); row.appendChild(msg);
      frag.appendChild(row);
    }
    rowsEl.replaceChildren(frag);
    var locale = document.documentElement.lang || undefined;
    countEl.textContent = visible.length.toLocaleString(locale) + " / " + lines.length.toLocaleString(locale);
  }

  function showUnseen() {
    newLinesBtn.hidden = follow || unseen === 0;
    newLinesBtn.textContent = interpolate(ngettext("%(n)s new line \u2193", "%(n)s new lines \u2193", unseen), { n: unseen }, true);
  }

  function setFollow(on) {
    follow = on;
    followBox.checked = on;
    if (on) unseen = 0;
    showUnseen();
    scheduleRender();
  }

  viewport.addEventListener("scroll", function () {
    var atBottom = viewport.scrollTop + viewport.clientHeight >= viewport.scrollHeight - ROW * 2;
    if (follow && !atBottom) setFollow(false);
    scheduleRender();
  });
  followBox.addEventListener("change", function () { setFollow(followBox.checked); });
  newLinesBtn.addEventListener("click", function () { setFollow(true); });
  var searchTimer = null;
  searchBox.addEventListener("input", function () {
    window.clearTimeout(searchTimer);
    searchTimer = window.setTimeout(function () { needle = searchBox.value.trim().toLowerCase(); refilter(); }, 150);
  });
  systemSel.addEventListener("change", function () { system = systemSel.value; refilter(); });
  $("levels").addEventListener("change", function (e) {
    if (e.target && e.target.value) { levels[e.target.value] = e.target.checked; refilter(); }
  });

  // --- status, steps, elapsed ----------------------------------------------------------
  function setBadge(el, status) {
    el.dataset.status = status.toLowerCase();
    el.textContent = STATUS_LABELS[status.toUpperCase()] || status.toUpperCase();
  }

  function jobProgress() {
    var bars = root.querySelectorAll('[data-role="steps"] progress');
    if (!bars.length) return;
    var sum = 0;
    for (var i = 0; i < bars.length; i++) sum += Number(bars[i].value);
    var pct = Math.round(sum / bars.length);
    $("job-progress").value = pct;
    $("job-pct").textContent = pct.toLocaleString(document.documentElement.lang || undefined) + "%";
  }

  function onStatus(p) {
    var step = root.querySelector('[data-role="steps"] li[data-system="' + CSS.escape(p.sistema_id) + '"]');
    if (step) {
      setBadge(step.querySelector(".rs-badge"), p.status);
      step.querySelector("progress").value = p.progresso;
      step.querySelector(".rs-step-pct").textContent = p.progresso + "%";
      step.querySelector(".rs-step-msg").textContent = p.mensagem || "";
      jobProgress();
    }
    if (!finished && (p.status === "RUNNING" || p.status === "PENDING") && (!step || config.steps.length === 1)) {
      setBadge($("job-status"), p.status);
      if (p.status === "RUNNING" && !startedAt) startedAt = Date.now();
    }
  }

  function onComplete(p) {
    finished = true;
    completed = true;
    setBadge($("job-status"), p.status);
    if (startedAt && p.duracao_segundos != null) finishedAt = startedAt + p.duracao_segundos * 1000;
    else finishedAt = Date.now();
    var cancel = $("cancel");
    if (cancel) cancel.disabled = true;
    if (p.status === "SUCCESS") {
      var bars = root.querySelectorAll('[data-role="steps"] progress');
      for (var i = 0; i < bars.length; i++) bars[i].value = 100;
    }
    jobProgress();
    tick();
    say({
      SUCCESS: gettext("The run finished successfully."),
      ERROR: gettext("The run failed; see the steps and the log."),
      CANCELLED: gettext("The run was cancelled.")
    }[p.status] || "");
    var again = $("rerun-all"), failed = $("rerun-failed");
    if (again) again.hidden = false;
    if (failed) failed.hidden = p.status === "SUCCESS";
  }

  function tick() {
    var el = $("elapsed");
    if (!startedAt) { el.textContent = "–"; return; }
    var s = Math.max(0, Math.round(((finishedAt || Date.now()) - startedAt) / 1000));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var two = function (n) { return (n < 10 ? "0" : "") + n; };
    if (h) el.textContent = interpolate(gettext("%(h)s h %(m)s min"), { h: h, m: two(m) }, true);
    else if (m) el.textContent = interpolate(gettext("%(m)s min %(s)s s"), { m: m, s: two(sec) }, true);
    else el.textContent = interpolate(gettext("%(s)s s"), { s: sec }, true);
  }
  window.setInterval(function () { if (!finished) tick(); }, 1000);
  tick();
  jobProgress();

  function say(text, link) {
    notice.hidden = !text;
    notice.textContent = text || "";
    if (link) {
      var a = document.createElement("a");
      a.href = link.href;
      a.textContent = link.text;
      a.dataset.role = "login-again";
      notice.appendChild(document.createTextNode(" "));
      notice.appendChild(a);
    }
  }

  var sessionEnded = false;
  function endSession() {
    sessionEnded = true;
    window.clearTimeout(reconnectTimer);
    setConn("ended");
    say(gettext("Session ended."), { href: root.dataset.login, text: gettext("Log in again") });
  }

  // A refused handshake looks like any drop to the browser: ask the server whether we are still logged in.
  function checkSession(then) {
    window.fetch("/api/jobs/" + jobId, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) { if (answer.status === 401 || answer.status === 403) endSession(); else then(); })
      .catch(function () { then(); });
  }

  // --- websocket with backoff, resuming from lastSeq ----------------------------------
  function setConn(state) { connEl.dataset.state = state; connEl.textContent = connEl.dataset["label" + state] || state; }

  function connect() {
    reconnectTimer = null;
    var proto = window.location.protocol === "https:" ? "wss:" : "ws:";
    var url = proto + "//" + window.location.host + "/ws/jobs/" + jobId + "?batch=1&last_seq=" + lastSeq;
    setConn("connecting");
    socket = new WebSocket(url);
    var opened = false;
    socket.onopen = function () { opened = true; attempts = 0; setConn("live"); };
    socket.onmessage = function (event) {
      var msg;
      try { msg = JSON.parse(event.data); } catch (e) { return; }
      var p = msg.payload || {};
      if (msg.type === "log_batch") addLines(p.lines || []);
      else if (msg.type === "log") addLines([p]);
      else if (msg.type === "status") onStatus(p);
      else if (msg.type === "job_complete") onComplete(p);
      else if (msg.type === "cancel_requested") say(gettext("Cancel requested; the run stops shortly."));
      else if (msg.type === "error") say(p.detail || p.code);
    };
    socket.onclose = function (event) {
      setConn("offline");
      socket = null;
      if (completed || sessionEnded) return; // the backlog and job_complete arrived: nothing more will come
      if (event.code === 4401 || event.code === 4403) { endSession(); return; }
      attempts++;
      var delay = Math.min(10000, 500 * Math.pow(2, attempts - 1)) * (0.75 + Math.random() * 0.5);
      var retry = function () { reconnectTimer = window.setTimeout(connect, delay); };
      if (!opened) checkSession(retry); else retry();
    };
  }

  var cancelButton = $("cancel");
  if (cancelButton) {
    cancelButton.addEventListener("click", function () {
      if (!window.confirm(gettext("Cancel this run?"))) return;
      if (socket && socket.readyState === WebSocket.OPEN) {
        socket.send(JSON.stringify({ type: "cancel", job_id: jobId }));
        return;
      }
      // The socket is down: the same service over REST.
      window.fetch("/api/cancel/" + jobId, {
        method: "POST", credentials: "same-origin",
        headers: { "X-CSRFToken": $("csrf").value, Accept: "application/json" }
      }).then(function (answer) {
        if (answer.status === 401 || answer.status === 403) { endSession(); return; }
        if (answer.ok) { say(gettext("Cancel requested; the run stops shortly.")); return; }
        return answer.json().then(function (body) {
          say(interpolate(gettext("Cancel refused: %(reason)s"), { reason: body.detail || answer.status }, true));
        });
      }).catch(function () { say(gettext("The server cannot be reached; try again.")); });
    });
  }

  // Hooks for the browser tests and for operators debugging from the console.
  window.resyncLive = {
    lastSeq: function () { return lastSeq; },
    seqs: function () { return lines.map(function (l) { return l.seq; }); },
    socket: function () { return socket; },
    connected: function () { return !!socket && socket.readyState === WebSocket.OPEN; },
    finished: function () { return completed; },
    visibleCount: function () { return visible.length; },
    sessionEnded: function () { return sessionEnded; }
  };
  connect();
})();
