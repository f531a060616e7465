// Metadata form: a flag field (such as "issuer outside mainland China") shows and hides
// the fields whose rules name it at once, as the server decides after saving. A hidden
// field's inputs are disabled, so the form sends only what applies. A field the flag
// relaxes (optional_if, text_if) is marked "relaxed" while the box is ticked: the page
// then shows "optional" instead of "Missing" and the suggestion's refusal or Accept button
// that holds in that state (both rendered by the server, which still judges on Save).
(() => {
  const form = document.getElementById("metadata-form");
  if (!form) return;
  function apply() {
    const flags = {};
    form.querySelectorAll(".metadata-flag").forEach((box) => {
      flags[box.name.slice("field:".length)] = box.checked;
    });
    form.querySelectorAll(".metadata-field").forEach((row) => {
      const unless = row.dataset.unless;
      const onlyIf = row.dataset.onlyIf;
      const applies = !(unless && flags[unless]) && !(onlyIf && !flags[onlyIf]);
      row.hidden = !applies;
      row.querySelectorAll("input").forEach((input) => { input.disabled = !applies; });
      const relaxer = row.dataset.optionalIf || row.dataset.textIf;
      if (!relaxer) return;
      const relaxed = Boolean(flags[relaxer]);
      row.classList.toggle("relaxed", relaxed);
      if (row.dataset.optionalIf && row.hasAttribute("data-missing")) {
        row.querySelectorAll(".form-control").forEach((input) => input.classList.toggle("is-invalid", !relaxed));
      }
    });
  }
  form.querySelectorAll(".metadata-flag").forEach((box) => box.addEventListener("change", apply));
})();
