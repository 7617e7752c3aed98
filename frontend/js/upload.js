// The upload dialog: many files or a folder, each with its progress and its outcome
// (accepted / duplicate / rejected with the reason), then indexing progress until done.
import * as api from "./api.js";

const $ = (id) => document.getElementById(id);
const dialog = $("upload");
const list = $("upload-list");
const summary = $("upload-summary");
const BATCH_FILES = 10;
const BATCHES_AT_ONCE = 2;
const counts = { accepted: 0, duplicate: 0, rejected: 0, failed: 0, indexed: 0 };

function resetCounts() {
  for (const key of Object.keys(counts)) counts[key] = 0;
}

function showSummary(pending) {
  const parts = [
    `${counts.accepted} accepted`,
    `${counts.duplicate} already there`,
    `${counts.rejected} rejected`,
    `${counts.indexed} indexed`,
  ];
  if (counts.failed) parts.push(`${counts.failed} failed`);
  summary.textContent = `${pending ? "Uploading… " : ""}${parts.join(" · ")}`;
}

function fileRow(file) {
  const li = document.createElement("li");
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = file.webkitRelativePath || file.name;
  const bar = document.createElement("progress");
  bar.max = file.size || 1;
  bar.value = 0;
  bar.setAttribute("aria-label", `upload of ${file.name}`);
  const outcome = document.createElement("span");
  outcome.className = "outcome";
  outcome.textContent = "waiting";
  li.append(name, bar, outcome);
  list.append(li);
  return { li, bar, outcome };
}

function mark(row, state, text) {
  row.li.dataset.state = state;
  row.outcome.textContent = text;
}

async function sendBatch(batch, tags) {
  const rows = batch.map(fileRow);
  const ends = [];
  let total = 0;
  for (const file of batch) ends.push((total += file.size));
  const onProgress = (sent) => {
    // the files go out in order: what was sent so far fills them one after another
    batch.forEach((file, i) => {
      rows[i].bar.value = Math.max(0, Math.min(file.size, sent - (ends[i] - file.size)));
    });
  };
  rows.forEach((row) => mark(row, "sending", "uploading…"));
  let body;
  try {
    api.setApiKey($("upload-key").value.trim() || api.apiKey());
    body = await api.upload(batch, tags, onProgress);
  } catch (error) {
    rows.forEach((row) => mark(row, "failed", `not sent: ${error.message}`));
    counts.failed += rows.length;
    return;
  }
  const byId = new Map();
  body.items.forEach((item, i) => {
    const row = rows[i];
    if (!row) return; // a zip's members come back as more items than files
    row.bar.value = row.bar.max;
    counts[item.status] += 1;
    if (item.status === "rejected") mark(row, "rejected", `rejected: ${item.reason}`);
    else if (item.status === "duplicate") mark(row, "duplicate", "already there");
    else mark(row, "accepted", "accepted, indexing…");
    if (item.id && item.status === "accepted") byId.set(item.id, row);
  });
  showSummary(true);
  if (!body.job_id || byId.size === 0) return;
  const final = await api.followJob(body.job_id, (job) => {
    for (const entry of job.items) {
      const row = byId.get(entry.id);
      if (!row) continue;
      if (entry.state === "indexed") mark(row, "indexed", "indexed");
      else if (entry.state === "failed") mark(row, "failed", `failed: ${entry.reason}`);
      else if (entry.state === "waiting") mark(row, "accepted", entry.reason || "waiting…");
      else mark(row, "accepted", `${entry.state}…`);
    }
  });
  for (const entry of final?.items || []) {
    if (!byId.has(entry.id)) continue;
    if (entry.state === "indexed") counts.indexed += 1;
    if (entry.state === "failed") counts.failed += 1;
  }
  showSummary(true);
}

async function uploadAll(files) {
  const images = files.filter((f) => f.size > 0 && !f.name.startsWith("."));
  if (!images.length) return;
  const tags = $("upload-tags").value.trim();
  const batches = [];
  for (let i = 0; i < images.length; i += BATCH_FILES) batches.push(images.slice(i, i + BATCH_FILES));
  showSummary(true);
  const workers = Array.from({ length: BATCHES_AT_ONCE }, async () => {
    while (batches.length) await sendBatch(batches.shift(), tags);
  });
  await Promise.all(workers);
  showSummary(false);
  dialog.dataset.done = "true";
  document.dispatchEvent(new CustomEvent("images-added"));
}

// a dropped folder arrives as a directory entry: walk it for its files
async function filesOf(items) {
  const out = [];
  const walk = async (entry) => {
    if (entry.isFile) {
      out.push(await new Promise((resolve, reject) => entry.file(resolve, reject)));
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      let batch;
      do {
        batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
        for (const child of batch) await walk(child);
      } while (batch.length);
    }
  };
  const entries = Array.from(items)
    .map((item) => item.webkitGetAsEntry?.())
    .filter(Boolean);
  for (const entry of entries) await walk(entry);
  return out;
}

export function openUploads() {
  list.replaceChildren();
  summary.textContent = "";
  delete dialog.dataset.done;
  resetCounts();
  $("upload-key").value = api.apiKey();
  dialog.showModal();
}

for (const id of ["upload-files", "upload-folder"]) {
  $(id).addEventListener("change", (event) => {
    uploadAll(Array.from(event.target.files));
    event.target.value = "";
  });
}

const drop = $("upload-drop");
drop.addEventListener("dragover", (event) => {
  event.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", async (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  const dropped = event.dataTransfer.items?.length
    ? await filesOf(event.dataTransfer.items)
    : Array.from(event.dataTransfer.files);
  uploadAll(dropped.length ? dropped : Array.from(event.dataTransfer.files));
});

$("upload-close").addEventListener("click", () => dialog.close());
