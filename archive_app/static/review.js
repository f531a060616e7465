// The review desk (templates/checklist/review.html): keyboard shortcuts, and a field's source
// snippet shown where it is on the scan (the viewer's OCR line holding that text).
(() => {
  const confirmForm = document.getElementById("review-confirm");
  const reason = document.getElementById("review-reason");
  const go = (name) => {
    const link = document.querySelector(`[data-review="${name}"]`);
    if (link) link.click();
  };
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const typing = event.target.closest("input, textarea, select, [contenteditable]");
    if (typing) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    const key = event.key.toLowerCase();
    if (key === "c" && confirmForm) { event.preventDefault(); confirmForm.requestSubmit(); }
    else if (key === "r" && reason) { event.preventDefault(); reason.focus(); }
    else if (key === "n") go("next");
    else if (key === "p") go("previous");
  });

  const plain = (text) => text.normalize("NFKC").replace(/\s+/g, "");
  document.addEventListener("click", (event) => {
    const source = event.target.closest(".review-snippet");
    const viewer = document.getElementById("viewer");
    if (!source || !viewer) return;
    const snippet = plain(source.dataset.snippet);
    const line = [...viewer.querySelectorAll(".ocr-line")].find((candidate) => {
      const text = plain(candidate.textContent);
      return text && (text.includes(snippet) || (text.length >= 4 && snippet.includes(text)));
    });
    if (!line) return;
    const page = Number(line.closest(".viewer-page-text").dataset.page);
    viewer.showPage(page);
    line.click();
  });
})();
