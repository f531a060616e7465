// Metadata form: a flag field (such as "issuer outside mainland China") shows and hides
// the fields whose rules name it at once, as the server decides after saving. A hidden
// field's inputs are disabled, so the form sends only what applies.
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
    });
  }
  form.querySelectorAll(".metadata-flag").forEach((box) => box.addEventListener("change", apply));
})();
