// Review queue: one checkbox selects every line the user may confirm.
(() => {
  const all = document.getElementById("pick-all");
  if (!all) return;
  const boxes = () => document.querySelectorAll('input[name="documents"]');
  all.addEventListener("change", () => boxes().forEach((box) => { box.checked = all.checked; }));
})();
