(function () {
  "use strict";
  var doc = document;
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };
  doc.documentElement.className += " js";
  var bar = doc.getElementById("filters");
  if (!bar) { return; }
  var boxes = bar.querySelectorAll("input[type=checkbox]");
  var controls = doc.querySelectorAll("article.control");
  var levels = doc.querySelectorAll("section.level");
  var counter = doc.getElementById("filter-count");
  var gaps = (bar.getAttribute("data-gaps") || "").split(" ");

  function picked(kind) {
    var out = {};
    each(boxes, function (box) {
      if (box.name === kind && box.checked) { out[box.value] = true; }
    });
    return out;
  }

  function apply() {
    var statuses = picked("status");
    var wanted = picked("level");
    var shown = 0;
    each(controls, function (el) {
      var show = statuses[el.getAttribute("data-status")] === true &&
        wanted[el.getAttribute("data-level")] === true;
      el.classList.toggle("filtered", !show);
      if (show) { shown += 1; }
    });
    each(levels, function (sec) {
      sec.classList.toggle("filtered", sec.querySelector("article.control:not(.filtered)") === null);
    });
    bar.classList.toggle("narrowed", shown < controls.length);
    if (counter) {
      counter.textContent = (counter.getAttribute("data-template") || "")
        .replace("{shown}", String(shown))
        .replace("{total}", String(controls.length));
    }
  }

  function choose(kind, values) {
    each(boxes, function (box) {
      if (box.name === kind) { box.checked = values.indexOf(box.value) >= 0; }
    });
  }

  function fromHash() {
    var hash;
    try {
      hash = decodeURIComponent(window.location.hash.replace(/^#/, ""));
    } catch (err) {
      return; // a malformed fragment (say #status=%E0) is ignored: everything stays shown
    }
    if (hash.indexOf("=") < 0) { return; }
    each(hash.split("&"), function (part) {
      var pair = part.split("=");
      if (pair.length === 2 && (pair[0] === "status" || pair[0] === "level")) {
        choose(pair[0], pair[1].split(","));
      }
    });
  }

  each(boxes, function (box) { box.addEventListener("change", apply); });
  each(bar.querySelectorAll("button[data-preset]"), function (button) {
    button.addEventListener("click", function () {
      each(boxes, function (box) { box.checked = true; });
      if (button.getAttribute("data-preset") === "gaps") { choose("status", gaps); }
      apply();
    });
  });

  bar.hidden = false;
  fromHash();
  apply();
}());
