// The APIs, same origin (nginx proxies them): small wrappers that turn failures into messages.

export class ApiError extends Error {}

async function parse(response) {
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = Array.isArray(body.detail)
      ? body.detail.map((d) => `${(d.loc || []).join(".")}: ${d.msg}`).join("; ")
      : body.detail || response.statusText;
    throw new ApiError(`${detail} (HTTP ${response.status})`);
  }
  return body;
}

async function call(url, options) {
  let response;
  try {
    response = await fetch(url, options);
  } catch {
    throw new ApiError("the server cannot be reached; is the stack running?");
  }
  return parse(response);
}

export function searchText(text, params) {
  return call(`/api/v1/image/search?${new URLSearchParams({ text, ...params })}`);
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
export function upload(files, tags, apiKey, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const file of files) form.append("files", file, file.webkitRelativePath || file.name);
    if (tags) form.append("tags", tags);
    form.append("source", "page");
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/v1/images");
    if (apiKey) xhr.setRequestHeader("X-API-Key", apiKey);
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => {
      let body = {};
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        /* not JSON: reported below */
      }
      if (Array.isArray(body.items)) resolve(body);
      else reject(new ApiError(`${body.detail || xhr.statusText} (HTTP ${xhr.status})`));
    };
    xhr.onerror = () => reject(new ApiError("the upload did not reach the server"));
    xhr.send(form);
  });
}

// Server-sent events of a job: onProgress(status) on each change, resolves with the last one.
export function followJob(jobId, onProgress) {
  return new Promise((resolve) => {
    const events = new EventSource(`/api/v1/jobs/${jobId}/events`);
    let last = null;
    events.addEventListener("progress", (event) => {
      last = JSON.parse(event.data);
      onProgress(last);
    });
    events.addEventListener("done", (event) => {
      events.close();
      resolve(JSON.parse(event.data));
    });
    events.onerror = () => {
      events.close();
      resolve(last);
    };
  });
}
