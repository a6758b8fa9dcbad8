/* Homeward: sends what a learner reads and watches, batched; queued in localStorage while the
   phone is offline, resent when it is back; flushed with sendBeacon when the page is left.
   Pages work without this script: opening a page and the "done" button record progress too. */
(function () {
  "use strict";
  var stateEl = document.getElementById("hw-state");
  var lesson = document.getElementById("lesson");
  if (!stateEl || !lesson) return;
  var state;
  try { state = JSON.parse(stateEl.textContent); } catch (e) { return; }
  var KEY = "hw_events";
  var series = lesson.getAttribute("data-series");
  var slug = lesson.getAttribute("data-lesson");

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(b);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function load() { try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; } }
  function save(q) { try { localStorage.setItem(KEY, JSON.stringify(q.slice(-500))); } catch (e) { /* full or private */ } }
  function push(kind, extra) {
    var ev = { id: uuid(), series: series, lesson: slug, kind: kind, client_time: new Date().toISOString() };
    for (var k in extra) ev[k] = extra[k];
    var q = load(); q.push(ev); save(q);
    if (q.length >= 20) flush();
  }
  var sending = false;
  function flush() {
    var q = load();
    if (sending || !q.length || navigator.onLine === false) return;
    sending = true;
    var batch = q.slice(0, 100);
    fetch("/api/v1/progress/events", {
      method: "POST", credentials: "same-origin", keepalive: true,
      headers: { "Content-Type": "application/json", "X-CSRF-Token": state.csrf },
      body: JSON.stringify({ events: batch })
    }).then(function (r) {
      if (r.ok || r.status === 422) {
        var sent = {}; batch.forEach(function (e) { sent[e.id] = 1; });
        save(load().filter(function (e) { return !sent[e.id]; }));
      }
    }).catch(function () { /* offline: kept for later */ })
      .then(function () { sending = false; });
  }
  function beacon() {
    var q = load();
    if (!q.length || !navigator.sendBeacon) return flush();
    var body = JSON.stringify({ csrf: state.csrf, events: q.slice(0, 100) });
    // Kept in the queue: the next page resends them, and resends change nothing.
    navigator.sendBeacon("/progress/beacon", new Blob([body], { type: "text/plain" }));
  }

  push("opened", {});
  var kind = lesson.getAttribute("data-kind");
  if (kind === "comic" && "IntersectionObserver" in window) {
    var panels = lesson.querySelectorAll("figure.panel");
    var io = new IntersectionObserver(function (entries) {
      entries.forEach(function (en) {
        if (en.isIntersecting) {
          push("panel_viewed", { panel: Array.prototype.indexOf.call(panels, en.target) });
          io.unobserve(en.target);
        }
      });
    }, { threshold: 0.6 });
    Array.prototype.forEach.call(panels, function (p) { io.observe(p); });
  }
  var video = lesson.querySelector("video");
  if (video) {
    var last = 0;
    video.addEventListener("timeupdate", function () {
      if (video.currentTime - last >= 5 || video.ended) {
        last = video.currentTime;
        push("video_position", { seconds: Math.round(video.currentTime), duration: Math.round(video.duration || 0) });
      }
    });
    video.addEventListener("ended", function () {
      push("video_position", { seconds: Math.round(video.duration || video.currentTime), duration: Math.round(video.duration || 0) });
      flush();
    });
  }
  if (kind === "article") {
    var best = 0;
    window.addEventListener("scroll", function () {
      var rect = lesson.getBoundingClientRect();
      var seen = (window.innerHeight - rect.top) / Math.max(rect.height, 1);
      var pct = Math.max(0, Math.min(100, Math.round(seen * 100)));
      if (pct >= best + 10 || (pct === 100 && best < 100)) { best = pct; push("article_read", { percent: pct }); }
    }, { passive: true });
  }
  setInterval(flush, 10000);
  window.addEventListener("online", flush);
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "hidden") beacon(); });
  window.addEventListener("pagehide", beacon);
  flush();
})();

/* Listening: each part's recording gets a large play button (without this script the page keeps
   plain <audio controls preload="none">); "listen" plays the lesson part by part, scrolling to
   each. Nothing is fetched until play is pressed. */
(function () {
  "use strict";
  var parts = Array.prototype.slice.call(document.querySelectorAll(".narration"));
  if (!parts.length) return;
  var all = document.getElementById("listen-all");
  var inOrder = parts.filter(function (p) { return p.getAttribute("data-sequence") === "body"; });
  var playingAll = false;

  function audioOf(part) { return part.querySelector("audio"); }
  function label(button, playing) {
    button.textContent = button.getAttribute(playing ? "data-pause" : "data-play");
    button.setAttribute("aria-pressed", playing ? "true" : "false");
  }
  function stopAll() { playingAll = false; if (all) label(all, false); }
  function play(part, scroll) {
    parts.forEach(function (other) { if (other !== part) audioOf(other).pause(); });
    if (scroll) {
      var holder = part.parentNode && part.parentNode.nodeName !== "MAIN" ? part.parentNode : part;
      holder.scrollIntoView({ behavior: "smooth", block: "start" });
    }
    var started = audioOf(part).play();
    if (started && started.catch) started.catch(stopAll);
  }

  parts.forEach(function (part) {
    var audio = audioOf(part), button = part.querySelector("button.play");
    audio.removeAttribute("controls");
    button.hidden = false;
    button.addEventListener("click", function () {
      stopAll();
      if (audio.paused) play(part, false); else audio.pause();
    });
    audio.addEventListener("play", function () { label(button, true); });
    audio.addEventListener("pause", function () { label(button, false); });
    audio.addEventListener("error", function () { label(button, false); stopAll(); });
    audio.addEventListener("ended", function () {
      label(button, false);
      if (!playingAll) return;
      var next = inOrder[inOrder.indexOf(part) + 1];
      if (next) play(next, true); else stopAll();
    });
  });

  if (all && inOrder.length) {
    all.hidden = false;
    all.addEventListener("click", function () {
      if (playingAll) {
        stopAll();
        parts.forEach(function (p) { audioOf(p).pause(); });
        return;
      }
      playingAll = true;
      label(all, true);
      play(inOrder[0], true);
    });
  }
})();
