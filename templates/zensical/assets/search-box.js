/* kedb's search box on the Zensical-built site (kedb build --engine zensical; see kedb.site.zensical).

   Zensical's own search interface is not started: this box asks kedb's worker
   (assets/kedb/search-worker.js, the one the MkDocs site uses) in Material's worker protocol,
   SETUP (0) -> READY (1), QUERY (2) -> RESULT (3). At SETUP it hands the worker the pages
   Zensical indexed (search.json: playbooks, KPIs; record pages are excluded there and searched
   through kedb's own index), as Material hands it its index under MkDocs. Results keep
   Material's class names (md-search__input, md-search-result__meta, md-search-result__list,
   md-search-result__item), so kedb.js writes the honest count ("20 of 143") and the home page's
   search form opens this box, as on the MkDocs site.

   Keys: Ctrl+K (Cmd+K), "/" or "s" open the box; Escape closes it; arrow keys move through the
   results and Enter opens the one chosen (the first when none is). */
(function () {
  "use strict";

  var SETUP = 0, READY = 1, QUERY = 2, RESULT = 3;
  var configEl = document.getElementById("__config");
  var config = {};
  try { config = JSON.parse(configEl.textContent); } catch (e) { config = {}; }
  var base = new URL(config.base || ".", location.href);  // resolved once: instant navigation keeps this script
  if (!/\/$/.test(base.pathname)) base = new URL(base.pathname + "/", base);
  var t = config.translations || {};
  var worker = null, ready = false, waiting = null, sent = "";

  function text(key, fallback) { return t[key] || fallback; }
  function toggle() { return document.getElementById("__search"); }
  function input() { return document.querySelector(".kedb-search input.md-search__input"); }
  function meta() { return document.querySelector(".kedb-search .md-search-result__meta"); }
  function list() { return document.querySelector(".kedb-search .md-search-result__list"); }

  function start() {
    if (worker) return;
    try {
      worker = new Worker(new URL("assets/kedb/search-worker.js", base));
    } catch (e) {
      console.warn("kedb search could not start:", e);
      return;
    }
    worker.onmessage = function (ev) {
      var m = ev.data;
      if (m.type === READY) {
        ready = true;
        if (waiting !== null) ask(waiting);
      } else if (m.type === RESULT) {
        show(m.data.items || []);
      }
    };
    worker.onerror = function (e) { console.warn("kedb search failed:", e.message || e); };
    // Zensical's index of the pages kedb leaves in search (no record is in it).
    fetch(new URL("search.json", base)).then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .catch(function () { return { items: [] }; })
      .then(function (index) {
        var docs = (index.items || []).map(function (d) {
          return { location: d.location, title: d.title || "", text: d.text || "", tags: d.tags || [] };
        });
        worker.postMessage({ type: SETUP, data: { config: index.config || {}, docs: docs } });
      });
  }

  function ask(query) {
    waiting = query;
    if (!ready) return;
    waiting = null;
    sent = query;
    worker.postMessage({ type: QUERY, data: query });
  }

  function onInput() {
    var q = input().value.trim();
    start();
    if (q.length < 2) {
      sent = "";
      list().textContent = "";
      meta().textContent = text("search.result.placeholder", "Type to start searching");
      return;
    }
    if (q !== sent) ask(q);
  }

  function count(n) {
    if (n === 0) return text("search.result.none", "No matching documents");
    if (n === 1) return text("search.result.one", "1 matching document");
    return text("search.result.other", "# matching documents").replace("#", String(n));
  }

  // title and text are the worker's HTML: escaped text with <mark> around matched terms (as Material shows them).
  function article(doc, section) {
    var a = document.createElement("a");
    a.className = "md-search-result__link";
    a.href = new URL(doc.location, base).href;
    a.tabIndex = -1;
    var art = document.createElement("article");
    art.className = "md-search-result__article md-typeset" + (section ? " kedb-search__section" : "");
    var h = document.createElement(section ? "h2" : "h1");
    h.innerHTML = doc.title;
    art.appendChild(h);
    if (doc.text) {
      var p = document.createElement("p");
      p.innerHTML = doc.text;
      art.appendChild(p);
    }
    if (doc.tags && doc.tags.length) {
      var nav = document.createElement("nav");
      nav.className = "md-tags";
      doc.tags.forEach(function (tag) {
        var s = document.createElement("span");
        s.className = "md-tag";
        s.textContent = tag;
        nav.appendChild(s);
      });
      art.appendChild(nav);
    }
    a.appendChild(art);
    return a;
  }

  function show(items) {
    var ol = list();
    if (input().value.trim().length < 2) return;  // cleared while the worker answered
    ol.textContent = "";
    items.forEach(function (group) {
      var li = document.createElement("li");
      li.className = "md-search-result__item";
      group.forEach(function (doc, i) { li.appendChild(article(doc, i > 0)); });
      ol.appendChild(li);
    });
    meta().textContent = count(items.length);
  }

  function links() { return Array.prototype.slice.call(list().querySelectorAll("a.md-search-result__link")); }

  function open(on) {
    var box = toggle();
    if (!box || box.checked === on) return;
    box.checked = on;
    box.dispatchEvent(new Event("change"));
  }

  function onKey(ev) {
    var box = toggle();
    if (!box) return;
    var typing = ev.target && (ev.target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(ev.target.tagName));
    if ((ev.key === "k" || ev.key === "K") && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      open(true);
      return;
    }
    if (!box.checked) {
      if (!typing && !ev.ctrlKey && !ev.metaKey && !ev.altKey && (ev.key === "/" || ev.key === "s" || ev.key === "f")) {
        ev.preventDefault();
        open(true);
      }
      return;
    }
    var all = links(), at = all.indexOf(document.activeElement);
    if (ev.key === "Escape") {
      ev.preventDefault();
      open(false);
      input().blur();
    } else if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      if (!all.length) return;
      ev.preventDefault();
      var next = ev.key === "ArrowDown" ? Math.min(at + 1, all.length - 1) : at - 1;
      if (next < 0) input().focus();
      else all[next].focus();
    } else if (ev.key === "Enter" && document.activeElement === input()) {
      ev.preventDefault();
      if (all.length) all[0].click();
    }
  }

  function setup() {
    var box = toggle(), field = input();
    if (!box || !field || field.dataset.kedb) return;
    field.dataset.kedb = "1";
    field.addEventListener("input", onInput);
    field.addEventListener("keyup", onInput);
    field.form.addEventListener("submit", function (e) { e.preventDefault(); });
    box.addEventListener("change", function () {
      if (box.checked) {
        start();
        setTimeout(function () { if (document.activeElement !== field) { field.focus(); field.select(); } }, 50);
      }
    });
    list().addEventListener("click", function (e) {
      if (e.target.closest && e.target.closest("a")) open(false);  // instant navigation keeps the page: close the box
    });
    document.addEventListener("keydown", onKey, true);
    start();  // the worker fetches the index's first files while the page settles
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
