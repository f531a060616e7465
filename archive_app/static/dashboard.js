// The dashboard's charts: drawn by the vendored Chart.js from the figures the page carries
// as JSON (the same figures as the tables beside them; the page runs no inline script).
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("dashboard-charts");
    if (!source || typeof Chart === "undefined") { return; }
    var charts = JSON.parse(source.textContent);
    Object.keys(charts).forEach(function (name) {
      var canvas = document.getElementById("chart-" + name);
      if (!canvas) { return; }
      var spec = charts[name];
      new Chart(canvas, {
        type: spec.type,
        data: { labels: spec.labels, datasets: spec.datasets },
        options: {
          animation: false,
          maintainAspectRatio: false,
          plugins: { legend: { display: spec.datasets.length > 1, position: "bottom" } },
          scales: {
            x: { stacked: !!spec.stacked },
            y: { stacked: !!spec.stacked, beginAtZero: true, ticks: { precision: 0 } }
          }
        }
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
