// The document viewer (templates/documents/_viewer.html): page navigation, zoom, turning the
// page for viewing (it opens turned the way the reading found it upright), and the box of
// the chosen OCR line drawn on the page. Turning is drawn here only; nothing is stored.
(() => {
  const viewer = document.getElementById("viewer");
  if (!viewer) return;
  const total = Number(viewer.dataset.pages);
  const image = viewer.querySelector(".viewer-image");
  const stage = viewer.querySelector(".viewer-stage");
  const frame = viewer.querySelector(".viewer-frame");
  const sheet = viewer.querySelector(".viewer-sheet");
  const highlight = viewer.querySelector(".viewer-highlight");
  const pageLabel = viewer.querySelector(".viewer-page-label");
  const zoomLabel = viewer.querySelector(".viewer-zoom-label");
  const ZOOMS = [0.5, 0.75, 1, 1.5, 2, 3];
  let page = Number(viewer.dataset.page) || 1;
  let zoom = 1;
  let rotation = 0;

  const texts = () => viewer.querySelectorAll(".viewer-page-text");
  const textOf = (number) => viewer.querySelector(`.viewer-page-text[data-page="${number}"]`);

  function layout() {
    if (!image || !image.naturalWidth) return;
    const quarter = rotation % 180 !== 0;
    const available = stage.clientWidth;
    const ratio = image.naturalHeight / image.naturalWidth;
    // The turned page fills the stage's width at 100 %.
    const width = (quarter ? available / ratio : available) * zoom;
    const height = width * ratio;
    sheet.style.width = `${width}px`;
    sheet.style.height = `${height}px`;
    const shifts = { 0: [0, 0], 90: [height, 0], 180: [width, height], 270: [0, width] };
    const [dx, dy] = shifts[rotation];
    sheet.style.transform = `translate(${dx}px, ${dy}px) rotate(${rotation}deg)`;
    frame.style.width = `${quarter ? height : width}px`;
    frame.style.height = `${quarter ? width : height}px`;
    zoomLabel.textContent = `${Math.round(zoom * 100)}%`;
  }

  function show(number) {
    page = Math.min(Math.max(1, number), total);
    texts().forEach((block) => { block.hidden = Number(block.dataset.page) !== page; });
    const text = textOf(page);
    rotation = text ? Number(text.dataset.rotation) % 360 : 0;
    highlight.hidden = true;
    const label = viewer.dataset.labelPage.replace("PAGE", page);
    if (image) {
      image.alt = label;
      const src = viewer.dataset.src.replace("PAGE", page);
      if (image.getAttribute("src") !== src) image.src = src;
      else layout();
    }
    if (pageLabel) pageLabel.textContent = label;
    viewer.dataset.page = page;
    viewer.querySelectorAll('[data-viewer="previous"]').forEach((b) => { b.disabled = page <= 1; });
    viewer.querySelectorAll('[data-viewer="next"]').forEach((b) => { b.disabled = page >= total; });
  }

  function mark(button) {
    viewer.querySelectorAll(".ocr-line.active").forEach((b) => b.classList.remove("active"));
    button.classList.add("active");
    if (!highlight) return;
    const [left, top, width, height] = button.dataset.box.split(",").map(Number);
    Object.assign(highlight.style, {
      left: `${left * 100}%`, top: `${top * 100}%`,
      width: `${width * 100}%`, height: `${height * 100}%`,
    });
    highlight.hidden = false;
    highlight.scrollIntoView({ block: "nearest", inline: "nearest" });
  }

  const actions = {
    previous: () => show(page - 1),
    next: () => show(page + 1),
    "zoom-in": () => { zoom = ZOOMS.find((z) => z > zoom) || zoom; layout(); },
    "zoom-out": () => { zoom = [...ZOOMS].reverse().find((z) => z < zoom) || zoom; layout(); },
    "zoom-fit": () => { zoom = 1; layout(); },
    "rotate-left": () => { rotation = (rotation + 270) % 360; layout(); },
    "rotate-right": () => { rotation = (rotation + 90) % 360; layout(); },
  };
  viewer.addEventListener("click", (event) => {
    const control = event.target.closest("[data-viewer]");
    if (control) actions[control.dataset.viewer]();
    const line = event.target.closest(".ocr-line");
    if (line) mark(line);
  });
  if (image) image.addEventListener("load", layout);
  window.addEventListener("resize", layout);
  viewer.showPage = show;  // the review desk moves the viewer to a snippet's page
  show(page);
  if (image && image.complete) layout();
})();
