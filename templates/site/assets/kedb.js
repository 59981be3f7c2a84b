/* kedb site behaviour, no dependencies, nothing loaded from the network:
   - the search form on the home page hands its text to Material's search box;
   - tables can be sorted by selecting a column heading;
   - the reply-to-customer template gets a copy button. */
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

  function makeSortable(table) {
    if (table.classList.contains("kedb-sortable") || !table.tHead || !table.tBodies.length) return;
    table.classList.add("kedb-sortable");
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      th.setAttribute("tabindex", "0");
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
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") sort(); });
    });
  }

  function addCopy(block) {
    if (!navigator.clipboard || block.querySelector(".kedb-copy")) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "kedb-copy md-button";
    button.textContent = "Copy reply";
    button.addEventListener("click", function () {
      var clone = block.cloneNode(true);
      clone.querySelector(".kedb-copy").remove();
      navigator.clipboard.writeText(clone.innerText.trim()).then(function () { button.textContent = "Copied"; });
    });
    block.insertBefore(button, block.firstChild);
  }

  function setup() {
    var form = document.querySelector("form.kedb-search-home");
    if (form && !form.dataset.kedb) {
      form.dataset.kedb = "1";
      form.addEventListener("submit", function (e) {
        var q = form.querySelector("input[name=q]").value;
        if (openSearch(q)) e.preventDefault();
      });
    }
    document.querySelectorAll(".md-content article table").forEach(makeSortable);
    document.querySelectorAll(".kedb-reply").forEach(addCopy);
  }

  if (typeof document$ !== "undefined") document$.subscribe(setup);  // Material's instant navigation
  else document.addEventListener("DOMContentLoaded", setup);
})();
