/* report.js - draws report.html from the run's data (the JSON of the script element #sqn-data), as inline SVG:
   the loss, mIoU, learning-rate and search curves, the candidate probabilities as a heat map, the pareto
   plot with details on hover, the settings, timings and files. Embedded in the page by
   runtime/report/CMakeLists.txt; no libraries, no network. Text from the data only ever goes into the page
   through textContent and setAttribute. Self-test: errors and the number of points each plot drew are
   written as JSON into the element #selftest (the headless-browser test reads them). */
(function () {
  "use strict";
  var SVGNS = "http://www.w3.org/2000/svg";
  var selftest = { errors: [], points: {}, sections: [] };
  var hoverTargets = []; /* [name, element]: hovered by the self-test when the page is opened as report.html#selftest */
  var selftestEl = document.getElementById("selftest");

  function publish() {
    if (selftestEl) selftestEl.textContent = JSON.stringify(selftest);
  }
  function recordError(msg) {
    selftest.errors.push(String(msg));
    publish();
  }
  window.addEventListener("error", function (e) {
    recordError((e && e.message) || "error");
  });
  document.addEventListener("securitypolicyviolation", function (e) {
    recordError("blocked by the page's Content-Security-Policy: " + e.violatedDirective + " " + e.blockedURI);
  });
  window.addEventListener("unhandledrejection", function (e) {
    recordError("unhandled rejection: " + (e && e.reason));
  });
  var consoleError = console.error;
  console.error = function () {
    recordError("console.error: " + Array.prototype.join.call(arguments, " "));
    return consoleError.apply(console, arguments);
  };

  /* ---- DOM helpers ---- */
  function el(tag, attrs, parent, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (parent) parent.appendChild(e);
    return e;
  }
  function sv(tag, attrs, parent, text) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (parent) parent.appendChild(e);
    return e;
  }
  function isNum(v) {
    return typeof v === "number" && isFinite(v);
  }
  function fmt(v, digits) {
    if (!isNum(v)) return v === null || v === undefined ? "-" : String(v);
    var a = Math.abs(v);
    if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential((digits || 4) - 1);
    return String(Number(v.toPrecision(digits || 4)));
  }
  function plain(v) {
    return isNum(v) ? String(Number.isInteger(v) ? v : Number(v.toPrecision(8))) : "-";
  }
  function seconds(s) {
    if (!isNum(s)) return "-";
    if (s < 120) return s.toFixed(1) + " s";
    var m = Math.floor(s / 60);
    if (m < 120) return m + " min " + Math.round(s - 60 * m) + " s";
    return Math.floor(m / 60) + " h " + (m % 60) + " min";
  }
  function note(text) {
    el("li", {}, document.getElementById("notes"), text);
  }
  function section(id, title) {
    var s = el("section", { id: id }, document.getElementById("main"));
    el("h2", {}, s, title);
    el("a", { href: "#" + id }, document.getElementById("nav"), title);
    selftest.sections.push(id);
    return s;
  }

  /* ---- the tooltip ---- */
  var tip = el("div", { class: "tip", hidden: "" }, document.body);
  function showTip(evt, lines, archList) {
    tip.textContent = "";
    lines.forEach(function (l) {
      el("div", {}, tip, l);
    });
    if (archList && archList.length) {
      var box = el("div", { class: "arch-list" }, tip);
      archList.forEach(function (l) {
        el("div", {}, box, l);
      });
    }
    tip.hidden = false;
    var w = tip.offsetWidth, h = tip.offsetHeight;
    var x = evt.clientX + 14, y = evt.clientY + 14;
    if (x + w > window.innerWidth - 4) x = Math.max(4, evt.clientX - w - 14);
    if (y + h > window.innerHeight - 4) y = Math.max(4, evt.clientY - h - 14);
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  }
  function hideTip() {
    tip.hidden = true;
  }

  /* ---- axes ---- */
  /* Ticks at 1, 2 or 5 times a power of ten covering [lo, hi] (whole numbers when integer is set), with
     labels just precise enough to tell neighbours apart. */
  function niceTicks(lo, hi, count, integer) {
    if (!(hi > lo)) {
      var pad = integer ? 1 : lo === 0 ? 1 : Math.abs(lo) * 0.1;
      lo -= pad;
      hi += pad;
    }
    var raw = (hi - lo) / count, mag = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / mag;
    var step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
    if (integer && step < 1) step = 1;
    var t0 = Math.floor(lo / step) * step, t1 = Math.ceil(hi / step) * step, ticks = [];
    for (var t = t0; t <= t1 + step / 2 && ticks.length < 50; t += step) ticks.push(Number(t.toPrecision(12)));
    var big = Math.max(Math.abs(t0), Math.abs(t1)), labels;
    if (big >= 1e5 || (big < 1e-3 && big > 0)) {
      var sig = Math.min(12, Math.max(1, Math.ceil(Math.log10(big / step) + 1e-9) + 1));
      labels = ticks.map(function (v) { return v === 0 ? "0" : v.toExponential(sig - 1); });
    } else {
      var dec = Math.min(12, Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
      labels = ticks.map(function (v) { return v.toFixed(dec); });
    }
    return { lo: t0, hi: t1, ticks: ticks, labels: labels };
  }
  function labelWidth(labels) {
    return 6.5 * Math.max.apply(null, labels.map(function (l) { return l.length; }).concat([1]));
  }
  function extent(arrays) {
    var lo = Infinity, hi = -Infinity;
    arrays.forEach(function (a) {
      a.forEach(function (v) {
        if (isNum(v)) {
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
      });
    });
    return lo <= hi ? [lo, hi] : null;
  }

  /* Grid lines, ticks and their labels, and the two axis lines of a plot area [x0, x1] x [y0, y1]. */
  function axes(svg, gx, gy, X, Y, x0, x1, y0, y1) {
    gy.ticks.forEach(function (t, i) {
      sv("line", { class: "grid", x1: x0, x2: x1, y1: Y(t), y2: Y(t) }, svg);
      sv("text", { x: x0 - 6, y: Y(t) + 4, "text-anchor": "end" }, svg, gy.labels[i]);
    });
    gx.ticks.forEach(function (t, i) {
      sv("line", { class: "axis", x1: X(t), x2: X(t), y1: y1, y2: y1 + 4 }, svg);
      sv("text", { x: X(t), y: y1 + 16, "text-anchor": "middle" }, svg, gx.labels[i]);
    });
    sv("line", { class: "axis", x1: x0, x2: x1, y1: y1, y2: y1 }, svg);
    sv("line", { class: "axis", x1: x0, x2: x0, y1: y0, y2: y1 }, svg);
  }

  var COLORS = ["#2563eb", "#dc2626", "#059669", "#9333ea", "#d97706", "#0891b2"];

  /* A line chart: series [{name, x, y, dots}]; returns the number of points drawn. */
  function lineChart(parent, id, opt) {
    var box = el("div", { class: "plot", id: "plot-" + id }, parent);
    el("h3", {}, box, opt.title);
    var series = opt.series.filter(function (s) {
      return s.y && s.y.some(isNum);
    });
    var xs = extent(series.map(function (s) { return s.x; })), ys = extent(series.map(function (s) { return s.y; }));
    if (!series.length || !xs || !ys) {
      el("p", { class: "empty" }, box, opt.empty || "no data");
      selftest.points[id] = 0;
      return 0;
    }
    var gx = niceTicks(xs[0], xs[1], 7, opt.integerX), gy = niceTicks(ys[0], ys[1], 5);
    var W = 640, H = 250, L = 30 + labelWidth(gy.labels), R = 16, T = 10, B = 38;
    var X = function (v) { return L + (v - gx.lo) / (gx.hi - gx.lo) * (W - L - R); };
    var Y = function (v) { return H - B - (v - gy.lo) / (gy.hi - gy.lo) * (H - T - B); };
    var svg = sv("svg", { class: "chart", viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": opt.title }, box);
    axes(svg, gx, gy, X, Y, L, W - R, T, H - B);
    sv("text", { x: (L + W - R) / 2, y: H - 4, "text-anchor": "middle" }, svg, opt.xlabel);
    sv("text", { x: 12, y: (T + H - B) / 2, "text-anchor": "middle", transform: "rotate(-90 12 " + (T + H - B) / 2 + ")" },
       svg, opt.ylabel || "");
    var drawn = 0, legend = el("div", { class: "legend" }, box);
    series.forEach(function (s, i) {
      var color = COLORS[i % COLORS.length], d = "", pen = false, dots = s.dots || s.y.length <= 1;
      var g = sv("g", {}, svg);
      for (var k = 0; k < s.y.length; k++) {
        var x = s.x[k], y = s.y[k];
        if (!isNum(x) || !isNum(y)) {
          pen = false;
          continue;
        }
        d += (pen ? "L" : "M") + X(x).toFixed(1) + "," + Y(y).toFixed(1);
        pen = true;
        drawn++;
        if (dots) sv("circle", { cx: X(x).toFixed(1), cy: Y(y).toFixed(1), r: 3, fill: color }, g);
      }
      if (d && !(s.dots && s.noLine)) sv("path", { d: d, fill: "none", stroke: color, "stroke-width": s.dots ? 1.2 : 1.5,
                                                  "stroke-opacity": s.dots ? 0.6 : 1 }, g);
      var item = el("span", {}, legend);
      el("i", { style: "background:" + color }, item);
      item.appendChild(document.createTextNode(s.name));
    });
    /* hover: the values of every series nearest to the pointer's x */
    var cursor = sv("line", { class: "cursor", y1: T, y2: H - B, x1: L, x2: L, visibility: "hidden" }, svg);
    var hit = sv("rect", { x: L, y: T, width: W - L - R, height: H - T - B, fill: "transparent" }, svg);
    hit.addEventListener("mousemove", function (evt) {
      var r = svg.getBoundingClientRect(), px = (evt.clientX - r.left) * W / r.width;
      var xv = gx.lo + (px - L) / (W - L - R) * (gx.hi - gx.lo), lines = [], at = null;
      series.forEach(function (s) {
        var best = -1, bd = Infinity;
        for (var k = 0; k < s.x.length; k++)
          if (isNum(s.x[k]) && isNum(s.y[k]) && Math.abs(s.x[k] - xv) < bd) bd = Math.abs(s.x[k] - xv), best = k;
        if (best >= 0) {
          lines.push(s.name + ": " + fmt(s.y[best], 5) + "  (" + opt.xlabel + " " + fmt(s.x[best], 6) + ")");
          if (at === null) at = s.x[best];
        }
      });
      if (at !== null) cursor.setAttribute("x1", X(at)), cursor.setAttribute("x2", X(at)), cursor.setAttribute("visibility", "visible");
      showTip(evt, lines);
    });
    hit.addEventListener("mouseleave", function () {
      cursor.setAttribute("visibility", "hidden");
      hideTip();
    });
    if (!hoverTargets.some(function (t) { return t[0] === "chart"; })) hoverTargets.push(["chart", hit]);
    selftest.points[id] = drawn;
    return drawn;
  }

  /* ---- data ---- */
  function column(series, name) {
    return (series && series.columns && series.columns[name]) || null;
  }
  function indexes(n) {
    var a = [];
    for (var i = 1; i <= n; i++) a.push(i);
    return a;
  }

  function curves(data) {
    var step = data.step, epoch = data.epoch, search = data.kind === "search";
    var s = section("curves", "Curves");
    var plots = el("div", { class: "plots" }, s);
    var first = Object.keys(step.columns)[0], npoints = first ? step.columns[first].length : 0;
    var sx = column(step, "step") || indexes(npoints), ex = column(epoch, "epoch") || indexes(epoch.lines);
    var estep = column(epoch, "step") || ex;
    if (step.per_point > 1)
      el("p", { class: "muted" }, s, "The log has " + step.lines + " steps: each point is the mean of " + step.per_point + " steps.");
    var lossName = search ? "ce_loss" : "loss";
    lineChart(plots, "loss", {
      title: search ? "Cross-entropy loss" : "Training loss", xlabel: "step", integerX: true, ylabel: "loss",
      series: [{ name: "per step", x: sx, y: column(step, lossName) || [] },
               { name: "epoch mean", x: estep, y: column(epoch, search ? "ce_loss" : "train_loss") || [], dots: true }]
    });
    if (!search)
      lineChart(plots, "miou", {
        title: "Validation mIoU", xlabel: "epoch", integerX: true, ylabel: "mIoU", empty: "no evaluation in the log yet",
        series: [{ name: "val mIoU", x: ex, y: column(epoch, "val_miou") || [], dots: true },
                 { name: "val pixel accuracy", x: ex, y: column(epoch, "val_pixel_acc") || [], dots: true }]
      });
    lineChart(plots, "lr", { title: "Learning rate", xlabel: "step", integerX: true, ylabel: "LR",
                             series: [{ name: "LR", x: sx, y: column(step, "lr") || [] }] });
    if (search) {
      var unit = (column(epoch, "cost_unit") || []).filter(function (u) { return u; }).pop() || "";
      lineChart(plots, "cost", {
        title: "Expected cost" + (unit ? " (" + unit + ")" : ""), xlabel: "step", integerX: true, ylabel: unit,
        series: [{ name: "per step", x: sx, y: column(step, "expected_cost") || [] },
                 { name: "epoch mean", x: estep, y: column(epoch, "expected_cost") || [], dots: true }]
      });
      lineChart(plots, "resource", { title: "Resource loss (alpha x expected cost)", xlabel: "step", integerX: true, ylabel: "loss",
                                     series: [{ name: "per step", x: sx, y: column(step, "resource_loss") || [] }] });
      lineChart(plots, "temperature", { title: "Gumbel-softmax temperature", xlabel: "step", integerX: true, ylabel: "t",
                                        series: [{ name: "temperature", x: sx, y: column(step, "temperature") || [] }] });
      lineChart(plots, "entropy", { title: "Mean entropy of the candidate distributions", xlabel: "epoch", integerX: true, ylabel: "nats",
                                    empty: "no epoch lines with superblock entropies",
                                    series: [{ name: "mean over superblocks", x: ex, y: column(epoch, "mean_entropy") || [], dots: true }] });
      note("A search does not evaluate after each epoch: its mIoU is that of the scored architectures (pareto plot).");
    }
    lineChart(plots, "grad_norm", { title: "Gradient norm", xlabel: "step", integerX: true, ylabel: "L2 norm",
                                    series: [{ name: "grad norm", x: sx, y: column(step, "grad_norm") || [] }] });
  }

  /* The part of names after their longest common prefix that ends with "_" (for labels). */
  function shortNames(names) {
    if (names.length < 2) return names.slice();
    var p = names[0];
    names.forEach(function (n) {
      while (n.indexOf(p) !== 0) p = p.slice(0, -1);
    });
    var cut = p.lastIndexOf("_") + 1;
    return names.map(function (n) { return n.slice(cut) || n; });
  }

  /* Probability to colour: white at 0, dark blue at 1, on a square-root scale (so that the usual values,
     around 1 / candidates, are told apart). */
  function heatColor(v) {
    var t = Math.max(0, Math.min(1, v));
    var c0 = [247, 251, 255], c1 = [8, 48, 107];
    var c = c0.map(function (a, i) { return Math.round(a + (c1[i] - a) * Math.sqrt(t)); });
    return "rgb(" + c.join(",") + ")";
  }

  function heatMap(data) {
    var probs = data.probs;
    if (!probs || !probs.epochs || !probs.epochs.length) {
      if (data.kind === "search") note("No candidate probabilities in log.jsonl (a log written before sqnrun logged them, or no epoch done yet).");
      return;
    }
    var s = section("probs", "Candidate probabilities per superblock");
    el("p", { class: "muted" }, s, "Each panel is a superblock: a row per candidate, a column per epoch (after its pruning); " +
       "darker is more probable, hatched is pruned. Hover for the values.");
    var cands = probs.candidates || [], epochs = probs.epochs, nsb = cands.length, max = 0;
    epochs.forEach(function (e) {
      (e.p || []).forEach(function (row) {
        (row || []).forEach(function (v) { if (isNum(v) && v > max) max = v; });
      });
    });
    var E = epochs.length, cw = Math.max(3, Math.min(18, Math.floor(170 / E))), ch = 11;
    var maxc = Math.max.apply(null, cands.map(function (c) { return c.length; }).concat([1]));
    var same = cands.every(function (c) { return c.join("\n") === cands[0].join("\n"); });
    var labels = same && nsb ? shortNames(cands[0]) : indexes(maxc).map(function (i) { return "#" + (i - 1); });
    var labelW = 8 + 6 * Math.max.apply(null, labels.map(function (l) { return String(l).length; }).concat([3]));
    var panelW = E * cw, panelH = maxc * ch, gap = 14, head = 16;
    var avail = Math.max(600, (document.getElementById("main").clientWidth || 1300) - 80);
    var perRow = Math.max(1, Math.floor((avail - labelW) / (panelW + gap)));
    var rows = Math.ceil(nsb / perRow);
    var W = labelW + perRow * (panelW + gap), H = rows * (panelH + head + gap);
    var box = el("div", { class: "heat" }, s);
    var svg = sv("svg", { width: W, height: H, viewBox: "0 0 " + W + " " + H }, box);
    var defs = sv("defs", {}, svg), pat = sv("pattern", { id: "pruned-hatch", width: 4, height: 4, patternUnits: "userSpaceOnUse" }, defs);
    sv("rect", { width: 4, height: 4, fill: "#f3f3f3" }, pat);
    sv("path", { d: "M0,4 L4,0", stroke: "#bbb", "stroke-width": 1 }, pat);
    var cells = 0;
    for (var b = 0; b < nsb; b++) {
      var r = Math.floor(b / perRow), c = b % perRow;
      var x0 = labelW + c * (panelW + gap), y0 = r * (panelH + head + gap) + head;
      sv("text", { x: x0, y: y0 - 4 }, svg, "superblock " + b);
      if (c === 0)
        for (var k = 0; k < maxc; k++) sv("text", { x: labelW - 6, y: y0 + k * ch + 9, "text-anchor": "end" }, svg, labels[k] || "");
      var g = sv("g", {}, svg);
      for (var e = 0; e < E; e++) {
        var row = (epochs[e].p || [])[b] || [];
        for (var k2 = 0; k2 < cands[b].length; k2++) {
          var v = row[k2];
          if (!isNum(v)) continue;
          var rect = sv("rect", { x: x0 + e * cw, y: y0 + k2 * ch, width: cw, height: ch - 1,
                                  fill: v > 0 ? heatColor(v) : "url(#pruned-hatch)" }, g);
          rect.dataset.sb = b, rect.dataset.k = k2, rect.dataset.e = e;
          if (!cells) hoverTargets.push(["heat", rect]);
          cells++;
        }
      }
      g.addEventListener("mousemove", function (evt) {
        var d = evt.target.dataset;
        if (!d || d.sb === undefined) return;
        var sb = +d.sb, k = +d.k, ep = epochs[+d.e], p = ((ep.p || [])[sb] || [])[k];
        showTip(evt, ["superblock " + sb + ", epoch " + ep.epoch, cands[sb][k], p > 0 ? "p = " + fmt(p, 4) : "pruned"]);
      });
      g.addEventListener("mouseleave", hideTip);
    }
    var scale = el("div", { class: "scale" }, s), bar = sv("svg", { width: 330, height: 30, viewBox: "0 0 330 30" }, scale);
    for (var i = 0; i < 100; i++)
      sv("rect", { x: 10 + 3 * i, y: 2, width: 3.2, height: 10, fill: heatColor(Math.pow((i + 0.5) / 100, 2)) }, bar);
    [0, 0.01, 0.05, 0.1, 0.25, 0.5, 1].forEach(function (v) {
      sv("line", { x1: 10 + 300 * Math.sqrt(v), x2: 10 + 300 * Math.sqrt(v), y1: 12, y2: 16, stroke: "#888" }, bar);
      sv("text", { x: 10 + 300 * Math.sqrt(v), y: 27, "text-anchor": "middle", "font-size": 10, fill: "#5b6775" }, bar, String(v));
    });
    el("span", {}, scale, " p (square-root scale); uniform over the candidates: " + fmt(1 / maxc, 3) + "; highest: " + fmt(max, 3) +
       ". " + nsb + " superblocks, " + E + " epochs" +
       (probs.lines > E ? " (every " + Math.ceil(probs.lines / E) + "th of " + probs.lines + ")" : "") + ".");
    if (data.pruned && data.pruned.length) {
      var t = el("table", {}, el("details", {}, s));
      el("summary", {}, t.parentNode, data.pruned.length + " candidates pruned");
      var hr = el("tr", {}, t);
      ["epoch", "superblock", "candidate", "p"].forEach(function (h) { el("th", {}, hr, h); });
      data.pruned.forEach(function (p) {
        var tr = el("tr", {}, t);
        el("td", { class: "num" }, tr, p.epoch), el("td", { class: "num" }, tr, p.superblock);
        el("td", {}, tr, p.candidate), el("td", { class: "num" }, tr, fmt(p.p, 4));
      });
    }
    selftest.points.heat = cells;
  }

  /* ---- the pareto plot ---- */
  function star(cx, cy, r) {
    var d = "";
    for (var i = 0; i < 10; i++) {
      var a = -Math.PI / 2 + i * Math.PI / 5, rr = i % 2 ? r * 0.45 : r;
      d += (i ? "L" : "M") + (cx + rr * Math.cos(a)).toFixed(1) + "," + (cy + rr * Math.sin(a)).toFixed(1);
    }
    return d + "Z";
  }

  function paretoPlot(data) {
    var P = data.pareto;
    if (!P) {
      if (data.kind === "search") note("No pareto.json: the search has not derived its network yet (it runs after the last epoch).");
      return;
    }
    var s = section("pareto", "Pareto front");
    var archs = P.architectures || [];
    var hasMs = archs.some(function (a) { return isNum(a.ms); });
    el("p", { class: "muted" }, s, archs.length + " architectures scored on " + fmt(P.val_images) +
       " validation images with the supernet's weights" + (P.space ? " (space " + P.space + ")" : "") +
       ". Hover a point for its details.");
    var buttons = el("div", {}, s), holder = el("div", {}, s);
    function draw(by) {
      holder.textContent = "";
      var key = by === "ms" ? "ms" : "gmacs", unit = by === "ms" ? "ms (latency table)" : "GMACs";
      var pts = archs.map(function (a, i) { return { a: a, i: i, x: a[key], y: a.miou }; })
                     .filter(function (p) { return isNum(p.x) && isNum(p.y); });
      if (!pts.length) {
        el("p", { class: "empty" }, holder, "no architecture with both mIoU and " + unit);
        return { n: 0, front: 0, chosen: 0 };
      }
      var gx = niceTicks(Math.min.apply(null, pts.map(function (p) { return p.x; })), Math.max.apply(null, pts.map(function (p) { return p.x; })), 7);
      var gy = niceTicks(Math.min.apply(null, pts.map(function (p) { return p.y; })), Math.max.apply(null, pts.map(function (p) { return p.y; })), 6);
      var W = 720, H = 380, L = 34 + labelWidth(gy.labels), R = 20, T = 14, B = 42;
      var X = function (v) { return L + (v - gx.lo) / (gx.hi - gx.lo) * (W - L - R); };
      var Y = function (v) { return H - B - (v - gy.lo) / (gy.hi - gy.lo) * (H - T - B); };
      var svg = sv("svg", { class: "chart", viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "pareto plot" }, holder);
      axes(svg, gx, gy, X, Y, L, W - R, T, H - B);
      sv("text", { x: (L + W - R) / 2, y: H - 6, "text-anchor": "middle" }, svg, unit);
      sv("text", { x: 14, y: (T + H - B) / 2, "text-anchor": "middle", transform: "rotate(-90 14 " + (T + H - B) / 2 + ")" }, svg, "val mIoU");
      var front = pts.filter(function (p) { return p.a.pareto; }).sort(function (p, q) { return p.x - q.x; });
      if (front.length > 1)
        sv("path", { d: front.map(function (p, i) { return (i ? "L" : "M") + X(p.x).toFixed(1) + "," + Y(p.y).toFixed(1); }).join(""),
                     fill: "none", stroke: "#2563eb", "stroke-width": 1.5, "stroke-dasharray": "5 3" }, svg);
      var counts = { n: 0, front: 0, chosen: 0 };
      pts.forEach(function (p) {
        var a = p.a, cx = X(p.x), cy = Y(p.y), shape;
        if (a.chosen) {
          shape = sv("path", { d: star(cx, cy, 10), fill: "#d97706", stroke: "#7c4a03", "stroke-width": 1 }, svg);
          sv("text", { x: cx + 12, y: cy - 8 }, svg, "chosen");
          counts.chosen++;
        } else {
          shape = sv("circle", { cx: cx.toFixed(1), cy: cy.toFixed(1), r: a.pareto ? 5.5 : 4,
                                 fill: a.pareto ? "#2563eb" : "#ffffff", stroke: a.pareto ? "#1e3a8a" : "#64748b",
                                 "stroke-width": a.most_probable ? 2.5 : 1.2 }, svg);
        }
        if (a.pareto) counts.front++;
        if (a.chosen) hoverTargets.push(["pareto", shape]);
        counts.n++;
        shape.style.cursor = "pointer";
        shape.addEventListener("mousemove", function (evt) {
          var flags = [a.pareto ? "on the front" : "", a.chosen ? "chosen" : "", a.most_probable ? "most probable" : ""]
                        .filter(function (f) { return f; }).join(", ");
          showTip(evt, ["architecture " + p.i + (flags ? " (" + flags + ")" : ""), "mIoU " + fmt(a.miou, 4),
                        "GMACs " + fmt(a.gmacs, 4), "latency " + (isNum(a.ms) ? fmt(a.ms, 4) + " ms" : "- (no latency table)")],
                  (a.candidates || []).map(function (c, k) { return (k < 10 ? " " : "") + k + "  " + c; }));
          shape.setAttribute("stroke-width", 3);
        });
        shape.addEventListener("mouseleave", function () {
          hideTip();
          shape.setAttribute("stroke-width", a.chosen ? 1 : a.most_probable ? 2.5 : 1.2);
        });
      });
      var legend = el("div", { class: "legend" }, holder);
      [["#2563eb", "on the pareto front (dashed line)"], ["#ffffff", "other sampled architectures"],
       ["#d97706", "chosen (written to derived.sqn)"]].forEach(function (l) {
        var item = el("span", {}, legend);
        el("i", { style: "background:" + l[0] + ";height:10px;border:1px solid #64748b" }, item);
        item.appendChild(document.createTextNode(l[1]));
      });
      el("span", {}, legend, "thick outline: the most probable architecture");
      return counts;
    }
    var modes = hasMs ? ["gmacs", "ms"] : ["gmacs"], btns = [];
    if (hasMs)
      modes.forEach(function (m) {
        var b = el("button", { class: "toggle", type: "button" }, buttons, m === "ms" ? "x: latency (ms)" : "x: GMACs");
        b.addEventListener("click", function () {
          btns.forEach(function (o) { o.classList.toggle("on", o === b); });
          draw(m);
        });
        btns.push(b);
      });
    if (btns.length) btns[0].classList.add("on");
    var counts = draw("gmacs");
    selftest.points.pareto = counts.n;
    selftest.points.pareto_front = counts.front;
    selftest.points.pareto_chosen = counts.chosen;
    var chosen = archs.filter(function (a) { return a.chosen; })[0];
    if (chosen) {
      var t = el("table", {}, el("details", {}, s));
      el("summary", {}, t.parentNode, "the chosen architecture: mIoU " + fmt(chosen.miou, 4) + ", " + fmt(chosen.gmacs, 4) +
         " GMACs" + (isNum(chosen.ms) ? ", " + fmt(chosen.ms, 4) + " ms" : ""));
      (chosen.candidates || []).forEach(function (c, k) {
        var tr = el("tr", {}, t);
        el("td", { class: "num" }, tr, k), el("td", {}, tr, c);
      });
    }
  }

  function archSection() {
    var holder = document.getElementById("arch-svg");
    if (!holder) return;
    var s = section("arch", "Architecture (arch.svg)");
    holder.hidden = false;
    s.appendChild(holder);
    selftest.points.arch = holder.querySelectorAll("rect").length;
  }

  /* ---- tables ---- */
  function keyValueTable(parent, title, obj) {
    var box = el("div", {}, parent);
    el("h3", {}, box, title);
    var t = el("table", {}, box);
    Object.keys(obj).forEach(function (k) {
      var tr = el("tr", {}, t), v = obj[k];
      el("th", {}, tr, k);
      el("td", { class: typeof v === "number" ? "num" : "" }, tr, typeof v === "number" ? plain(v) : v === null ? "-" : String(v));
    });
    return box;
  }

  function settings(data) {
    var s = section("settings", "Settings");
    var tables = el("div", { class: "tables" }, s), runs = data.runs || [];
    if (runs.length) {
      var first = Object.assign({}, runs[0]);
      keyValueTable(tables, runs.length > 1 ? "the run (first invocation)" : "the run", first);
      if (runs.length > 1) {
        var later = el("div", {}, tables);
        el("h3", {}, later, "later invocations (--resume)");
        var t = el("table", {}, later), hr = el("tr", {}, t);
        ["started", "from epoch", "what changed"].forEach(function (h) { el("th", {}, hr, h); });
        runs.slice(1).forEach(function (r) {
          var changed = Object.keys(r).filter(function (k) {
            return ["started", "unix_time", "invocation", "from_epoch"].indexOf(k) < 0 && r[k] !== runs[0][k];
          }).map(function (k) { return k + " = " + (r[k] === null ? "-" : r[k]); });
          var tr = el("tr", {}, t);
          el("td", {}, tr, r.started), el("td", { class: "num" }, tr, r.from_epoch), el("td", {}, tr, changed.join(", ") || "-");
        });
      }
    } else {
      el("p", { class: "muted" }, s, "log.jsonl has no \"run\" line (written by an sqnrun that did not log its settings).");
    }
    if (data.state) keyValueTable(tables, "last checkpoint (last.safetensors.json)", data.state);
    if (data.best) keyValueTable(tables, "best checkpoint (best.safetensors.json)", data.best);
  }

  function timings(data) {
    var s = section("timings", "Timings");
    var ep = data.epoch, ex = column(ep, "epoch") || indexes(ep.lines), secs = column(ep, "seconds") || [];
    var total = 0, n = 0;
    secs.forEach(function (v) { if (isNum(v)) total += v * (ep.per_point || 1), n++; });
    var plots = el("div", { class: "plots" }, s);
    lineChart(plots, "seconds", { title: "Seconds per epoch" + (data.kind === "train" ? " (with evaluation)" : ""),
                                  xlabel: "epoch", integerX: true, ylabel: "s", empty: "no epoch done yet",
                                  series: [{ name: "seconds", x: ex, y: secs, dots: true }] });
    var row = {};
    row["epochs logged"] = ep.lines;
    if (n) row["epoch time: total"] = seconds(total), row["epoch time: mean"] = seconds(total / ep.lines);
    if (n) {
      var lo = Infinity, hi = -Infinity;
      secs.forEach(function (v) { if (isNum(v)) lo = Math.min(lo, v), hi = Math.max(hi, v); });
      row["epoch time: min / max"] = seconds(lo) + " / " + seconds(hi);
    }
    var ips = column(data.step, "images_per_s");
    if (ips) {
      var sum = 0, k = 0;
      ips.forEach(function (v) { if (isNum(v)) sum += v, k++; });
      if (k) row["images per second (mean of steps)"] = fmt(sum / k, 4);
    }
    if (data.derive) row["derivation (sampling, scoring, writing)"] = seconds(data.derive.seconds);
    var all = total + (data.derive && isNum(data.derive.seconds) ? data.derive.seconds : 0);
    if (n || data.derive) row["total (epochs + derivation)"] = seconds(all);
    var runs = data.runs || [];
    if (runs.length) row["started"] = runs[0].started, row["invocations"] = runs.length;
    keyValueTable(el("div", { class: "tables" }, s), "summary", row);
  }

  function files(data) {
    var s = section("files", "Files in the run folder");
    var t = el("table", {}, s), hr = el("tr", {}, t);
    el("th", {}, hr, "file"), el("th", {}, hr, "bytes");
    (data.files || []).forEach(function (f) {
      var tr = el("tr", {}, t);
      el("td", {}, tr, f.name), el("td", { class: "num" }, tr, isNum(f.bytes) ? f.bytes.toLocaleString("en-US") : "-");
    });
  }

  function guarded(name, fn) {
    try {
      fn();
    } catch (e) {
      recordError(name + ": " + (e && e.stack ? e.stack.split("\n")[0] : e));
      note("This part of the report could not be drawn: " + name + " (" + e + ")");
    }
  }

  var data = null;
  guarded("data", function () {
    data = JSON.parse(document.getElementById("sqn-data").textContent);
  });
  if (data) {
    guarded("curves", function () { curves(data); });
    guarded("probabilities", function () { heatMap(data); });
    guarded("pareto", function () { paretoPlot(data); });
    guarded("architecture", archSection);
    if (data.kind === "train")
      note("A training run: no candidate probabilities, pareto front or architecture diagram (those come from --search).");
    guarded("settings", function () { settings(data); });
    guarded("timings", function () { timings(data); });
    guarded("files", function () { files(data); });
  }
  /* report.html#selftest: hover the first line chart, heat map cell and the chosen architecture, and keep
     what the tooltip said */
  if (location.hash === "#selftest")
    guarded("hover", function () {
      selftest.hover = {};
      hoverTargets.forEach(function (t) {
        var r = t[1].getBoundingClientRect(), at = { bubbles: true, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2 };
        t[1].dispatchEvent(new MouseEvent("mousemove", at));
        selftest.hover[t[0]] = Array.prototype.map.call(tip.childNodes, function (n) { return n.textContent; }).join(" | ");
        t[1].dispatchEvent(new MouseEvent("mouseleave", at));
      });
    });
  publish();
})();
