// The page: search (text, picture, similar), a grid that pages on scroll, a lightbox, uploads.
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

// what is on screen: the items, the next page's link, and how the query was described
const state = { items: [], next: null, label: "", loading: false, run: 0 };
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

function card(item, index) {
  const li = document.createElement("li");
  li.dataset.id = item.id;
  const open = document.createElement("button");
  open.type = "button";
  open.className = "open";
  open.title = `${item.filename || item.id} · score ${item.score.toFixed(3)}`;
  open.setAttribute("aria-label", `${item.filename || "image"}, score ${item.score.toFixed(3)}`);
  const img = document.createElement("img");
  img.src = item.thumbnail_url;
  img.loading = "lazy";
  img.alt = item.caption || item.filename || "";
  img.width = 256;
  img.height = 256;
  const score = document.createElement("span");
  score.className = "score";
  score.textContent = item.score.toFixed(2);
  open.append(img, score);
  open.addEventListener("click", () => showLightbox(index));
  const more = document.createElement("button");
  more.type = "button";
  more.className = "similar";
  more.textContent = "Similar";
  more.setAttribute("aria-label", `images similar to ${item.filename || "this one"}`);
  more.addEventListener("click", () => runSimilar(item));
  const caption = document.createElement("span");
  caption.className = "caption";
  caption.textContent = [item.filename, dateOf(item)].filter(Boolean).join(" · ");
  li.append(open, caption, more);
  return li;
}

function show(body, append) {
  const start = append ? state.items.length : 0;
  state.items = append ? state.items.concat(body.items) : body.items;
  state.next = body.next;
  const cards = body.items.map((item, i) => card(item, start + i));
  if (append) results.append(...cards);
  else results.replaceChildren(...cards);
  moreButton.hidden = !state.next;
  if (state.items.length === 0) {
    setStatus(`Nothing found for ${state.label}. Try other words or fewer filters — or upload images first.`, "empty");
  } else {
    setStatus(`${state.items.length}${state.next ? "+" : ""} images for ${state.label} (${body.took_ms} ms)`, "done");
  }
}

async function run(label, request) {
  const run = ++state.run;
  state.label = label;
  state.loading = true;
  setStatus(`Searching for ${label}…`, "loading");
  results.setAttribute("aria-busy", "true");
  try {
    const body = await request();
    if (run === state.run) show(body, false);
  } catch (error) {
    if (run === state.run) {
      results.replaceChildren();
      moreButton.hidden = true;
      setStatus(`Search failed: ${error.message}`, "error");
      if (error.status === 401) askForKey(() => rerun(label, request));
    }
  } finally {
    if (run === state.run) state.loading = false;
    results.removeAttribute("aria-busy");
  }
}

// (inside run, its own counter hides the function)
function rerun(label, request) {
  return run(label, request);
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
  }
}

function runText(text) {
  const url = new URL(window.location);
  url.searchParams.set("q", text);
  history.replaceState(null, "", url);
  return run(`“${text}”`, () => api.searchText(text, params()));
}

function runImage(file) {
  return run(`the picture ${file.name}`, () => api.searchImage(file, params()));
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
  dd.textContent = value;
  list.append(dt, dd);
}

function showLightbox(index) {
  const item = state.items[index];
  if (!item) return;
  shown = index;
  $("lightbox-image").src = item.preview_url;
  $("lightbox-image").alt = item.caption || item.filename || "";
  $("lightbox-title").textContent = item.filename || item.id;
  const meta = $("lightbox-meta");
  meta.replaceChildren();
  row(meta, "Score", item.score.toFixed(3));
  row(meta, "Size", item.width && item.height ? `${item.width} × ${item.height}` : "");
  row(meta, "Taken", item.taken_at ? new Date(item.taken_at).toLocaleString() : "");
  row(meta, "Uploaded", item.created_at ? new Date(item.created_at).toLocaleString() : "");
  row(meta, "Caption", item.caption);
  row(meta, "Tags", (item.tags || []).join(", "));
  row(meta, "Type", item.content_type);
  row(meta, "Id", item.id);
  const download = $("lightbox-download");
  download.href = item.url;
  download.download = item.filename || item.id;
  if (!lightbox.open) lightbox.showModal();
}

function closeLightbox() {
  if (lightbox.open) lightbox.close();
}

$("lightbox-close").addEventListener("click", closeLightbox);
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
});

$("query-image").addEventListener("change", (event) => {
  const [file] = event.target.files;
  if (file) runImage(file);
  event.target.value = "";
});

filters.addEventListener("change", () => {
  const text = input.value.trim();
  if (text) runText(text);
});

moreButton.addEventListener("click", loadMore);
new IntersectionObserver((entries) => {
  if (entries.some((e) => e.isIntersecting)) loadMore();
}).observe($("sentinel"));

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

const initial = new URL(window.location).searchParams.get("q");
if (initial) {
  input.value = initial;
  runText(initial);
}
