// The page: the library timeline, search (text, picture, similar), a grid that pages on
// scroll, a lightbox that edits and deletes, selection for bulk delete, uploads.
import * as api from "./api.js";
import { openUploads } from "./upload.js";

const $ = (id) => document.getElementById(id);
const form = $("search-form");
const input = $("query");
const statusLine = $("status");
const results = $("results");
const moreButton = $("more");
const filters = $("filters");
const PAGE = 40;

// what is on screen: the items, the next page's link, and how the query was described; the
// text query and the images it should look like / unlike (feedback) while it is refined
const state = { items: [], next: null, label: "", loading: false, run: 0, library: false };
const query = { text: "", like: [], unlike: [] };
const FIELD_NAMES = {
  file: "file name",
  caption: "caption",
  tag: "tag",
  autotag: "auto-tag",
  text: "text in the picture",
  place: "place",
};
const ENRICHMENT_NAMES = { place: "place", ocr: "text in the picture", tags: "auto-tags" };
const selected = new Set();
let typing; // the pending search-as-you-type

function setStatus(text, kind = "") {
  statusLine.textContent = text;
  statusLine.dataset.kind = kind;
}

function params() {
  const out = { limit: String(PAGE) };
  for (const field of filters.querySelectorAll("input, select")) {
    if (field.type === "checkbox") {
      if (field.checked) out[field.name] = field.value;
    } else if (field.value.trim()) {
      out[field.name] = field.value.trim();
    }
  }
  return out;
}

function dateOf(item) {
  const when = item.taken_at || item.created_at;
  return when ? new Date(when).toLocaleDateString() : "";
}

function scoreText(item) {
  return typeof item.score === "number" ? `score ${item.score.toFixed(3)}` : dateOf(item);
}

function card(item) {
  const li = document.createElement("li");
  li.dataset.id = item.id;
  const name = item.filename || "image";
  const pick = document.createElement("input");
  pick.type = "checkbox";
  pick.className = "select";
  pick.checked = selected.has(item.id);
  pick.setAttribute("aria-label", `select ${name}`);
  pick.addEventListener("change", () => toggleSelected(item.id, pick.checked));
  li.classList.toggle("selected", pick.checked);
  const open = document.createElement("button");
  open.type = "button";
  open.className = "open";
  open.title = `${item.filename || item.id} · ${scoreText(item)}`;
  open.setAttribute("aria-label", `${name}, ${scoreText(item)}`);
  const img = document.createElement("img");
  img.src = item.thumbnail_url;
  img.loading = "lazy";
  img.alt = item.caption || item.filename || "";
  img.width = 256;
  img.height = 256;
  open.append(img);
  if (item.duplicates) {
    const copies = document.createElement("span");
    copies.className = "copies";
    copies.textContent = `+${item.duplicates}`;
    copies.title = `${item.duplicates} more ${item.duplicates === 1 ? "copy" : "copies"} of this picture`;
    open.append(copies);
  }
  if (typeof item.score === "number") {
    const score = document.createElement("span");
    score.className = "score";
    score.textContent = item.score.toFixed(2);
    score.title = "how close its meaning is to the query";
    open.append(score);
  }
  open.addEventListener("click", () => showLightbox(indexOf(item.id)));
  const more = document.createElement("button");
  more.type = "button";
  more.className = "similar";
  more.textContent = "Similar";
  more.setAttribute("aria-label", `images similar to ${item.filename || "this one"}`);
  more.addEventListener("click", () => runSimilar(item));
  const caption = document.createElement("span");
  caption.className = "caption";
  caption.textContent = [item.filename, dateOf(item)].filter(Boolean).join(" · ");
  li.append(pick, open, caption, more);
  if (item.matched?.length) li.append(matchChips(item));
  if (!state.library && state.kind === "text") {
    const unlike = document.createElement("button");
    unlike.type = "button";
    unlike.className = "unlike";
    unlike.textContent = "Not this";
    unlike.setAttribute("aria-label", `fewer like ${name}`);
    unlike.addEventListener("click", () => notThis(item));
    li.append(unlike);
  }
  return li;
}

// why it matched: one chip per field that held the query's words
function matchChips(item) {
  // spans, not a list: a card is itself a list item of the results
  const chips = document.createElement("span");
  chips.className = "matched";
  chips.setAttribute("aria-label", "matched");
  for (const match of item.matched) {
    const chip = document.createElement("span");
    chip.className = "chip";
    chip.dataset.field = match.field;
    const field = document.createElement("span");
    field.className = "field";
    field.textContent = FIELD_NAMES[match.field] || match.field;
    const words = document.createElement("mark");
    words.textContent = match.words.join(" ");
    chip.append(field, " ", words);
    chips.append(chip);
  }
  if (typeof item.score === "number") {
    const chip = document.createElement("span");
    chip.className = "chip";
    chip.dataset.field = "meaning";
    chip.textContent = `meaning ${item.score.toFixed(2)}`;
    chips.append(chip);
  }
  return chips;
}

// the text with the words that matched (in this field) marked, as DOM nodes; a file name's
// words stand inside it too (HolidayPark2019 holds park and 2019), a caption's stand alone
function highlighted(text, words, inside = false) {
  const out = document.createDocumentFragment();
  const escaped = [...words].sort((a, b) => b.length - a.length).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  if (!escaped.length) {
    out.append(text);
    return out;
  }
  const alone = inside ? ["", ""] : ["(?<![\\p{L}\\p{N}])", "(?![\\p{L}\\p{N}])"];
  const pattern = new RegExp(`${alone[0]}(?:${escaped.join("|")})${alone[1]}`, "giu");
  let last = 0;
  for (const found of text.matchAll(pattern)) {
    out.append(text.slice(last, found.index));
    const mark = document.createElement("mark");
    mark.textContent = found[0];
    out.append(mark);
    last = found.index + found[0].length;
  }
  out.append(text.slice(last));
  return out;
}

function wordsMatched(item, field) {
  return item.matched?.find((m) => m.field === field)?.words || [];
}

const indexOf = (id) => state.items.findIndex((item) => item.id === id);

function show(body, append) {
  if (typeof body.keywords === "boolean") showKeywordHelp(body.keywords);
  state.items = append ? state.items.concat(body.items) : body.items;
  state.next = body.next;
  const cards = body.items.map((item) => card(item));
  if (append) results.append(...cards);
  else results.replaceChildren(...cards);
  moreButton.hidden = !state.next;
  if (state.library) {
    const total = body.matching ?? state.items.length;
    setStatus(
      total === 0
        ? "No images here yet: upload some, or loosen the filters."
        : `${counted(total, "image")} in your library, newest first`,
      total === 0 ? "empty" : "done",
    );
  } else if (state.items.length === 0) {
    setStatus(`Nothing found for ${state.label}. Try other words or fewer filters — or upload images first.`, "empty");
  } else {
    const shown = `${state.items.length}${state.next ? "+" : ""} ${state.next || state.items.length !== 1 ? "images" : "image"}`;
    setStatus(`${shown} for ${state.label} (${body.took_ms} ms)`, "done");
  }
}

// the page says only what the server can do: field terms need its keyword side
function showKeywordHelp(available) {
  for (const tip of document.querySelectorAll("#query-help .needs-keywords")) tip.hidden = !available;
  document.querySelector("#query-help .needs-keywords-off").hidden = available;
}

// a query that does not read: the message, and the query with the place it stopped marked
function showQueryError(text, error) {
  const box = $("query-error");
  if (error?.body?.error !== "bad_query" || typeof error.body.position !== "number") {
    box.hidden = true;
    return false;
  }
  const at = Math.min(error.body.position, Math.max(text.length - 1, 0));
  const where = document.createElement("code");
  const mark = document.createElement("mark");
  mark.textContent = text.slice(at, at + 1) || " ";
  where.append(text.slice(0, at), mark, text.slice(at + 1));
  box.replaceChildren(`${error.body.detail}: `, where);
  box.hidden = false;
  input.setAttribute("aria-invalid", "true");
  return true;
}

async function run(label, request, library = false, kind = "other") {
  showGrid();
  const run = ++state.run;
  state.label = label;
  state.library = library;
  state.kind = kind;
  state.loading = true;
  state.next = null; // the last listing's next page belongs to it, not to this run
  $("query-error").hidden = true;
  $("save-search").hidden = true;
  input.removeAttribute("aria-invalid");
  setStatus(`Searching for ${label}…`, "loading");
  results.setAttribute("aria-busy", "true");
  $("facets").hidden = true;
  try {
    const body = await request();
    if (run === state.run) {
      show(body, false);
      if (library || kind === "text") showFacets(run, library ? "" : query.text);
      $("save-search").hidden = kind !== "text" && kind !== "picture";
    }
  } catch (error) {
    if (run === state.run) {
      results.replaceChildren();
      state.items = [];
      moreButton.hidden = true;
      if (showQueryError(query.text, error)) setStatus("The query does not read: see above.", "error");
      else setStatus(`${library ? "Loading the library" : "Search"} failed: ${error.message}`, "error");
      if (error.status === 401) askForKey(() => rerun(label, request, library));
    }
  } finally {
    if (run === state.run) {
      state.loading = false;
      watchForMore();
    }
    results.removeAttribute("aria-busy");
  }
}

// the results' places, tags, years and cameras: a click filters by one
const FACETS = [
  ["countries", "Country", "place"],
  ["cities", "Place", "place"],
  ["tags", "Tags", "tags"],
  ["auto_tags", "Auto-tags", "auto_tags"],
  ["years", "Year", "year"],
  ["cameras", "Camera", "camera"],
];

async function showFacets(run, text) {
  let body;
  try {
    const { sort, ...wanted } = params();
    body = await api.facets(text, wanted);
  } catch {
    return; // the results stand without them
  }
  if (run !== state.run) return;
  const box = $("facets");
  const groups = [];
  for (const [key, label, filter] of FACETS) {
    const values = (body[key] || []).filter((v) => v.count > 0);
    if (!values.length || (values.length === 1 && values[0].count === body.counted)) continue;
    const group = document.createElement("span");
    group.className = "facet";
    const name = document.createElement("strong");
    name.textContent = label;
    group.append(name);
    for (const { value, count } of values) {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.dataset.filter = filter;
      chip.textContent = `${value} (${count.toLocaleString()})`;
      chip.addEventListener("click", () => applyFacet(filter, value));
      group.append(chip);
    }
    groups.push(group);
  }
  box.replaceChildren(...groups);
  box.hidden = groups.length === 0;
}

function applyFacet(filter, value) {
  const set = (name, v) => {
    filters.querySelector(`[name='${name}']`).value = v;
  };
  if (filter === "year") {
    set("taken_from", `${value}-01-01`);
    set("taken_to", `${value}-12-31`);
  } else {
    set(filter, value);
  }
  filters.open = true;
  filters.dispatchEvent(new Event("change"));
}

// (inside run, its own counter hides the function)
function rerun(label, request, library) {
  return run(label, request, library);
}

// ---- API key: asked for when the server wants one, kept for this tab
const keyDialog = $("key-dialog");
let afterKey = null;

function askForKey(then) {
  afterKey = then;
  $("api-key").value = api.apiKey();
  if (!keyDialog.open) keyDialog.showModal();
}

$("key-form").addEventListener("submit", () => {
  // method=dialog: the dialog closes itself
  api.setApiKey($("api-key").value.trim());
  const then = afterKey;
  afterKey = null;
  if (then) then();
});

async function loadMore() {
  if (!state.next || state.loading) return;
  const run = state.run;
  state.loading = true;
  try {
    const body = await api.nextPage(state.next);
    if (run === state.run) show(body, true);
  } catch (error) {
    setStatus(`Could not load more: ${error.message}`, "error");
  } finally {
    state.loading = false;
    if (run === state.run) watchForMore();
  }
}

// the library, newest first, with the filters (dates, tags) that apply to it
function showLibrary() {
  const url = new URL(window.location);
  url.searchParams.delete("q");
  history.replaceState(null, "", url);
  const { sort, cutoff, ...filtersOnly } = params();
  refreshCounts();
  return run("your library", () => api.browse(filtersOnly), true);
}

async function refreshCounts() {
  const counts = $("counts");
  try {
    const s = await api.stats();
    const pending = ["stored", "queued", "fetching", "processing", "waiting"]
      .map((k) => s.images[k] || 0)
      .reduce((a, b) => a + b, 0);
    const parts = [counted(s.images.indexed, "image"), formatBytes(s.bytes)];
    if (pending) parts.push(`${pending.toLocaleString()} on their way`);
    if (s.images.failed) parts.push(`${s.images.failed.toLocaleString()} failed`);
    if (s.enrichment_backlog) parts.push(`${s.enrichment_backlog.toLocaleString()} being enriched`);
    counts.textContent = parts.join(" · ");
  } catch {
    counts.textContent = "";
  }
}

function counted(n, word) {
  return `${n.toLocaleString()} ${n === 1 ? word : `${word}s`}`;
}

function formatBytes(bytes) {
  const units = ["bytes", "KB", "MB", "GB", "TB"];
  let n = bytes;
  let unit = 0;
  while (n >= 1000 && unit < units.length - 1) {
    n /= 1000;
    unit += 1;
  }
  return `${unit ? n.toFixed(1) : n} ${units[unit]}`;
}

// ---- selection and deleting
function toggleSelected(id, on) {
  if (on) selected.add(id);
  else selected.delete(id);
  results.querySelector(`li[data-id="${id}"]`)?.classList.toggle("selected", on);
  updateSelectionBar();
}

function updateSelectionBar() {
  $("selection").hidden = selected.size === 0;
  $("selection-count").textContent = `${selected.size} selected`;
}

function clearSelection() {
  for (const id of [...selected]) toggleSelected(id, false);
  for (const box of results.querySelectorAll(".select")) box.checked = false;
}

const confirmDialog = $("confirm");

function confirmDelete(text) {
  return new Promise((resolve) => {
    $("confirm-text").textContent = text;
    confirmDialog.returnValue = "";
    confirmDialog.addEventListener("close", () => resolve(confirmDialog.returnValue === "yes"), {
      once: true,
    });
    confirmDialog.showModal();
  });
}

function removeShown(ids) {
  const gone = new Set(ids);
  state.items = state.items.filter((item) => !gone.has(item.id));
  for (const id of ids) {
    results.querySelector(`li[data-id="${id}"]`)?.remove();
    selected.delete(id);
  }
  updateSelectionBar();
}

async function deleteSelected() {
  const ids = [...selected];
  const many = ids.length === 1 ? "this image" : `these ${ids.length} images`;
  if (!(await confirmDelete(`Delete ${many}? This cannot be undone.`))) return;
  try {
    const body = await api.deleteImages(ids);
    const done = body.items.filter((i) => i.status === "deleted" || i.status === "not_found");
    removeShown(done.map((i) => i.id));
    setStatus(`Deleted ${counted(done.length, "image")}.`, "done");
    refreshCounts();
  } catch (error) {
    setStatus(`Delete failed: ${error.message}`, "error");
  }
}

$("delete-selected").addEventListener("click", deleteSelected);
$("clear-selection").addEventListener("click", clearSelection);

// a new text query starts without feedback; "Not this" and "More like these" refine it
function runText(text) {
  const url = new URL(window.location);
  url.searchParams.set("q", text);
  history.replaceState(null, "", url);
  Object.assign(query, { text, like: [], unlike: [] });
  return runQuery();
}

function runQuery() {
  const parts = [];
  if (query.text) parts.push(`“${query.text}”`);
  if (query.like.length) parts.push(`like ${query.like.length} picked`);
  if (query.unlike.length) parts.push(`not like ${query.unlike.length}`);
  const feedback = { like: [...query.like], unlike: [...query.unlike] };
  return run(parts.join(", "), () => api.searchText(query.text, params(), feedback), false, "text");
}

function notThis(item) {
  if (!query.unlike.includes(item.id)) query.unlike.push(item.id);
  runQuery();
}

function moreLikeSelected() {
  if (state.library || state.kind !== "text") Object.assign(query, { text: "", unlike: [] });
  query.like = [...selected].slice(0, 50);
  query.unlike = query.unlike.filter((id) => !selected.has(id));
  clearSelection();
  runQuery();
}

$("like-selected").addEventListener("click", moreLikeSelected);

function runImage(file) {
  state.picture = file; // kept for "Save search…": an album of pictures like it
  return run(`the picture ${file.name}`, () => api.searchImage(file, params()), false, "picture");
}

function runSimilar(item) {
  closeLightbox();
  return run(`images similar to ${item.filename || item.id.slice(0, 12)}`, () =>
    api.similar(item.id, params()),
  );
}

// ---- lightbox
const lightbox = $("lightbox");
let shown = -1;

function row(list, name, value) {
  if (value === null || value === undefined || value === "") return;
  const dt = document.createElement("dt");
  dt.textContent = name;
  const dd = document.createElement("dd");
  if (value instanceof Node) dd.append(value);
  else dd.textContent = value;
  list.append(dt, dd);
}

function showLightbox(index) {
  const item = state.items[index];
  if (!item) return;
  shown = index;
  $("lightbox-image").src = item.preview_url;
  $("lightbox-image").alt = item.caption || item.filename || "";
  $("lightbox-title").replaceChildren(highlighted(item.filename || item.id, wordsMatched(item, "file"), true));
  const meta = $("lightbox-meta");
  meta.replaceChildren();
  if (typeof item.score === "number") row(meta, "Score", item.score.toFixed(3));
  if (item.matched?.length) row(meta, "Matched", matchChips(item));
  row(meta, "Size", item.width && item.height ? `${item.width} × ${item.height}` : "");
  row(meta, "Taken", item.taken_at ? new Date(item.taken_at).toLocaleString() : "");
  row(meta, "Uploaded", item.created_at ? new Date(item.created_at).toLocaleString() : "");
  if (item.place) row(meta, "Place", highlighted(item.place, wordsMatched(item, "place")));
  if (item.caption) row(meta, "Caption", highlighted(item.caption, wordsMatched(item, "caption")));
  if (item.tags?.length) row(meta, "Tags", highlighted(item.tags.join(", "), wordsMatched(item, "tag")));
  if (item.auto_tags?.length) row(meta, "Auto-tags", autoTagChips(item));
  row(meta, "Type", item.content_type);
  row(meta, "Id", item.id);
  $("edit-caption").value = item.caption || "";
  $("edit-tags").value = (item.tags || []).join(", ");
  $("edit-status").textContent = "";
  $("text-boxes").replaceChildren();
  $("text-boxes").hidden = true;
  showDetails(item, meta);
  const download = $("lightbox-download");
  download.href = item.url;
  download.download = item.filename || item.id;
  if (!lightbox.open) lightbox.showModal();
}

// what only the image's status holds: the text read from it, with where each line is, and
// where each enrichment stands
async function showDetails(item, meta) {
  let status;
  try {
    status = await api.imageStatus(item.id);
  } catch {
    return; // the rest of the lightbox stands without it
  }
  if (state.items[shown]?.id !== item.id || !lightbox.open) return;
  const lines = Array.isArray(status.metadata?.ocr) ? status.metadata.ocr : [];
  if (lines.length) {
    const text = lines.map((line) => line.text).join(" · ");
    row(meta, "Text in the picture", highlighted(text, wordsMatched(item, "text")));
    const boxes = $("text-boxes");
    boxes.replaceChildren(
      ...lines.map((line) => {
        const [x0, y0, x1, y1] = line.box;
        const box = document.createElement("span");
        box.title = line.text;
        Object.assign(box.style, {
          left: `${x0 * 100}%`,
          top: `${y0 * 100}%`,
          width: `${(x1 - x0) * 100}%`,
          height: `${(y1 - y0) * 100}%`,
        });
        return box;
      }),
    );
    boxes.hidden = false;
  }
  const states = Object.entries(status.enrichment || {}).map(
    ([name, s]) => `${ENRICHMENT_NAMES[name] || name}: ${s.state}${s.reason ? ` (${s.reason})` : ""}`,
  );
  if (states.length) {
    const note = document.createElement("span");
    note.className = "enrichment";
    note.textContent = states.join(" · ");
    row(meta, "Enrichment", note);
  }
}

// tags the vocabulary gave: each can be taken away (the image is never given it again)
function autoTagChips(item) {
  const list = document.createElement("span");
  list.className = "auto-tags";
  for (const tag of item.auto_tags) {
    const chip = document.createElement("span");
    chip.className = "chip";
    chip.dataset.tag = tag;
    chip.append(highlighted(tag, wordsMatched(item, "autotag")));
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "×";
    remove.title = `not ${tag}: remove this tag`;
    remove.setAttribute("aria-label", `remove auto-tag ${tag}`);
    remove.addEventListener("click", () => removeAutoTag(item, tag));
    chip.append(remove);
    list.append(chip);
  }
  return list;
}

async function removeAutoTag(item, tag) {
  $("edit-status").textContent = "Saving…";
  try {
    const status = await api.imageStatus(item.id);
    const removed = status.metadata?.removed_auto_tags || [];
    const body = await api.editImage(item.id, { removed_auto_tags: [...removed, tag] });
    // the listing may have been loaded again meanwhile: change the item it holds now
    for (const held of [item, state.items[indexOf(item.id)]]) {
      if (held) held.auto_tags = body.metadata.auto_tags || [];
    }
    if (state.items[shown]?.id === item.id) showLightbox(shown);
    $("edit-status").textContent = `Removed ${tag}`;
  } catch (error) {
    $("edit-status").textContent = `Not removed: ${error.message}`;
  }
}

function closeLightbox() {
  if (lightbox.open) lightbox.close();
}

$("lightbox-close").addEventListener("click", closeLightbox);

$("edit-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const item = state.items[shown];
  if (!item) return;
  const tags = $("edit-tags").value.split(",").map((t) => t.trim()).filter(Boolean);
  $("edit-status").textContent = "Saving…";
  try {
    const body = await api.editImage(item.id, { caption: $("edit-caption").value.trim(), tags });
    item.caption = body.metadata.caption || null;
    item.tags = body.metadata.tags || [];
    showLightbox(shown);
    $("edit-status").textContent = "Saved";
  } catch (error) {
    $("edit-status").textContent = `Not saved: ${error.message}`;
  }
});

$("lightbox-delete").addEventListener("click", async () => {
  const item = state.items[shown];
  if (!item) return;
  if (!(await confirmDelete(`Delete ${item.filename || "this image"}? This cannot be undone.`))) return;
  try {
    await api.deleteImage(item.id);
  } catch (error) {
    if (error.status !== 404) {
      $("edit-status").textContent = `Not deleted: ${error.message}`;
      return;
    }
  }
  closeLightbox();
  removeShown([item.id]);
  setStatus(`Deleted ${item.filename || "the image"}.`, "done");
  refreshCounts();
});
$("lightbox-similar").addEventListener("click", () => runSimilar(state.items[shown]));
lightbox.addEventListener("keydown", (event) => {
  if (event.key === "ArrowRight") showLightbox(Math.min(shown + 1, state.items.length - 1));
  if (event.key === "ArrowLeft") showLightbox(Math.max(shown - 1, 0));
});
lightbox.addEventListener("click", (event) => {
  if (event.target === lightbox) closeLightbox(); // a click on the backdrop
});

// ---- search inputs
form.addEventListener("submit", (event) => {
  event.preventDefault();
  clearTimeout(typing);
  const text = input.value.trim();
  if (text) runText(text);
  else setStatus("Type what you are looking for first.", "error");
});

// results as you type, once the words settle
input.addEventListener("input", () => {
  clearTimeout(typing);
  const text = input.value.trim();
  if (text.length >= 3) typing = setTimeout(() => runText(text), 350);
  else if (!text && !state.library) typing = setTimeout(showLibrary, 350);
});

$("query-image").addEventListener("change", (event) => {
  const [file] = event.target.files;
  if (file) runImage(file);
  event.target.value = "";
});

filters.addEventListener("change", () => {
  const text = input.value.trim();
  if (text) runText(text);
  else showLibrary();
});

moreButton.addEventListener("click", loadMore);
const sentinel = $("sentinel");
const pager = new IntersectionObserver((entries) => {
  if (entries.some((e) => e.isIntersecting)) loadMore();
});
pager.observe(sentinel);

// once a page is on screen: observing again reports whether the end of the grid is still in
// view (a page shorter than the window, or one that arrived while another was loading), which
// no scroll would report
function watchForMore() {
  pager.unobserve(sentinel);
  pager.observe(sentinel);
}

// a picture dropped anywhere but the upload dialog searches with it
const hint = $("drop-hint");
const uploadDialog = $("upload");
const carriesFiles = (event) => Array.from(event.dataTransfer?.types || []).includes("Files");
document.addEventListener("dragover", (event) => {
  if (!carriesFiles(event) || uploadDialog.open) return;
  event.preventDefault();
  hint.classList.add("visible");
});
document.addEventListener("dragleave", (event) => {
  if (event.relatedTarget === null) hint.classList.remove("visible");
});
document.addEventListener("drop", (event) => {
  hint.classList.remove("visible");
  if (uploadDialog.open) return;
  const file = Array.from(event.dataTransfer?.files || []).find((f) => f.type.startsWith("image/"));
  if (!file) return;
  event.preventDefault();
  runImage(file);
});

$("open-upload").addEventListener("click", openUploads);

// ---- duplicates: each group of copies side by side; deleting keeps the best one
const duplicatesView = $("duplicates");
const groupsList = $("groups");
let nextGroups = null;

function showGrid() {
  duplicatesView.hidden = true;
  results.hidden = false;
}

function groupRow(group) {
  const li = document.createElement("li");
  li.dataset.key = group.key;
  const members = document.createElement("ul");
  members.className = "members";
  group.items.forEach((item, n) => {
    const member = document.createElement("li");
    member.dataset.id = item.id;
    if (n === 0) member.className = "keep";
    const img = document.createElement("img");
    img.src = item.thumbnail_url;
    img.alt = item.filename || "";
    const text = document.createElement("span");
    const size = item.width && item.height ? `${item.width} × ${item.height}` : "";
    text.textContent = [n === 0 ? "keep" : "", item.filename, size, item.bytes ? formatBytes(item.bytes) : ""]
      .filter(Boolean)
      .join(" · ");
    member.append(img, text);
    members.append(member);
  });
  const extras = group.items.slice(1).map((item) => item.id);
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "danger delete-extras";
  remove.textContent = `Delete the ${extras.length} ${extras.length === 1 ? "extra" : "extras"}`;
  remove.addEventListener("click", async () => {
    const what = extras.length === 1 ? "this copy" : `these ${extras.length} copies`;
    if (!(await confirmDelete(`Delete ${what} and keep the first picture?`))) return;
    try {
      await api.deleteImages(extras);
      li.remove();
      setStatus(`Deleted ${extras.length} ${extras.length === 1 ? "copy" : "copies"}.`, "done");
      refreshCounts();
    } catch (error) {
      setStatus(`Delete failed: ${error.message}`, "error");
    }
  });
  li.append(members, remove);
  return li;
}

async function showDuplicates(link = null) {
  ++state.run; // whatever the grid was loading is no longer wanted
  state.next = null;
  results.hidden = true;
  moreButton.hidden = true;
  duplicatesView.hidden = false;
  if (!link) groupsList.replaceChildren();
  setStatus("Looking for copies…", "loading");
  try {
    const body = await api.duplicateGroups(link);
    groupsList.append(...body.groups.map(groupRow));
    nextGroups = body.next;
    $("more-groups").hidden = !nextGroups;
    const shown = groupsList.children.length;
    setStatus(shown ? `${shown}${nextGroups ? "+" : ""} pictures with copies` : "No copies found.", shown ? "done" : "empty");
  } catch (error) {
    setStatus(`Could not load duplicates: ${error.message}`, "error");
    if (error.status === 401) askForKey(() => showDuplicates(link));
  }
}

$("open-duplicates").addEventListener("click", () => showDuplicates());

// ---- albums: saved searches that fill themselves as pictures arrive
const saveDialog = $("save-dialog");

$("save-search").addEventListener("click", () => {
  const picture = state.kind === "picture" ? state.picture : null;
  $("save-name").value = picture ? `Like ${picture.name}` : query.text || "Pictures like these";
  $("save-status").textContent = "";
  saveDialog.showModal();
});
$("save-cancel").addEventListener("click", () => saveDialog.close());

$("save-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  // the filters as search takes them; the threshold: where the results drop most, found when saved
  const { limit, sort, cutoff, ...filters } = params();
  const picture = state.kind === "picture" ? state.picture : null;
  const saved = picture ? { filters } : { like: [...query.like], unlike: [...query.unlike], filters };
  if (query.text && !picture) saved.text = query.text;
  $("save-status").textContent = "Saving…";
  try {
    const name = $("save-name").value.trim();
    await (picture ? api.saveImageSearch(name, picture, saved) : api.saveSearch(name, saved));
    saveDialog.close();
    setStatus(`Saved as an album: ${$("save-name").value.trim()}`, "done");
    loadAlbums();
  } catch (error) {
    $("save-status").textContent = `Not saved: ${error.message}`;
    if (error.status === 401) askForKey(() => saveDialog.showModal());
  }
});

async function loadAlbums() {
  let searches;
  try {
    searches = await api.savedSearches();
  } catch {
    return; // the page stands without them
  }
  const buttons = searches.map((album) => {
    const open = document.createElement("button");
    open.type = "button";
    open.dataset.id = album.id;
    open.textContent = album.name;
    if (album.new) {
      const badge = document.createElement("span");
      badge.className = "new";
      badge.textContent = `${album.new.toLocaleString()} new`;
      open.append(" ", badge);
    }
    open.addEventListener("click", () => openAlbum(album));
    return open;
  });
  $("album-list").replaceChildren(...buttons);
  $("albums").hidden = buttons.length === 0;
}

async function openAlbum(album) {
  await run(`the album “${album.name}”`, () => api.albumImages(album.id, PAGE), false, "album");
  loadAlbums(); // what was new is seen now
}
$("more-groups").addEventListener("click", () => showDuplicates(nextGroups));
// what was just uploaded shows at the top of the timeline
document.addEventListener("images-added", () => {
  if (state.library) showLibrary();
});

// which model answers; a model that says what it knows (the offline demo model) gets its
// example queries offered, and the box suggests them instead of "a red car at night"
async function showModel() {
  let model;
  try {
    model = await api.liveModel();
  } catch {
    return; // the page stands without it
  }
  const line = $("model-line");
  line.textContent = `Searching with ${model.model} · ${model.dim}-d · ${model.runtime} ${model.dtype}`;
  line.hidden = false;
  if (!model.knows) return;
  $("model-knows").textContent = model.knows;
  const examples = model.examples.map((example) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "example";
    button.textContent = example;
    button.addEventListener("click", () => {
      input.value = example;
      runText(example);
    });
    return button;
  });
  $("model-examples").replaceChildren("Try: ", ...examples);
  if (model.examples.length) input.placeholder = model.examples.slice(0, 2).join(", ");
  $("model-note").hidden = false;
}

// ---- models: evaluate a candidate on a sample of the library before switching to it
const modelsDialog = $("models-dialog");
const EVALUATION_POLL_MS = 1500;

$("open-models").addEventListener("click", () => {
  $("models-live").textContent = $("model-line").textContent;
  modelsDialog.showModal();
});
$("models-close").addEventListener("click", () => modelsDialog.close());

$("models-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const status = $("evaluation-status");
  $("evaluation-report").hidden = true;
  $("evaluation-switch").textContent = "";
  status.textContent = "Queued…";
  let record;
  try {
    record = await api.evaluateModel($("candidate-model").value.trim(), Number($("candidate-sample").value));
    while (record.state === "queued" || record.state === "running") {
      status.textContent = record.state === "queued" ? "Queued…" : "Embedding the sample with both models…";
      await new Promise((resolve) => setTimeout(resolve, EVALUATION_POLL_MS));
      record = await api.evaluation(record.id);
    }
  } catch (error) {
    status.textContent = `Not evaluated: ${error.message}`;
    if (error.status === 401) askForKey(() => modelsDialog.showModal());
    return;
  }
  if (record.state === "failed") {
    status.textContent = `Not evaluated: ${record.reason}`;
    return;
  }
  showEvaluation(record.report);
  status.textContent = `${record.report.queries} queries on ${record.report.sampled} pictures.`;
});

function showEvaluation(report) {
  const { live, candidate } = report;
  const rows = [
    ["model", live.model, candidate.model],
    ["dimension", live.dim, candidate.dim],
    ...Object.keys(live.metrics).map((m) => [m, live.metrics[m].toFixed(3), candidate.metrics[m].toFixed(3)]),
    ["ms per picture", live.embed_ms_per_image, candidate.embed_ms_per_image],
  ];
  $("evaluation-report").tBodies[0].replaceChildren(
    ...rows.map((cells) => {
      const tr = document.createElement("tr");
      tr.dataset.metric = cells[0];
      for (const [n, cell] of cells.entries()) {
        const td = document.createElement(n === 0 ? "th" : "td");
        td.textContent = cell;
        tr.append(td);
      }
      return tr;
    }),
  );
  $("evaluation-report").hidden = false;
  const minutes = Math.max(1, Math.round(report.switch_estimated_s / 60));
  $("evaluation-switch").textContent =
    `Switching would embed ${report.library_images} pictures again: about ${minutes} min of work on the worker's machine.`;
}

showModel();
loadAlbums();
const initial = new URL(window.location).searchParams.get("q");
if (initial) {
  input.value = initial;
  runText(initial);
} else {
  showLibrary();
}
