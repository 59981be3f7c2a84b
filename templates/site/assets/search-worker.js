/* kedb search worker: answers Material's search box from the static record index that
   kedb builds (search/kedb/, see kedb.site.searchindex) and from Material's own index of
   the other pages (sent by Material at SETUP). It speaks Material's worker protocol:
   SETUP (0) -> READY (1), QUERY (2) -> RESULT (3). Only the index shards a query needs are
   fetched, so the first result does not wait for the whole knowledge base to load. The
   titles (n-*.json, a few files) are fetched once at start, so a query lists its results
   as soon as its term shards are in; a second RESULT adds their text and tags (d-*.json).
   Everything it returns is HTML-escaped text with <mark> around matched terms. */
"use strict";

var SETUP = 0, READY = 1, QUERY = 2, RESULT = 3;
var ROOT = new URL("../../search/kedb/", self.location.href);
var PREFIX_FACTOR = 0.7;   // a term that only starts with the query term counts less than an exact one
var MAX_RESULTS = 20;

var meta = null;           // search/kedb/meta.json
var split = null;          // the separator as a RegExp
var stop = new Set();
var shardKeys = new Set();
var shards = new Map();    // key -> Promise<{term: [doc, w, ...]}>
var chunks = new Map();    // n -> Promise<[[location, title, text, tags], ...]>
var shown = new Map();     // n -> [[location, title, text, tags], ...] once fetched
var names = new Map();     // n -> Promise<[[location, title], ...]>
var latest = 0;            // number of the latest query: a late second answer is dropped
var waiting = [];          // display files not requested yet: {n, resolve, reject}
var running = 0;           // display files being fetched
var MAX_DISPLAY = 3;       // at most this many at once: a browser opens 6 connections per host,
                           // and the next query's shards must not queue behind display files
var pages = null;          // Material's docs (other pages), indexed in memory
var queue = Promise.resolve();

function fetchJSON(name) {
  return fetch(new URL(name, ROOT)).then(function (r) {
    if (!r.ok) throw new Error(name + ": " + r.status);
    return r.json();
  });
}

function hex(text) {
  var bytes = new TextEncoder().encode(text);
  var out = "";
  for (var i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
  return out;
}

var PUNCT = /^[\p{P}\p{S}]+|[\p{P}\p{S}]+$/gu;  // punctuation and symbols at either end, as in Python

function terms(text) {
  var out = [];
  var parts = String(text).toLowerCase().split(split);
  for (var i = 0; i < parts.length; i++) {
    var t = (parts[i] || "").replace(PUNCT, "");
    if (t.length > 1 && !stop.has(t)) out.push(t);
  }
  return out;
}

var MAX_TERMS = 32;         // query terms that count (one bit each): a pasted paragraph keeps its first 32

function tokenize(text) {
  return Array.from(new Set(terms(text))).slice(0, MAX_TERMS);
}

function escapeHTML(s) {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function unescapeHTML(s) {
  return String(s).replace(/<[^>]*>/g, " ").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, "\"").replace(/&#39;/g, "'").replace(/&amp;/g, "&");
}

/* ---------------------------------------------------------------- the other pages (Material's index) */
function indexPages(config, docs) {
  var fields = config.fields || {};
  var postings = new Map();
  docs.forEach(function (doc, i) {
    var perTerm = new Map();
    ["title", "text", "tags"].forEach(function (name) {
      var value = doc[name];
      if (value === undefined) return;
      var text = Array.isArray(value) ? value.join(" ") : unescapeHTML(value);
      var boost = ((fields[name] || {}).boost || 1) / 10;
      var counts = new Map();
      terms(text).forEach(function (t) { counts.set(t, (counts.get(t) || 0) + 1); });
      counts.forEach(function (tf, t) {
        var w = boost * tf * (meta.k1 + 1) / (tf + meta.k1);
        perTerm.set(t, (perTerm.get(t) || 0) + w);
      });
    });
    perTerm.forEach(function (w, t) {
      if (!postings.has(t)) postings.set(t, []);
      postings.get(t).push(i, w * (doc.boost || 1));
    });
  });
  var pageOf = new Map();
  docs.forEach(function (doc) {
    var path = doc.location.split("#")[0];
    if (!pageOf.has(path)) pageOf.set(path, doc);
  });
  return { docs: docs, postings: postings, terms: Array.from(postings.keys()), pageOf: pageOf };
}

/* ---------------------------------------------------------------- scoring */
function idf(df, n) {
  return Math.log(1 + (n - df + 0.5) / (df + 0.5));
}

/* A shard as {term: [doc, weight, doc, weight...]}: the file stores gaps between record
   numbers and weights x meta.scale (see kedb.site.searchindex). */
function shard(key) {
  if (!shardKeys.has(key)) return Promise.resolve({});
  if (!shards.has(key)) shards.set(key, fetchJSON("t-" + key + ".json").then(function (terms) {
    Object.keys(terms).forEach(function (t) {
      var post = terms[t], doc = 0;
      for (var i = 0; i < post.length; i += 2) {
        doc += post[i];
        post[i] = doc;
        post[i + 1] = post[i + 1] / meta.scale;
      }
    });
    return terms;
  }));
  return shards.get(key);
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
  if (!names.has(n)) names.set(n, fetchJSON("n-" + n + ".json"));
  return names.get(n);
}

/* Scores over n documents in typed arrays: a common term lists most of a big KB, and Maps and
   objects per posting made such queries ten times slower. mask holds the query terms each
   document matched (bit i: query term i). */
function Scores(n) {
  this.score = new Float64Array(n);
  this.mask = new Uint32Array(n);
  this.best = new Float64Array(n);
  this.touched = [];
}

/* Add the best match of query term number qi (q) in each document (exact beats prefix). */
function collect(qi, q, terms, postingsOf, n, acc) {
  var best = acc.best, seen = [];
  terms.forEach(function (term) {
    if (term.lastIndexOf(q, 0) !== 0) return;
    var post = postingsOf(term);
    var factor = term === q ? 1 : PREFIX_FACTOR;
    var weight = idf(post.length / 2, n) * factor;
    for (var i = 0; i < post.length; i += 2) {
      var doc = post[i], s = weight * post[i + 1];
      if (best[doc] === 0) seen.push(doc);
      if (best[doc] < s) best[doc] = s;
    }
  });
  var bit = 1 << qi;
  for (var j = 0; j < seen.length; j++) {
    var d = seen[j];
    if (acc.mask[d] === 0) acc.touched.push(d);
    acc.score[d] += best[d];
    acc.mask[d] |= bit;
    best[d] = 0;
  }
}

function bits(mask) {
  var c = 0;
  for (; mask; mask &= mask - 1) c++;
  return c;
}

/* The best MAX_RESULTS documents: score x (1 + share of query terms matched)^2, then the lower
   document number; matched is the set of query terms each one matched. */
function rank(acc, qterms) {
  var top = [];
  for (var i = 0; i < acc.touched.length; i++) {
    var doc = acc.touched[i], coverage = bits(acc.mask[doc]) / qterms.length;
    var score = acc.score[doc] * (1 + coverage) * (1 + coverage);
    if (top.length === MAX_RESULTS && !better(score, doc, top[top.length - 1])) continue;
    var at = top.length;
    while (at > 0 && better(score, doc, top[at - 1])) at--;
    top.splice(at, 0, { doc: doc, score: score, mask: acc.mask[doc] });
    if (top.length > MAX_RESULTS) top.pop();
  }
  return top.map(function (h) {
    h.matched = new Set(qterms.filter(function (q, qi) { return h.mask & (1 << qi); }));
    return h;
  });
}

function better(score, doc, than) {
  return score > than.score || (score === than.score && doc < than.doc);
}

function highlight(htmlText, qterms) {
  if (!qterms.length) return htmlText;
  var pattern = new RegExp("(" + qterms.map(function (t) {
    return escapeHTML(t).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }).join("|") + ")", "gi");
  return String(htmlText).split(/(<[^>]*>|&[a-z#0-9]+;)/i).map(function (part) {
    return part.charAt(0) === "<" || part.charAt(0) === "&" ? part : part.replace(pattern, "<mark>$1</mark>");
  }).join("");
}

function termsOf(qterms, matched) {
  var t = {};
  qterms.forEach(function (q) { t[q] = matched.has(q); });
  return t;
}

/* The shard holding the terms that start with q: the three-letter one where the two-letter
   prefix was split, else the two-letter one. */
function shardOf(q) {
  var three = q.length > 2 ? hex(q.slice(0, 3)) : null;
  return three && shardKeys.has(three) ? three : hex(q.slice(0, 2));
}

/* Resolves with the first answer: every result with its title, and with its text and tags
   where these are loaded already; when some are not, send() later gets the full answer. */
function search(query, send) {
  var qterms = tokenize(query);
  var seq = ++latest;  // an emptied box too: the previous query's late answer must not come back
  waiting.forEach(function (job) { chunks.delete(job.n); });
  waiting = [];
  if (!qterms.length) return Promise.resolve({ items: [] });
  var keys = Array.from(new Set(qterms.map(shardOf)));
  return Promise.all(keys.map(shard)).then(function (loaded) {
    var byKey = new Map();
    keys.forEach(function (k, i) { byKey.set(k, loaded[i]); });
    var recordScores = new Scores(meta.docs), pageScores = new Scores(pages ? pages.docs.length : 0);
    qterms.forEach(function (q, qi) {
      var terms = byKey.get(shardOf(q)) || {};
      // A two-letter term matches only itself: "id" must not pull in every "identity".
      var names = q.length > 2 ? Object.keys(terms) : (terms[q] ? [q] : []);
      collect(qi, q, names, function (t) { return terms[t]; }, meta.docs, recordScores);
      if (pages) collect(qi, q, q.length > 2 ? pages.terms : (pages.postings.has(q) ? [q] : []), function (t) { return pages.postings.get(t); }, pages.docs.length, pageScores);
    });
    var hits = rank(recordScores, qterms).map(function (h) { h.kind = "record"; return h; })
      .concat(rank(pageScores, qterms).map(function (h) { h.kind = "page"; return h; }));
    hits.sort(function (a, b) { return b.score - a.score; });
    hits = hits.slice(0, MAX_RESULTS);
    var records = hits.filter(function (h) { return h.kind === "record"; });
    var needed = Array.from(new Set(records.map(function (h) { return Math.floor(h.doc / meta.chunk); })));
    var answer = function () { return { items: merge(hits.map(function (h) { return item(h, qterms); })) }; };
    if (needed.every(function (n) { return shown.has(n); })) return answer();
    var full = Promise.all(needed.map(chunk));
    var lists = Array.from(new Set(records.map(function (h) { return Math.floor(h.doc / meta.names); })));
    return Promise.all(lists.map(namesOf)).then(function (got) {
      records.forEach(function (h) { h.name = got[lists.indexOf(Math.floor(h.doc / meta.names))][h.doc % meta.names]; });
      if (needed.every(function (n) { return shown.has(n); })) return answer();
      full.then(function () {
        // a macrotask, so this goes out after the first answer, and only if no query came since
        setTimeout(function () { if (seq === latest) send({ type: RESULT, data: answer() }); }, 0);
      }, function (err) { console.warn("kedb search failed:", err); });
      return answer();
    }, function () { return full.then(answer); });
  });
}

/* One result group; a record shows its title only until its display file is in. */
function item(hit, qterms) {
  var marks = Array.from(hit.matched);
  if (hit.kind === "record") {
    var docs = shown.get(Math.floor(hit.doc / meta.chunk));
    var d = docs ? docs[hit.doc % meta.chunk] : [hit.name[0], hit.name[1], "", []];
    return [{
      location: d[0], title: highlight(d[1], marks), text: highlight(d[2], marks),
      tags: d[3], score: hit.score, terms: termsOf(qterms, hit.matched)
    }];
  }
  var doc = pages.docs[hit.doc];
  var page = pages.pageOf.get(doc.location.split("#")[0]) || doc;
  var found = {
    location: doc.location, title: highlight(doc.title, marks), text: highlight(doc.text, marks),
    score: hit.score, terms: termsOf(qterms, hit.matched)
  };
  if (page === doc) return [found];
  return [{ location: page.location, title: page.title, text: "", score: hit.score, terms: found.terms }, found];
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

/* ---------------------------------------------------------------- protocol */
function handle(message) {
  if (message.type === SETUP) {
    return fetchJSON("meta.json").then(function (m) {
      meta = m;
      split = new RegExp(meta.separator);
      stop = new Set(meta.stop);
      shardKeys = new Set(meta.shards);
      pages = indexPages(message.data.config || {}, message.data.docs || []);
      setTimeout(function () {  // every query needs titles: fetch them once, after READY
        for (var n = 0; n * meta.names < meta.docs; n++) namesOf(n);
      }, 0);
      return { type: READY };
    });
  }
  if (message.type === QUERY) {
    return search(message.data, postMessage).then(function (data) {
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
