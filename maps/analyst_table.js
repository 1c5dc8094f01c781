/*
 * Sorting and filtering of the analyst index tables (maps/analyst_index.py).
 * Plain script, no library, no network. A click on a header sorts by that column
 * (again: the other way); a cell's sort key is its data-v (numbers and ISO
 * times), else its text. The filter box keeps the rows whose text contains every
 * word typed (case-insensitive). window.gjTable exposes both for scripting.
 */
(function () {
  "use strict";
  var table = document.querySelector("table.gj-sortable");
  if (!table) return;
  var body = table.tBodies[0];
  var heads = Array.prototype.slice.call(table.querySelectorAll("th[data-col]"));
  var rows = Array.prototype.slice.call(body.rows);
  var box = document.getElementById("gj-filter");
  var shown = document.getElementById("gj-shown");
  var texts = rows.map(function (r) { return r.textContent.toLowerCase(); });

  function key(row, col) {
    var cell = row.cells[col];
    if (!cell) return "";
    var v = cell.getAttribute("data-v");
    if (v === null) return cell.textContent.trim().toLowerCase();
    var n = Number(v);
    return v !== "" && !isNaN(n) ? n : v;
  }
  function compare(a, b) {
    if (typeof a === "number" && typeof b === "number") return a - b;
    return String(a).localeCompare(String(b), document.documentElement.lang || "nb");
  }
  function sortBy(col, direction) {
    var sign = direction === "descending" ? -1 : 1;
    var keyed = rows.map(function (r, i) { return {r: r, k: key(r, col), i: i}; });
    keyed.sort(function (x, y) { return sign * compare(x.k, y.k) || x.i - y.i; });
    rows = keyed.map(function (x) { return x.r; });
    texts = rows.map(function (r) { return r.textContent.toLowerCase(); });
    var frag = document.createDocumentFragment();
    rows.forEach(function (r) { frag.appendChild(r); });
    body.appendChild(frag);
    heads.forEach(function (h) {
      if (Number(h.getAttribute("data-col")) === col) h.setAttribute("aria-sort", direction);
      else h.removeAttribute("aria-sort");
    });
  }
  function count() {
    var n = rows.filter(function (r) { return r.style.display !== "none"; }).length;
    if (shown) {
      shown.textContent = shown.getAttribute("data-template")
        .replace("{n}", n).replace("{total}", rows.length);
    }
    return n;
  }
  function filter(text) {
    var words = String(text || "").toLowerCase().split(/\s+/).filter(Boolean);
    rows.forEach(function (r, i) {
      var hit = words.every(function (w) { return texts[i].indexOf(w) !== -1; });
      r.style.display = hit ? "" : "none";
    });
    return count();
  }
  heads.forEach(function (h) {
    h.addEventListener("click", function () {
      var col = Number(h.getAttribute("data-col"));
      var now = h.getAttribute("aria-sort");
      var numeric = h.classList.contains("num");
      var next = now ? (now === "ascending" ? "descending" : "ascending")
        : (numeric ? "descending" : "ascending");
      sortBy(col, next);
    });
  });
  if (box) box.addEventListener("input", function () { filter(box.value); });
  count();
  window.gjTable = {sortBy: sortBy, filter: filter, count: count};
})();
