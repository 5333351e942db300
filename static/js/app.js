/* Small progressive enhancements; every page works without them. */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var message = (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest(".js-print")) {
      window.print();
    }
  });

  function showFieldsForKind(row) {
    var select = row.querySelector(".target-kind");
    var kind = select ? select.value : "";
    row.querySelectorAll("[data-kinds]").forEach(function (field) {
      var kinds = field.getAttribute("data-kinds").split(" ");
      var wanted = !kind || kinds.indexOf(kind) !== -1;
      var hasValue = field.querySelector("input") && field.querySelector("input").value;
      field.hidden = !(wanted || hasValue || field.classList.contains("has-error"));
    });
  }

  function checkKnown(row) {
    var slot = row.querySelector(".known-slot");
    if (!slot) { return; }
    var params = new URLSearchParams();
    row.querySelectorAll("input, select").forEach(function (input) {
      var match = /^targets-\d+-([a-z_]+)$/.exec(input.name);
      if (match && input.value) { params.set(match[1], input.value); }
    });
    if (!params.get("kind")) { return; }
    fetch(slot.getAttribute("data-known-url") + "?" + params.toString(), {credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) { slot.innerHTML = html; })
      .catch(function () { /* the hint is optional */ });
  }

  document.querySelectorAll(".target-row").forEach(function (row) {
    showFieldsForKind(row);
    row.addEventListener("change", function (event) {
      if (event.target.classList.contains("target-kind")) { showFieldsForKind(row); }
      checkKnown(row);
    });
  });
})();
