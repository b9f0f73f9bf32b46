/* Operations dashboard: stacked 14-day chart (inline SVG), periodic refresh from /api/dashboard, re-run buttons. */
(function () {
  "use strict";
  var gettext = window.gettext || function (text) { return text; };
  var interpolate = window.interpolate || function (fmt, obj) {
    return fmt.replace(/%\((\w+)\)s/g, function (m, key) { return String(obj[key]); });
  };
  var LABELS = {
    ok: gettext("ok"), degraded: gettext("degraded"), down: gettext("down"), unknown: gettext("unknown"),
    pending: gettext("pending"), running: gettext("running"), success: gettext("success"),
    error: gettext("error"), cancelled: gettext("cancelled")
  };
  function stateLabel(state) { return LABELS[state] || String(state); }
  function lang() { return document.documentElement.lang || undefined; }
  function duration(seconds) {
    var s = Math.round(seconds), m = Math.floor(s / 60), sec = s % 60;
    if (m >= 60) return interpolate(gettext("%(h)s h %(m)s min"), { h: Math.floor(m / 60), m: ("0" + (m % 60)).slice(-2) }, true);
    if (m) return interpolate(gettext("%(m)s min %(s)s s"), { m: m, s: ("0" + sec).slice(-2) }, true);
    return interpolate(gettext("%(s)s s"), { s: sec }, true);
  }

  var root = document.getElementById("rs-dash");
  if (!root) return;
  var SVG = "http://www.w3.org/2000/svg";
  var COLORS = { success: "#2e7d32", error: "#c62828", cancelled: "#ef6c00", running: "#1565c0", pending: "#9e9e9e" };
  var canRerun = !!root.querySelector("[data-can-rerun]");
  var refreshMs = (parseInt(root.dataset.refreshSeconds, 10) || 15) * 1000;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function csrfToken() {
    var input = root.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function drawChart(box, chart) {
    var old = box.querySelector("svg, .rs-legend");
    while (old) { old.remove(); old = box.querySelector("svg, .rs-legend"); }
    var days = chart.days || [], series = chart.series || [];
    var totals = days.map(function (_, i) { return series.reduce(function (s, x) { return s + (x.values[i] || 0); }, 0); });
    var max = Math.max.apply(null, [1].concat(totals));
    var W = 700, H = 140, pad = 18, bw = (W - pad) / Math.max(days.length, 1);
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", chart.title || "");
    days.forEach(function (day, i) {
      var y = H - pad;
      series.forEach(function (s) {
        var v = s.values[i] || 0;
        if (!v) return;
        var h = (H - pad - 4) * v / max;
        y -= h;
        var r = document.createElementNS(SVG, "rect");
        r.setAttribute("x", pad + i * bw + 2);
        r.setAttribute("y", y);
        r.setAttribute("width", Math.max(bw - 4, 1));
        r.setAttribute("height", h);
        r.setAttribute("fill", COLORS[s.status] || "#607d8b");
        var t = document.createElementNS(SVG, "title");
        t.textContent = new Date(day + "T12:00:00Z").toLocaleDateString(lang(), { timeZone: "UTC" }) + " " + stateLabel(s.status) + ": " + v.toLocaleString(lang());
        r.appendChild(t);
        svg.appendChild(r);
      });
      if (i % 2 === 0 || days.length <= 7) {
        var label = document.createElementNS(SVG, "text");
        label.setAttribute("x", pad + i * bw + bw / 2);
        label.setAttribute("y", H - 4);
        label.setAttribute("text-anchor", "middle");
        label.setAttribute("font-size", "10");
        label.setAttribute("fill", "currentColor");
        label.textContent = day.slice(8, 10) + "/" + day.slice(5, 7);
        svg.appendChild(label);
      }
    });
    var axis = document.createElementNS(SVG, "text");
    axis.setAttribute("x", 2); axis.setAttribute("y", 10); axis.setAttribute("font-size", "10");
    axis.setAttribute("fill", "currentColor"); axis.textContent = max.toLocaleString(lang());
    svg.appendChild(axis);
    box.appendChild(svg);
    var legend = el("div", { "class": "rs-legend" });
    series.forEach(function (s) {
      var item = el("span", {}, stateLabel(s.status));
      var sw = el("i"); sw.style.background = COLORS[s.status] || "#607d8b";
      item.prepend(sw);
      legend.appendChild(item);
    });
    box.appendChild(legend);
  }

  function activityRow(a) {
    var tr = el("tr", { "data-job": a.job_id });
    var link = el("a", { href: a.url }, a.job_id);
    var td = el("td"); td.appendChild(link); tr.appendChild(td);
    tr.appendChild(el("td", {}, a.systems));
    var st = el("td"); st.appendChild(el("span", { "class": "rs-badge", "data-status": a.status }, stateLabel(a.status).toUpperCase()));
    tr.appendChild(st);
    tr.appendChild(el("td", { "class": "rs-hide-sm" }, a.duration_seconds == null ? "-" : duration(a.duration_seconds)));
    tr.appendChild(el("td", { "class": "rs-hide-sm" }, a.by));
    var act = el("td");
    if (a.rerunnable && canRerun) act.appendChild(el("button", { type: "button", "class": "button", "data-rerun": a.job_id }, root.dataset.labelRerun));
    tr.appendChild(act);
    return tr;
  }

  function update(data) {
    (data.cards || []).forEach(function (card) {
      var box = root.querySelector('[data-card="' + CSS.escape(card.id) + '"]');
      if (!box) return;
      var badge = box.querySelector("h2 .rs-badge");
      if (badge) { badge.dataset.status = card.state; badge.textContent = stateLabel(card.state).toUpperCase(); }
      (card.metrics || []).forEach(function (m) {
        var dd = box.querySelector('[data-metric="' + CSS.escape(m.key) + '"] dd');
        if (!dd) return;
        var target = dd.querySelector("a") || dd;
        target.textContent = typeof m.value === "number" ? m.value.toLocaleString(lang()) : m.value;
      });
      var chartBox = box.querySelector("[data-chart]");
      if (chartBox && card.chart) drawChart(chartBox, card.chart);
      var body = box.querySelector("[data-activity] tbody");
      if (body && card.activity) body.replaceChildren.apply(body, card.activity.map(activityRow));
    });
    var stamp = root.querySelector('[data-role="updated"]');
    if (stamp) {
      var zone = root.dataset.timeZone;
      stamp.textContent = root.dataset.labelUpdated + " " +
        new Date().toLocaleTimeString(lang(), zone ? { timeZone: zone } : {}) + (zone ? " (" + zone + ")" : "");
    }
  }

  function refresh() {
    fetch(root.dataset.endpoint, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(update)
      .catch(function () {
        var stamp = root.querySelector('[data-role="updated"]');
        if (stamp) stamp.textContent = root.dataset.labelFailed;
      })
      .finally(function () { window.setTimeout(refresh, refreshMs); });
  }

  root.addEventListener("click", function (event) {
    var button = event.target.closest("[data-rerun]");
    if (!button) return;
    button.disabled = true;
    fetch("/api/jobs/" + button.dataset.rerun + "/rerun", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Content-Type": "application/json", Accept: "application/json" },
      body: "{}"
    })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (!res.ok) {
          window.alert(interpolate(gettext("Re-run refused: %(reason)s"), { reason: res.body.detail || res.body.code }, true));
          button.disabled = false;
          return;
        }
        window.location.href = "/console/jobs/" + res.body.id + "/";
      })
      .catch(function () { window.alert(gettext("The server cannot be reached; try again.")); button.disabled = false; });
  });

  var initial = JSON.parse(document.getElementById("rs-dash-data").textContent);
  update(initial);
  window.setTimeout(refresh, refreshMs);
})();
