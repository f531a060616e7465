// Starts Swagger UI on /api/docs over the description named by the page (no inline script).
(function () {
  var holder = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({ url: holder.dataset.spec, dom_id: "#swagger-ui" });
})();
