// Upload page: each chosen or dropped file becomes a row waiting to be sent, with its own
// class (the batch class until changed; changing the batch class changes the rows still
// waiting). "Upload" sends each waiting row on its own request, with its row's class, then
// its extraction progress is polled until done. A sent row's class is fixed here; the
// document page changes it afterwards.
(() => {
  const root = document.getElementById("upload");
  if (!root) return;
  const text = (key) => root.dataset["text" + key[0].toUpperCase() + key.slice(1)];
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const list = document.getElementById("upload-list");
  const body = list.querySelector("tbody");
  const input = document.getElementById("file-input");
  const zone = document.getElementById("drop-zone");
  const batchClass = document.getElementById("batch-class");
  const classOptions = document.getElementById("class-options").innerHTML;
  const start = document.getElementById("start-upload");
  const waiting = []; // [file, row] not sent yet
  const watching = new Map(); // document id -> row
  let queue = Promise.resolve();

  function setStatus(row, kind, label, detail) {
    const cell = row.querySelector(".status");
    const colours = { ready: "success", failed: "danger", rejected: "danger", duplicate: "warning" };
    cell.innerHTML = "";
    const badge = document.createElement("span");
    badge.className = "badge text-bg-" + (colours[kind] || "secondary");
    badge.textContent = label;
    cell.appendChild(badge);
    if (detail) {
      const small = document.createElement("div");
      small.className = "small text-body-secondary mt-1";
      small.textContent = detail;
      cell.appendChild(small);
    }
    row.dataset.state = kind;
  }

  function addRow(file) {
    list.hidden = false;
    const row = document.createElement("tr");
    row.innerHTML = '<td class="name"></td><td><select class="form-select form-select-sm" aria-label="class"></select></td>' +
      '<td class="number font-monospace"></td><td class="status"></td>';
    row.querySelector(".name").textContent = file.name;
    const select = row.querySelector("select");
    select.innerHTML = classOptions;
    select.value = batchClass.value;
    select.setAttribute("aria-label", text("classFor").replace("{name}", file.name));
    body.appendChild(row);
    setStatus(row, "waiting", text("waiting"));
    return row;
  }

  function send(file, row) {
    setStatus(row, "uploading", text("uploading"));
    const form = new FormData();
    form.append("files", file, file.name);
    form.append("class", row.querySelector("select").value);
    return fetch(root.dataset.uploadUrl, { method: "POST", body: form, headers: { "X-CSRFToken": token } })
      .then((response) => response.json().then((data) => ({ ok: response.ok, data })))
      .then(({ ok, data }) => {
        if (!ok) { setStatus(row, "failed", text("failed"), data.message || ""); return; }
        const result = data[0];
        if (result.document) {
          const link = document.createElement("a");
          link.href = result.url; link.textContent = result.document;
          row.querySelector(".number").appendChild(link);
        }
        if (result.status === "queued") {
          setStatus(row, "queued", text("queued"));
          watching.set(result.id, row);
        } else {
          setStatus(row, result.status, text(result.status), result.error);
        }
      })
      .catch((error) => setStatus(row, "failed", text("failed"), String(error)));
  }

  function showStart() {
    start.hidden = waiting.length === 0;
    start.textContent = waiting.length === 1 ? text("startOne") : text("startMany").replace("{count}", waiting.length);
  }

  function take(files) {
    for (const file of files) waiting.push([file, addRow(file)]);
    showStart();
  }

  function sendWaiting() {
    for (const [file, row] of waiting.splice(0)) {
      row.querySelector("select").disabled = true;
      queue = queue.then(() => send(file, row));
    }
    showStart();
  }

  function poll() {
    if (watching.size === 0) return;
    const ids = Array.from(watching.keys()).join(",");
    fetch(root.dataset.statusUrl + "?ids=" + ids)
      .then((response) => response.json())
      .then((rows) => {
        for (const item of rows) {
          const row = watching.get(item.id);
          if (!row) continue;
          if (item.status === "processing") {
            setStatus(row, "processing", text("processing").replace("{done}", item.done).replace("{total}", item.total));
          } else if (item.status === "ready") {
            setStatus(row, "ready", text("ready")); watching.delete(item.id);
          } else if (item.status === "failed") {
            setStatus(row, "failed", text("failed"), item.error); watching.delete(item.id);
          } else {
            setStatus(row, "queued", text("queued"), item.error);
          }
        }
      })
      .catch(() => {});
  }
  setInterval(poll, 1000);

  batchClass.addEventListener("change", () => {
    for (const [, row] of waiting) row.querySelector("select").value = batchClass.value;
  });
  start.addEventListener("click", sendWaiting);
  input.addEventListener("change", () => { take(input.files); input.value = ""; });
  zone.addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); input.click(); } });
  ["dragenter", "dragover"].forEach((name) => zone.addEventListener(name, (event) => { event.preventDefault(); zone.classList.add("active"); }));
  ["dragleave", "drop"].forEach((name) => zone.addEventListener(name, (event) => { event.preventDefault(); zone.classList.remove("active"); }));
  zone.addEventListener("drop", (event) => take(event.dataTransfer.files));
})();
