/* Live job panel: websocket stream with gap-free resume, windowed log view, filters, cancel. No build step. */
(function () {
  "use strict";

  var root = document.getElementById("rs-live");
  if (!root) return;
  var config = JSON.parse(document.getElementById("rs-live-config").textContent);
  var jobId = config.id;
  var ROW = 18; // px per row; must match .rs-log-row in console.css
  var OVERSCAN = 20;
  var FINAL = { SUCCESS: 1, ERROR: 1, CANCELLED: 1 };

  function $(role) { return root.querySelector('[data-role="' + role + '"]'); }
  var viewport = $("viewport"), spacer = $("spacer"), rowsEl = $("rows"), countEl = $("count");
  var followBox = $("follow"), systemSel = $("system"), notice = $("notice"), connEl = $("conn");

  // --- state ---------------------------------------------------------------------
  var lines = [];        // every line received, in seq order
  var visible = [];      // indices into lines that pass the filters
  var lastSeq = 0;       // highest seq received: the resume point
  var levels = { DEBUG: true, INFO: true, WARNING: true, ERROR: true, CRITICAL: true };
  var system = "";
  var follow = true;
  var finished = !!FINAL[String(config.status).toUpperCase()];
  var startedAt = config.started_at ? Date.parse(config.started_at) : null;
  var finishedAt = config.finished_at ? Date.parse(config.finished_at) : null;
  var completed = false; // job_complete received on this page: the stream is whole
  var socket = null, attempts = 0, reconnectTimer = null, renderQueued = false;

  function passes(line) {
    return levels[line.level] !== false && (!system || line.sistema_id === system);
  }

  function addLines(batch) {
    var added = 0;
    for (var i = 0; i < batch.length; i++) {
      var line = batch[i];
      if (line.seq <= lastSeq) continue; // duplicate of something already shown
      lastSeq = line.seq;
      lines.push(line);
      if (passes(line)) visible.push(lines.length - 1);
      added++;
    }
    if (added) scheduleRender();
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
      meta.textContent = (line.timestamp || "").slice(11, 19) + " " + line.level + " " + line.sistema;
      var msg = document.createElement("span");
      msg.className = "rs-msg";
      msg.textContent = line.mensagem;
      row.appendChild(seq); row.appendChild(meta); row.appendChild(msg);
      frag.appendChild(row);
    }
    rowsEl.replaceChildren(frag);
    countEl.textContent = visible.length + " / " + lines.length;
  }

  viewport.addEventListener("scroll", function () {
    var atBottom = viewport.scrollTop + viewport.clientHeight >= viewport.scrollHeight - ROW * 2;
    if (follow && !atBottom) { follow = false; followBox.checked = false; }
    scheduleRender();
  });
  followBox.addEventListener("change", function () { follow = followBox.checked; scheduleRender(); });
  systemSel.addEventListener("change", function () { system = systemSel.value; refilter(); });
  $("levels").addEventListener("change", function (e) {
    if (e.target && e.target.value) { levels[e.target.value] = e.target.checked; refilter(); }
  });

  // --- status, steps, elapsed ----------------------------------------------------------
  function setBadge(el, status) {
    el.dataset.status = status.toLowerCase();
    el.textContent = status.toUpperCase();
  }

  function onStatus(p) {
    var step = root.querySelector('[data-role="steps"] li[data-system="' + CSS.escape(p.sistema_id) + '"]');
    if (step) {
      setBadge(step.querySelector(".rs-badge"), p.status);
      step.querySelector("progress").value = p.progresso;
      step.querySelector(".rs-step-pct").textContent = p.progresso + "%";
      step.querySelector(".rs-step-msg").textContent = p.mensagem || "";
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
    tick();
  }

  function tick() {
    var el = $("elapsed");
    if (!startedAt) { el.textContent = "–"; return; }
    var s = Math.max(0, Math.round(((finishedAt || Date.now()) - startedAt) / 1000));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    el.textContent = (h ? h + "h " : "") + (h || m ? m + "m " : "") + sec + "s";
  }
  window.setInterval(function () { if (!finished) tick(); }, 1000);
  tick();

  function say(text) {
    notice.hidden = !text;
    notice.textContent = text || "";
  }

  // --- websocket with backoff, resuming from lastSeq ----------------------------------
  function setConn(state) { connEl.dataset.state = state; connEl.textContent = connEl.dataset["label" + state] || state; }

  function connect() {
    reconnectTimer = null;
    var proto = window.location.protocol === "https:" ? "wss:" : "ws:";
    var url = proto + "//" + window.location.host + "/ws/jobs/" + jobId + "?batch=1&last_seq=" + lastSeq;
    setConn("connecting");
    socket = new WebSocket(url);
    socket.onopen = function () { attempts = 0; setConn("live"); };
    socket.onmessage = function (event) {
      var msg;
      try { msg = JSON.parse(event.data); } catch (e) { return; }
      var p = msg.payload || {};
      if (msg.type === "log_batch") addLines(p.lines || []);
      else if (msg.type === "log") addLines([p]);
      else if (msg.type === "status") onStatus(p);
      else if (msg.type === "job_complete") onComplete(p);
      else if (msg.type === "cancel_requested") say(root.dataset.msgCancel || "cancel requested");
      else if (msg.type === "error") say(p.detail || p.code);
    };
    socket.onclose = function () {
      setConn("offline");
      socket = null;
      if (completed) return; // the backlog and job_complete arrived: nothing more will come
      attempts++;
      var delay = Math.min(10000, 500 * Math.pow(2, attempts - 1)) * (0.75 + Math.random() * 0.5);
      reconnectTimer = window.setTimeout(connect, delay);
    };
  }

  var cancelButton = $("cancel");
  if (cancelButton) {
    cancelButton.addEventListener("click", function () {
      if (!socket || socket.readyState !== WebSocket.OPEN) { say("offline"); return; }
      if (!window.confirm(cancelButton.dataset.confirm || "Cancel this run?")) return;
      socket.send(JSON.stringify({ type: "cancel", job_id: jobId }));
    });
  }

  // Hooks for the browser tests and for operators debugging from the console.
  window.resyncLive = {
    lastSeq: function () { return lastSeq; },
    seqs: function () { return lines.map(function (l) { return l.seq; }); },
    socket: function () { return socket; },
    connected: function () { return !!socket && socket.readyState === WebSocket.OPEN; },
    finished: function () { return completed; }
  };
  connect();
})();
