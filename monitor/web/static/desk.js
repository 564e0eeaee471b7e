// Keyboard triage for the inbox: j/k move between hits, r/i/u mark the selected hit relevant / irrelevant /
// unsure, n jumps to its note, o opens its article. Marks are the hit's own form buttons, so the server and
// its CSRF check see exactly what a click would send.
(function () {
  "use strict";
  var LABEL_KEYS = { r: "relevant", i: "irrelevant", u: "unsure" };
  var currentId = null;

  function hits() {
    return Array.prototype.slice.call(document.querySelectorAll("li.hit"));
  }

  function current() {
    return currentId ? document.getElementById(currentId) : null;
  }

  function select(element, keepFocus) {
    var previous = current();
    if (previous) {
      previous.classList.remove("selected");
      previous.removeAttribute("aria-current");
    }
    if (!element) {
      currentId = null;
      return;
    }
    currentId = element.id;
    element.classList.add("selected");
    element.setAttribute("aria-current", "true");
    if (!keepFocus) {
      element.focus({ preventScroll: true });
      element.scrollIntoView({ block: "nearest" });
    }
  }

  function move(step) {
    var list = hits();
    if (!list.length) {
      return;
    }
    var index = list.indexOf(current());
    var next = index < 0 ? 0 : Math.min(list.length - 1, Math.max(0, index + step));
    select(list[next]);
  }

  function typing(target) {
    var name = target && target.tagName;
    return name === "INPUT" || name === "TEXTAREA" || name === "SELECT" || (target && target.isContentEditable);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (typing(event.target)) {
      if (event.key === "Escape") {
        event.target.blur();
        var hit = current();
        if (hit) {
          hit.focus({ preventScroll: true });
        }
      }
      return;
    }
    var selected = current();
    if (event.key === "j") {
      move(1);
    } else if (event.key === "k") {
      move(-1);
    } else if (LABEL_KEYS[event.key] && selected) {
      var button = selected.querySelector("form.mark button[value='" + LABEL_KEYS[event.key] + "']");
      if (button) {
        button.click();
      }
    } else if (event.key === "n" && selected) {
      var input = selected.querySelector("input.note-input");
      if (input) {
        input.focus();
      }
    } else if (event.key === "o" && selected) {
      var link = selected.querySelector("a.title");
      if (link) {
        window.location.href = link.getAttribute("href");
      }
    } else {
      return;
    }
    event.preventDefault();
  });

  // A marked hit comes back from the server and replaces its row: keep it selected. A key pressed before the
  // row settled (n put the cursor in its note) keeps its focus.
  document.addEventListener("htmx:afterSettle", function () {
    if (currentId) {
      var again = document.getElementById(currentId);
      if (again) {
        currentId = null;
        select(again, again.contains(document.activeElement) && document.activeElement !== again);
      }
    }
  });

  // Clicking a hit selects it.
  document.addEventListener("click", function (event) {
    var hit = event.target.closest && event.target.closest("li.hit");
    if (hit && currentId !== hit.id) {
      select(hit);
    }
  });
})();
