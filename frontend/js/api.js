// The APIs, same origin (nginx proxies them): small wrappers that turn failures into messages.
// A server with API keys gets the key the user gave (kept for this tab only); the image URLs
// in its answers come signed, so <img> needs no key.

export class ApiError extends Error {
  constructor(message, status = 0, body = {}) {
    super(message);
    this.status = status;
    this.body = body; // the error body: its code (body.error) and, for a bad query, position
  }
}

const KEY_STORE = "imagesearch.apiKey";

export function apiKey() {
  return sessionStorage.getItem(KEY_STORE) || "";
}

export function setApiKey(key) {
  if (key) sessionStorage.setItem(KEY_STORE, key);
  else sessionStorage.removeItem(KEY_STORE);
}

function withKey(options = {}) {
  const key = apiKey();
  if (!key) return options;
  return { ...options, headers: { ...(options.headers || {}), "X-API-Key": key } };
}

async function parse(response) {
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = Array.isArray(body.detail)
      ? body.detail.map((d) => `${(d.loc || []).join(".")}: ${d.msg}`).join("; ")
      : body.detail || response.statusText;
    throw new ApiError(`${detail} (HTTP ${response.status})`, response.status, body);
  }
  return body;
}

async function call(url, options) {
  let response;
  try {
    response = await fetch(url, withKey(options));
  } catch {
    throw new ApiError("the server cannot be reached; is the stack running?");
  }
  return parse(response);
}

// text in the query language, and/or images to find more like (like) and fewer like (unlike)
export function searchText(text, params, feedback = { like: [], unlike: [] }) {
  const query = new URLSearchParams(params);
  if (text) query.set("text", text);
  for (const id of feedback.like) query.append("like", id);
  for (const id of feedback.unlike) query.append("unlike", id);
  return call(`/api/v1/image/search?${query}`);
}

export function searchImage(file, params) {
  const form = new FormData();
  form.append("file", file);
  return call(`/api/v1/image/search?${new URLSearchParams(params)}`, { method: "POST", body: form });
}

export function similar(id, params) {
  return call(`/api/v1/images/${id}/similar?${new URLSearchParams(params)}`);
}

export function nextPage(link) {
  return call(link);
}

// One upload request; onProgress(bytesSent) as the body goes out (XHR: fetch has no upload progress).
export function upload(files, tags, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const file of files) form.append("files", file, file.webkitRelativePath || file.name);
    if (tags) form.append("tags", tags);
    form.append("source", "page");
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/v1/images");
    if (apiKey()) xhr.setRequestHeader("X-API-Key", apiKey());
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => {
      let body = {};
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        /* not JSON: reported below */
      }
      if (Array.isArray(body.items)) resolve(body);
      else reject(new ApiError(`${body.detail || xhr.statusText} (HTTP ${xhr.status})`, xhr.status));
    };
    xhr.onerror = () => reject(new ApiError("the upload did not reach the server"));
    xhr.send(form);
  });
}

// Server-sent events of a job: onProgress(status) on each change, resolves with the last one.
// Read with fetch rather than EventSource, which cannot send a key. A stream that ends before
// 'done' (it has a lifetime) is opened again after its retry hint; past the server's cap on
// streams (429) it waits as told and tries again.
export async function followJob(jobId, onProgress) {
  let last = null;
  for (;;) {
    const round = await readJobEvents(jobId, onProgress);
    last = round.last || last;
    if (round.finished) return last;
    await new Promise((resolve) => setTimeout(resolve, round.retryMs));
  }
}

async function readJobEvents(jobId, onProgress) {
  const round = { last: null, finished: true, retryMs: 1000 };
  let response;
  try {
    response = await fetch(`/api/v1/jobs/${jobId}/events`, withKey());
  } catch {
    return round;
  }
  if (response.status === 429) {
    const after = Number(response.headers.get("Retry-After")) || 2;
    return { ...round, finished: false, retryMs: after * 1000 };
  }
  if (!response.ok || !response.body) return round;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch {
      return round;
    }
    if (chunk.done) return { ...round, finished: false }; // its lifetime ended: reconnect
    buffered += chunk.value.replaceAll("\r\n", "\n");
    let end;
    while ((end = buffered.indexOf("\n\n")) >= 0) {
      const event = parseEvent(buffered.slice(0, end));
      buffered = buffered.slice(end + 2);
      if (event.retry) round.retryMs = event.retry;
      if (!event.data) continue;
      round.last = JSON.parse(event.data);
      if (event.name === "done") {
        reader.cancel().catch(() => {});
        return round;
      }
      onProgress(round.last);
    }
  }
}

function parseEvent(block) {
  const event = { name: "message", data: "" };
  for (const line of block.split("\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const field = line.slice(0, colon);
    const value = line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event.name = value;
    if (field === "data") event.data += event.data ? `\n${value}` : value;
    if (field === "retry" && /^\d+$/.test(value)) event.retry = Number(value);
  }
  return event;
}

// ---- the library: timeline, counts, delete, edit
export function browse(params) {
  return call(`/api/v1/images?${new URLSearchParams(params)}`);
}

// one image's status: its details (the text read, with boxes) and where its enrichment stands
export function imageStatus(id) {
  return call(`/api/v1/images/${id}`);
}

// how the results of a query (or the filtered library) spread over places, tags, years, cameras
export function facets(text, params) {
  const query = new URLSearchParams(params);
  query.delete("limit");
  query.delete("sort");
  if (text) query.set("text", text);
  return call(`/api/v1/facets?${query}`);
}

// which model answers searches, and what it knows (from its card)
export function liveModel() {
  return call("/api/v1/model");
}

// a candidate model evaluated on a sample of the library, beside the live one
export function evaluateModel(model, sample) {
  return call("/api/v1/model-evaluations", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ model, sample }),
  });
}

export function evaluation(id) {
  return call(`/api/v1/model-evaluations/${id}`);
}

export function stats() {
  return call("/api/v1/stats");
}

export function deleteImages(ids) {
  return call("/api/v1/images/delete", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ ids }),
  });
}

export function deleteImage(id) {
  return call(`/api/v1/images/${id}`, { method: "DELETE" });
}

export function editImage(id, changes) {
  return call(`/api/v1/images/${id}`, {
    method: "PATCH",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(changes),
  });
}

export function savedSearches() {
  return call("/api/v1/saved-searches");
}

export function saveSearch(name, query) {
  return call("/api/v1/saved-searches", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name, query }),
  });
}

// a search by an uploaded picture, kept with the picture; query: the rest (filters, min_score)
export function saveImageSearch(name, file, query) {
  const form = new FormData();
  form.append("file", file);
  form.append("name", name);
  form.append("query", JSON.stringify(query));
  return call("/api/v1/saved-searches/image", { method: "POST", body: form });
}

// an album's first page (reading it marks the album seen); the next pages by their links
export function albumImages(id, limit) {
  return call(`/api/v1/saved-searches/${id}/images?limit=${limit}`);
}

export function duplicateGroups(link) {
  return call(link || "/api/v1/duplicates?tier=same_picture&limit=20");
}
