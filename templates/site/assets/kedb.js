/* kedb site behaviour, no dependencies, nothing loaded from the network:
   - the search form on the home page hands its text to Material's search box;
   - the search box's count line tells the truth: "20 of 143 matching documents" when the list
     is capped (the search worker posts the real count), and no "No matching documents" while
     a query is still being typed;
   - tables can be sorted by selecting a column heading;
   - the reply-to-customer template gets a copy button, and so does the answer block at the
     top of a known-error page. */
(function () {
  "use strict";

  function openSearch(query) {
    var input = document.querySelector("input.md-search__input");
    var toggle = document.querySelector("#__search");
    if (!input) return false;
    if (toggle) { toggle.checked = true; toggle.dispatchEvent(new Event("change")); }
    input.value = query;
    input.focus();
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new KeyboardEvent("keyup", { bubbles: true }));
    return true;
  }

  function cellValue(row, i) {
    var cell = row.cells[i];
    var text = cell ? cell.textContent.trim() : "";
    var num = text.match(/^-?\d+(?:\.\d+)?(?=\s|%|$)/);
    return num && /^[-\d.]+(\s|%|$)/.test(text) && !/^\d{4}-\d{2}-\d{2}/.test(text) ? parseFloat(num[0]) : text.toLowerCase();
  }

  // Sortable tables are marked with a data attribute, never a class: Material styles
  // `table:not([class])` only (borders, padding, its scroll wrapper).
  function makeSortable(table) {
    if (table.hasAttribute("data-kedb-sort") || !table.tHead || !table.tBodies.length) return;
    table.setAttribute("data-kedb-sort", "");
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      th.setAttribute("tabindex", "0");
      th.setAttribute("title", "Sort by this column");
      function sort() {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, i), y = cellValue(b, i);
          var r = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true });
          return asc ? r : -r;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); }
      });
    });
  }

  // The reply template as plain text, without the copy button.
  function replyText(block) {
    var clone = block.cloneNode(true);
    clone.querySelectorAll(".kedb-copy").forEach(function (b) { b.remove(); });
    document.body.appendChild(clone);  // innerText needs a rendered element
    clone.style.position = "absolute";
    clone.style.left = "-10000px";
    var text = clone.innerText.trim();
    clone.remove();
    return text;
  }

  // The clipboard API needs a secure context (https or localhost); an intranet site on plain
  // http falls back to the older copy command on a selected, off-screen text area.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "absolute";
      area.style.left = "-10000px";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      area.remove();
      if (ok) resolve(); else reject(new Error("copy failed"));
    });
  }

  function wireCopy(button, block) {
    if (button.dataset.kedbWired) return;
    button.dataset.kedbWired = "1";
    button.hidden = false;
    button.addEventListener("click", function () {
      copyText(replyText(block)).then(
        function () { button.textContent = "Copied"; },
        function () { button.textContent = "Select and copy the reply below"; }
      );
    });
  }

  function addCopy(block) {
    var own = block.querySelector(".kedb-copy");
    if (!own) {
      own = document.createElement("button");
      own.type = "button";
      own.className = "kedb-copy md-button";
      own.textContent = "Copy reply";
      block.insertBefore(own, block.firstChild);
    }
    wireCopy(own, block);
    document.querySelectorAll("[data-kedb-copy=reply]").forEach(function (b) { wireCopy(b, block); });
  }

  /* ---------------------------------------------------------------- the search count line */
  var QUIET_MS = 600;  // a query is still being typed until the box has been quiet this long
  var counted = { total: 0, listed: 0 };
  var lastInput = 0, quietTimer = 0, writing = false, watched = null;

  function translations() {
    var el = document.getElementById("__config");
    try { return (el && JSON.parse(el.textContent).translations) || {}; } catch (e) { return {}; }
  }

  function setMeta(meta, text) {
    if (meta.textContent === text) return;
    writing = true;
    meta.textContent = text;
    writing = false;
  }

  // 12,345: written out here, as toLocaleString's first call loads the locale data (60 ms
  // on the main thread, between the first answer and its results on the screen).
  function thousands(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  // Material writes "No matching documents" for a query still being typed and counts the
  // results it was given (capped by the worker); kedb's worker posts the real count.
  function fixMeta() {
    var meta = document.querySelector(".md-search-result__meta");
    var input = document.querySelector("input.md-search__input");
    if (!meta || !input) return;
    var t = translations(), text = meta.textContent, value = input.value.trim();
    var none = t["search.result.none"], other = t["search.result.other"] || "# matching documents";
    if (none && text === none) {
      var typing = Date.now() - lastInput < QUIET_MS;
      if (value.length < 2) setMeta(meta, t["search.result.placeholder"] || "");
      else if (typing) setMeta(meta, "");
      return;
    }
    if (counted.total > counted.listed && text === other.replace("#", String(counted.listed))) {
      setMeta(meta, other.replace("#", counted.listed + " of " + thousands(counted.total)));
    }
  }

  function watchSearch() {
    var meta = document.querySelector(".md-search-result__meta");
    var input = document.querySelector("input.md-search__input");
    if (!meta || !input || watched === meta) return;
    watched = meta;
    new MutationObserver(function () { if (!writing) fixMeta(); }).observe(meta, { childList: true, characterData: true, subtree: true });
    ["input", "keyup"].forEach(function (type) {
      input.addEventListener(type, function () {
        lastInput = Date.now();
        clearTimeout(quietTimer);
        quietTimer = setTimeout(function () {  // typing stopped: say "No matching documents" if it is so
          var t = translations(), list = document.querySelector(".md-search-result__list");
          if (meta.textContent === "" && input.value.trim().length > 1 && list && !list.children.length && t["search.result.none"]) {
            setMeta(meta, t["search.result.none"]);
          }
        }, QUIET_MS);
      });
    });
  }

  if (typeof BroadcastChannel === "function") {
    new BroadcastChannel("kedb-search").onmessage = function (ev) {
      counted = { total: ev.data.total || 0, listed: ev.data.listed || 0 };
      fixMeta();
    };
  }

  function setup() {
    // Material's search overlay is a dialog without a name; assistive technology announces it as "Search".
    var dialog = document.querySelector(".md-search[role=dialog]");
    if (dialog && !dialog.hasAttribute("aria-label")) dialog.setAttribute("aria-label", "Search");
    watchSearch();
    var form = document.querySelector("form.kedb-search-home");
    if (form && !form.dataset.kedb) {
      form.dataset.kedb = "1";
      form.addEventListener("submit", function (e) {
        var q = form.querySelector("input[name=q]").value;
        if (openSearch(q)) e.preventDefault();
      });
    }
    document.querySelectorAll(".md-content article table").forEach(function (t) {
      if (!t.closest(".kedb-meta")) makeSortable(t);  // a one-row panel has nothing to sort
    });
    document.querySelectorAll(".kedb-reply").forEach(addCopy);
  }

  if (typeof document$ !== "undefined") document$.subscribe(setup);  // Material's instant navigation
  else document.addEventListener("DOMContentLoaded", setup);
})();
