// Text search: calls the search API (same origin, through nginx) and shows the ranked images.
const form = document.getElementById("search-form");
const input = document.getElementById("query");
const statusLine = document.getElementById("status");
const results = document.getElementById("results");
const LIMIT = 60;

function setStatus(text, isError = false) {
  statusLine.textContent = text;
  statusLine.classList.toggle("error", isError);
}

function card(item) {
  const li = document.createElement("li");
  const link = document.createElement("a");
  link.href = item.url;
  link.target = "_blank";
  link.rel = "noopener";
  const img = document.createElement("img");
  img.src = item.url;
  img.loading = "lazy";
  img.alt = item.filename || item.id;
  const meta = document.createElement("div");
  meta.className = "meta";
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = item.filename || item.id.slice(0, 12);
  const score = document.createElement("span");
  score.className = "score";
  score.textContent = item.score.toFixed(3);
  score.title = "cosine similarity";
  meta.append(name, score);
  link.append(img, meta);
  li.append(link);
  li.dataset.id = item.id;
  return li;
}

async function search(text) {
  setStatus(`Searching for “${text}”…`);
  results.replaceChildren();
  const params = new URLSearchParams({ text, limit: String(LIMIT) });
  let response;
  try {
    response = await fetch(`/api/v1/image/search?${params}`);
  } catch {
    setStatus("The search service cannot be reached. Is the stack running?", true);
    return;
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = typeof body.detail === "string" ? body.detail : response.statusText;
    setStatus(`Search failed: ${detail}`, true);
    return;
  }
  if (body.items.length === 0) {
    setStatus("No images yet. Upload some with POST /api/v1/images.");
    return;
  }
  setStatus(`${body.items.length} images for “${text}” (${body.took_ms} ms)`);
  results.replaceChildren(...body.items.map(card));
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (text) {
    const url = new URL(window.location);
    url.searchParams.set("q", text);
    history.replaceState(null, "", url);
    search(text);
  }
});

const initial = new URL(window.location).searchParams.get("q");
if (initial) {
  input.value = initial;
  search(initial);
}
