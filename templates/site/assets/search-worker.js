/* kedb search worker: answers Material's search box from the static record index that kedb
   builds (search/kedb/, see kedb.search.index) and from Material's own index of the other
   pages (sent by Material at SETUP). It speaks Material's worker protocol:
   SETUP (0) -> READY (1), QUERY (2) -> RESULT (3).

   The ranking is kedb.search.engine's, step for step: the same analysis (the tables come from
   meta.json, defined once in kedb.search.rules; the stemmer is Snowball's English, as in
   Python), the same matches (exact, prefix, typo, joined), the same score and the same rule
   for retired records and their successors. tests/test_search_browser.py runs a query set
   through both. A query waits only for the index shards and title files (n-*.json) it needs;
   once it has been answered, the worker fetches the others one at a time (warm()), so a later
   query finds them in memory rather than waiting for the network (10,000 records: about 60
   shards and 11 title files, 3.5 MB). A second RESULT adds the results' text and tags (d-*.json).

   Material shows "N matching documents" from the number of results, which is capped at
   MAX_RESULTS; the worker tells the page the real count on the BroadcastChannel "kedb-search"
   and kedb.js writes "20 of N". Everything it returns is HTML-escaped text with <mark>
   around matched terms. */
"use strict";

var SETUP = 0, READY = 1, QUERY = 2, RESULT = 3;
var ROOT = new URL("../../search/kedb/", self.location.href);
// Fetched at once, while Material still fetches its own index before it sends SETUP.
var metaFetch = fetchJSON("meta.json");
metaFetch.catch(function () {});  // a failure is reported when SETUP waits for it

importScripts("porter2.js");  // npm porter2: Snowball's English stemmer, as snowballstemmer in Python
var MAX_RESULTS = 20;
var PAGE_FIELDS = { title: "title", text: "body", tags: "tags" };  // Material's fields -> kedb's weights
var PAGE_BOOST = 0.5;      // a page beside the records: weighs like a problem record

var meta = null;           // search/kedb/meta.json
var R = null;              // meta.rules: kedb.search.rules.tables()
var stop = new Set();
var firsts = [];           // the first term of each shard (meta.shards), in order
var shards = new Map();    // n -> Promise<{term: [doc, w, doc, w...]}>
var loaded = new Map();    // n -> {term: [...]} once fetched
var chunks = new Map();    // n -> Promise<[[location, title, text, tags], ...]>
var shown = new Map();     // n -> [[location, title, text, tags], ...] once fetched
var names = new Map();     // n -> Promise<[[url, id, status, title, successor?], ...]>
var latest = 0;            // number of the latest query: a late second answer is dropped
var waiting = [];          // display files not requested yet: {n, resolve, reject}
var running = 0;           // display files being fetched
var MAX_DISPLAY = 3;       // at most this many at once: a browser opens 6 connections per host,
                           // and the next query's shards must not queue behind display files
var pages = null;          // Material's docs (other pages), indexed in memory
var queue = Promise.resolve();
var channel = typeof BroadcastChannel === "function" ? new BroadcastChannel("kedb-search") : null;
var stems = new Map();

function fetchJSON(name) {
  return fetch(new URL(name, ROOT)).then(function (r) {
    if (!r.ok) throw new Error(name + ": " + r.status);
    return r.json();
  });
}

/* ---------------------------------------------------------------- analysis (kedb.search.rules) */
var TOKEN = /[\p{L}\p{N}_]+/gu;
var HEX = /^0x[0-9a-f]+$/, DIGIT = /[0-9]/, DIGITS = /^[0-9]+$/, NUMBERED = /^([a-z]+)([0-9]{4,})$/;

function stem(word) {
  var s = stems.get(word);
  if (s === undefined) { s = porter2.stem(word); stems.set(word, s); }
  return s;
}

function tokens(text) {
  return String(text).toLowerCase().match(TOKEN) || [];
}

function term(key, surface, code) { return { key: key, surface: surface, code: code }; }

function plain(tok, out) {
  if (HEX.test(tok)) {
    if (tok.length - 2 >= R.min_code) out.push(term(tok.slice(2), tok, true));
    var short = tok.slice(2).replace(/^0+/, "");
    if (short.length >= R.min_code && short.length < tok.length - 2) out.push(term(short, tok, true));  // 0x00000709 is also 709
  } else if (DIGIT.test(tok)) {
    if (DIGITS.test(tok)) {
      if (tok.length >= R.min_code) out.push(term(tok, tok, true));
      return;
    }
    if (tok.length >= R.min_code) out.push(term(tok, tok, true));
    var m = NUMBERED.exec(tok);
    if (m) out.push(term(m[2], tok, true));
  } else if (tok.length > 1 && !stop.has(tok)) {
    out.push(term(stem(tok), tok, false));
  }
}

function analyse(text) {
  var out = [];
  tokens(text).forEach(function (tok) {
    if (tok.indexOf("_") >= 0) {
      var parts = tok.split("_").filter(Boolean);
      if (parts.length > 1) out.push(term(parts.join(""), tok, true));
      parts.forEach(function (p) { plain(p, out); });
    } else {
      plain(tok, out);
    }
  });
  return out;
}

function joined(text) {
  var toks = tokens(text).map(function (t) { return t.split("_").join(""); });
  var out = [];
  for (var i = 0; i < toks.length; i++) {
    for (var n = R.join[0]; n <= R.join[1]; n++) {
      if (i + n > toks.length) break;
      var window = toks.slice(i, i + n);
      if (window.some(function (t) { return !t; })) continue;
      out.push(term(window.join(""), window.join(" "), true));
    }
  }
  return out;
}

function fuzzyEdits(surface) {
  var n = Array.from(surface).length;
  return n >= R.fuzzy_min[1] ? 2 : n >= R.fuzzy_min[0] ? 1 : 0;
}

/* Edits from a query word (stem key, as written surface) to an index term: to the stem, or to
   the word without up to fuzzy_trim last letters; at least 1 (kedb.search.rules.typo_distance). */
function typoDistance(key, surface, other, limit) {
  var d = distance(key, other, limit);
  for (var t = 1; t <= R.fuzzy_trim; t++) {
    var head = surface.slice(0, surface.length - t);
    if (head.length >= R.fuzzy_min[0]) d = Math.min(d, distance(head, other, limit));
  }
  return Math.max(d, 1);
}

/* Edits from a to b (insert, delete, replace, swap two neighbours), or limit + 1 when more. */
function distance(a, b, limit) {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  var prev2 = [], prev = [], i, j;
  for (j = 0; j <= b.length; j++) prev.push(j);
  for (i = 1; i <= a.length; i++) {
    var cur = [i], low = i;
    for (j = 1; j <= b.length; j++) {
      var cost = a[i - 1] === b[j - 1] ? 0 : 1;
      var v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2] + 1);
      cur.push(v);
      if (v < low) low = v;
    }
    if (low > limit) return limit + 1;
    prev2 = prev; prev = cur;
  }
  return prev[b.length] <= limit ? prev[b.length] : limit + 1;
}

/* ---------------------------------------------------------------- the index */
/* A shard as {term: [doc, weight, doc, weight...]}: the file stores gaps between record
   numbers and weights x scale (see kedb.search.index). */
function shard(n) {
  if (n < 0 || n >= firsts.length) return Promise.resolve({});
  if (!shards.has(n)) shards.set(n, fetchJSON("t-" + n + ".json").then(function (terms) {
    Object.keys(terms).forEach(function (t) {
      var post = terms[t], doc = 0;
      for (var i = 0; i < post.length; i += 2) {
        doc += post[i];
        post[i] = doc;
        post[i + 1] = post[i + 1] / R.scale;
      }
    });
    loaded.set(n, terms);
    return terms;
  }, function (err) { shards.delete(n); throw err; }));
  return shards.get(n);
}

/* The shard that holds t if any: the last whose first term is not after it (-1: none). */
function shardOf(t) {
  var lo = 0, hi = firsts.length;
  while (lo < hi) {
    var mid = (lo + hi) >> 1;
    if (firsts[mid] <= t) lo = mid + 1; else hi = mid;
  }
  return lo - 1;
}

/* The shards that may hold terms starting with prefix. */
function run(prefix) {
  var out = [];
  for (var n = Math.max(0, shardOf(prefix)); n <= shardOf(prefix + "\uffff"); n++) out.push(n);
  return out;
}

function postings(t) {
  var s = loaded.get(shardOf(t));
  return (s && Object.prototype.hasOwnProperty.call(s, t)) ? s[t] : null;
}

function df(t) {
  var p = postings(t);
  return p ? p.length / 2 : 0;
}

function starting(prefix) {
  var out = [];
  run(prefix).forEach(function (k) {
    var s = loaded.get(k) || {};
    Object.keys(s).forEach(function (t) { if (t.lastIndexOf(prefix, 0) === 0) out.push(t); });
  });
  return out;
}

/* A display file. They are fetched a few at a time, in the order of the results that need
   them; the next query drops those of the previous one not requested yet. */
function chunk(n) {
  if (!chunks.has(n)) chunks.set(n, new Promise(function (resolve, reject) {
    waiting.push({ n: n, resolve: resolve, reject: reject });
    pump();
  }));
  return chunks.get(n);
}

function pump() {
  while (running < MAX_DISPLAY && waiting.length) {
    var job = waiting.shift();
    running++;
    fetchJSON("d-" + job.n + ".json").then(function (job, docs) {
      shown.set(job.n, docs);
      job.resolve(docs);
    }.bind(null, job), function (job, err) {
      chunks.delete(job.n);
      job.reject(err);
    }.bind(null, job)).then(function () {
      running--;
      pump();
    });
  }
}

function namesOf(n) {
  if (!names.has(n)) names.set(n, fetchJSON("n-" + n + ".json").catch(function (err) { names.delete(n); throw err; }));
  return names.get(n);
}

/* ---------------------------------------------------------------- the query (kedb.search.engine) */
function distinctTerms(analysed) {
  var distinct = new Map();
  analysed.forEach(function (t) { if (!distinct.has(t.key)) distinct.set(t.key, t); });
  return distinct;
}

/* Every shard a query's terms, prefixes and joins may need (the typo round comes after). */
function firstRound(distinct, last, joins) {
  var need = new Set();
  distinct.forEach(function (t, key) {
    need.add(shardOf(key));
    if ((t.code && key.length >= R.min_prefix_code) || key === last) run(key).forEach(function (k) { need.add(k); });
  });
  joins.forEach(function (j) { need.add(shardOf(j.key)); });
  return Array.from(need);
}

function queryTerms(text) {
  var analysed = analyse(text);
  var distinct = distinctTerms(analysed);
  var last = analysed.length ? analysed[analysed.length - 1].key : null;
  var joins = joined(text);
  return Promise.all(firstRound(distinct, last, joins).map(shard)).then(function () {
    var order = Array.from(distinct.keys());
    var words = order.filter(function (k) { return !distinct.get(k).code; });
    if (words.length > R.max_words) {
      // The rarest words the index knows (and the one being typed); codes are all kept.
      var known = words.filter(function (k) { return df(k) > 0; });
      known.sort(function (a, b) { return df(a) - df(b) || order.indexOf(a) - order.indexOf(b); });
      var keep = new Set(known.slice(0, R.max_words));
      keep.add(last);
      order = order.filter(function (k) { return distinct.get(k).code || keep.has(k); });
    }
    var fuzzyOk = words.length <= R.fuzzy_max_words;
    var typos = order.filter(function (k) {
      var t = distinct.get(k);
      return !t.code && fuzzyOk && fuzzyEdits(t.surface) > 0 && !postings(k);
    });
    var more = new Set();
    typos.forEach(function (k) { run(k.slice(0, R.fuzzy_same)).forEach(function (s) { more.add(s); }); });
    return Promise.all(Array.from(more).map(shard)).then(function () {
      var out = order.map(function (key) {
        var t = distinct.get(key), exp = new Map();
        if (postings(key)) exp.set(key, 1);
        if ((t.code && key.length >= R.min_prefix_code) || key === last) {
          starting(key).forEach(function (other) { if (other !== key && !exp.has(other)) exp.set(other, R.prefix); });
        }
        var edits = fuzzyEdits(t.surface);
        if (!t.code && fuzzyOk && edits && !exp.has(key)) {
          var head = key.slice(0, R.fuzzy_same);
          run(head).forEach(function (k) {
            Object.keys(loaded.get(k) || {}).forEach(function (other) {
              if (other.slice(0, R.fuzzy_same) !== head || DIGIT.test(other)) return;
              var d = typoDistance(key, t.surface, other, edits);
              if (d <= edits && other !== key && (exp.get(other) || 0) < R.fuzzy[d - 1]) exp.set(other, R.fuzzy[d - 1]);
            });
          });
        }
        return { term: t, expansions: exp, join: false, prefix: (t.code && key.length >= R.min_prefix_code) || key === last };
      });
      var seen = new Set();
      joins.forEach(function (j) {
        if (!distinct.has(j.key) && postings(j.key) && !seen.has(j.key)) {
          seen.add(j.key);
          out.push({ term: j, expansions: new Map([[j.key, 1]]), join: true });
        }
      });
      return out;
    });
  });
}

function idf(df, n) {
  return Math.log(1 + (n - df + 0.5) / (df + 0.5));
}

/* Scores over n documents in typed arrays: a common term lists most of a big KB, and Maps and
   objects per posting made such queries ten times slower. */
function score(terms, n, postingsOf) {
  var sum = new Float64Array(n), count = new Int32Array(n), best = new Float64Array(n);
  var touched = [], matched = new Map();
  var known = terms.filter(function (q) { return !q.join && q.expansions.size; }).length;
  terms.forEach(function (q, qi) {
    var seen = [];
    q.expansions.forEach(function (factor, t) {
      var post = postingsOf(t);
      if (!post) return;
      var weight = idf(post.length / 2, n) * factor;
      for (var i = 0; i < post.length; i += 2) {
        var doc = post[i], s = weight * post[i + 1];
        if (best[doc] === 0) seen.push(doc);
        if (s > best[doc]) best[doc] = s;
      }
    });
    for (var j = 0; j < seen.length; j++) {
      var d = seen[j];
      if (!matched.has(d)) { matched.set(d, []); touched.push(d); }
      sum[d] += best[d];
      matched.get(d).push(qi);
      if (!q.join) count[d]++;
      best[d] = 0;
    }
  });
  var final = new Map();
  touched.forEach(function (d) {
    var share = known ? count[d] / known : 0, f = 1 + share;
    final.set(d, sum[d] * f * f);
  });
  return { final: final, matched: matched };
}

function better(a, b) {
  return a.score > b.score || (a.score === b.score && a.doc < b.doc);
}

function top(final, limit) {
  var out = [];
  final.forEach(function (s, doc) {
    var h = { doc: doc, score: s };
    if (out.length === limit && !better(h, out[out.length - 1])) return;
    var at = out.length;
    while (at > 0 && better(h, out[at - 1])) at--;
    out.splice(at, 0, h);
    if (out.length > limit) out.pop();
  });
  return out;
}

function search(query) {
  var seq = ++latest;  // an emptied box too: the previous query's late answer must not come back
  waiting.forEach(function (job) { chunks.delete(job.n); });
  waiting = [];
  return queryTerms(query).then(function (terms) {
    var rec = score(terms, meta.docs, postings);
    meta.successors.forEach(function (pair) {
      var old = pair[0], now = pair[1];
      if (rec.final.has(old) && (rec.final.get(now) || 0) < rec.final.get(old)) {
        rec.final.set(now, rec.final.get(old) * (1 + R.successor_margin));
        var union = new Set((rec.matched.get(now) || []).concat(rec.matched.get(old)));
        rec.matched.set(now, Array.from(union).sort(function (a, b) { return a - b; }));
      }
    });
    var hits = top(rec.final, MAX_RESULTS).map(function (h) { h.kind = "record"; h.matched = rec.matched.get(h.doc); return h; });
    var total = rec.final.size;
    if (pages) {
      var pterms = terms.map(function (q) { return pageTerm(q); });
      var pg = score(pterms, pages.docs.length, function (t) { return pages.postings.get(t) || null; });
      total += pg.final.size;
      top(pg.final, MAX_RESULTS).forEach(function (h) { h.kind = "page"; h.matched = pg.matched.get(h.doc); hits.push(h); });
      hits.sort(function (a, b) { return b.score - a.score || (a.kind === b.kind ? a.doc - b.doc : a.kind === "record" ? -1 : 1); });
      hits = hits.slice(0, MAX_RESULTS);
    }
    return { seq: seq, terms: terms, hits: hits, total: total };
  });
}

/* A query term as it matches the other pages (playbooks, KPIs): exactly, by prefix as in the
   records, and with the typo corrections found in the record index. */
function pageTerm(q) {
  var key = q.term.key, exp = new Map();
  if (pages.postings.has(key)) exp.set(key, 1);
  if (q.prefix) pages.terms.forEach(function (t) { if (t !== key && t.lastIndexOf(key, 0) === 0) exp.set(t, R.prefix); });
  q.expansions.forEach(function (f, t) { if (pages.postings.has(t) && !exp.has(t)) exp.set(t, f); });
  return { term: q.term, expansions: exp, join: q.join };
}

/* ---------------------------------------------------------------- the other pages (Material's index) */
function unescapeHTML(s) {
  return String(s).replace(/<[^>]*>/g, " ").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, "\"").replace(/&#39;/g, "'").replace(/&amp;/g, "&");
}

function indexPages(docs) {
  var postings = new Map();
  docs.forEach(function (doc, i) {
    var weights = new Map();
    Object.keys(PAGE_FIELDS).forEach(function (name) {
      var value = doc[name];
      if (value === undefined) return;
      var text = Array.isArray(value) ? value.join(" ") : unescapeHTML(value);
      var counts = new Map();
      analyse(text).forEach(function (t) { counts.set(t.key, (counts.get(t.key) || 0) + 1); });
      var boost = R.fields[PAGE_FIELDS[name]];
      counts.forEach(function (tf, t) { weights.set(t, (weights.get(t) || 0) + boost * tf * (R.k1 + 1) / (tf + R.k1)); });
    });
    weights.forEach(function (w, t) {
      if (!postings.has(t)) postings.set(t, []);
      postings.get(t).push(i, w * PAGE_BOOST);
    });
  });
  var pageOf = new Map();
  docs.forEach(function (doc) {
    var path = doc.location.split("#")[0];
    if (!pageOf.has(path)) pageOf.set(path, doc);
  });
  return { docs: docs, postings: postings, terms: Array.from(postings.keys()), pageOf: pageOf };
}

/* ---------------------------------------------------------------- the answer Material shows */
function escapeHTML(s) {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function displayTitle(row) {
  var text = (R.status_mark[row[2]] || "") + row[1] + " " + row[3];
  return escapeHTML(row.length > 4 ? text + R.successor_mark + row[4] : text);
}

function highlight(htmlText, marks) {
  if (!marks.length) return htmlText;
  var pattern = new RegExp("(" + marks.map(function (t) {
    return escapeHTML(t).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }).sort(function (a, b) { return b.length - a.length; }).join("|") + ")", "giu");
  return String(htmlText).split(/(<[^>]*>|&[a-z#0-9]+;)/i).map(function (part) {
    return part.charAt(0) === "<" || part.charAt(0) === "&" ? part : part.replace(pattern, "<mark>$1</mark>");
  }).join("");
}

/* What to mark in a result: the query's words as written and the index terms they matched. */
function marksOf(hit, terms) {
  var out = new Set();
  (hit.matched || []).forEach(function (qi) {
    var q = terms[qi];
    if (q.term.surface.length > 1) out.add(q.term.surface);
    q.expansions.forEach(function (f, t) { if (t.length > 2 && !DIGIT.test(t)) out.add(t); });
  });
  return Array.from(out);
}

/* Material lists a typed query's missing terms under each result (a long paste would list
   dozens): the terms the index knows that this result lacks. A word matched as part of a joined
   code ("aadsts" of "aadsts 50076") is not missing. */
function termsOf(hit, terms) {
  var out = {}, mine = new Set(hit.matched || []), joinedWords = new Set();
  var typed = terms.filter(function (q) { return !q.join; }).length <= R.fuzzy_max_words;
  terms.forEach(function (q, qi) {
    if (q.join && mine.has(qi)) q.term.surface.split(" ").forEach(function (w) { joinedWords.add(w); });
  });
  terms.forEach(function (q, qi) {
    if (q.join) return;
    if (mine.has(qi) || joinedWords.has(q.term.surface)) out[q.term.surface] = true;
    else if (typed && q.expansions.size) out[q.term.surface] = false;
  });
  return out;
}

function item(hit, found) {
  var marks = marksOf(hit, found.terms), terms = termsOf(hit, found.terms);
  if (hit.kind === "record") {
    var docs = shown.get(Math.floor(hit.doc / meta.chunk));
    var d = docs ? docs[hit.doc % meta.chunk] : [hit.row[0], displayTitle(hit.row), "", []];
    return [{ location: d[0], title: highlight(d[1], marks), text: highlight(d[2], marks), tags: d[3], score: hit.score, terms: terms }];
  }
  var doc = pages.docs[hit.doc];
  var page = pages.pageOf.get(doc.location.split("#")[0]) || doc;
  var one = { location: doc.location, title: highlight(doc.title, marks), text: highlight(doc.text, marks), score: hit.score, terms: terms };
  if (page === doc) return [one];
  return [{ location: page.location, title: page.title, text: "", score: hit.score, terms: terms }, one];
}

/* Sections of one page are one result group, as in Material. */
function merge(groups) {
  var byPage = new Map(), order = [];
  groups.forEach(function (g) {
    var path = g[0].location.split("#")[0];
    if (!byPage.has(path)) { byPage.set(path, g); order.push(path); return; }
    var into = byPage.get(path);
    g.forEach(function (doc) {
      if (!into.some(function (x) { return x.location === doc.location; })) into.push(doc);
    });
  });
  return order.map(function (p) { return byPage.get(p); });
}

/* Resolves with the first answer: every result with its title, and with its text and tags
   where these are loaded already; when some are not, send() later gets the full answer. */
function answer(query, send) {
  if (!analyse(query).length && !joined(query).length) {
    ++latest;
    tell(query, 0, 0);
    return Promise.resolve({ items: [] });
  }
  return search(query).then(function (found) {
    var records = found.hits.filter(function (h) { return h.kind === "record"; });
    var data = function () { return { items: merge(found.hits.map(function (h) { return item(h, found); })) }; };
    var lists = Array.from(new Set(records.map(function (h) { return Math.floor(h.doc / meta.names); })));
    return Promise.all(lists.map(namesOf)).then(function (got) {
      records.forEach(function (h) { h.row = got[lists.indexOf(Math.floor(h.doc / meta.names))][h.doc % meta.names]; });
      var first = data();
      tell(query, found.total, first.items.length);
      var needed = Array.from(new Set(records.map(function (h) { return Math.floor(h.doc / meta.chunk); })));
      if (needed.every(function (n) { return shown.has(n); })) return first;
      Promise.all(needed.map(chunk)).then(function () {
        // a macrotask, so this goes out after the first answer, and only if no query came since
        setTimeout(function () { if (found.seq === latest) send({ type: RESULT, data: data() }); }, 0);
      }, function (err) { console.warn("kedb search failed:", err); });
      return first;
    });
  });
}

/* The title files and shards no query has needed yet, fetched one at a time after an answer (titles
   first: every result needs its title): never more than one in flight, so a query's own fetches do
   not queue behind them; a failed fetch stops it. */
var warming = false, warmFailed = false;
function warm() {
  if (warming || warmFailed || !meta) return;
  var next = null;
  for (var m = 0; m * meta.names < meta.docs && !next; m++) if (!names.has(m)) next = namesOf.bind(null, m);  // titles first
  for (var n = 0; n < firsts.length && !next; n++) if (!shards.has(n)) next = shard.bind(null, n);
  if (!next) return;
  warming = true;
  next().then(function () {
    warming = false;
    setTimeout(warm, 0);
  }, function () {
    warming = false;
    warmFailed = true;
  });
}

/* The page's kedb.js writes "20 of N" from this (Material counts the results it was given). */
function tell(query, total, listed) {
  if (channel) channel.postMessage({ query: query, total: total, listed: listed });
}

/* ---------------------------------------------------------------- protocol */
function handle(message) {
  if (message.type === SETUP) {
    return metaFetch.then(function (m) {
      meta = m;
      R = m.rules;
      stop = new Set(R.stop);
      firsts = m.shards;
      pages = indexPages(message.data.docs || []);
      // The titles of the first query's results are fetched when it needs them (one or two files of
      // ten at 10,000 records): fetching all at once here delayed that query's own shards behind them.
      return { type: READY };
    });
  }
  if (message.type === QUERY) {
    return answer(message.data, postMessage).then(function (data) {
      setTimeout(warm, 0);  // after this answer is posted
      return { type: RESULT, data: data };
    }, function (err) {
      console.warn("kedb search failed:", err);
      return { type: RESULT, data: { items: [] } };
    });
  }
  return Promise.reject(new TypeError("Invalid message type"));
}

addEventListener("message", function (ev) {
  // One message at a time, so results never arrive out of order.
  queue = queue.then(function () { return handle(ev.data); }).then(function (reply) { postMessage(reply); });
});
