// Behaviour every page shares, kept in this file because the site's Content-Security-Policy runs
// no inline script: confirmations, the upload progress bar, and the message of an htmx request
// that failed.
(() => {
  // A button with data-confirm asks before its form is sent (captured before any other handler).
  document.addEventListener(
    "submit",
    (event) => {
      const question = event.submitter?.dataset.confirm;
      if (question && !window.confirm(question)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true,
  );

  // htmx reports upload progress on the form being sent.
  document.addEventListener("htmx:xhr:progress", (event) => {
    const bar = event.target.querySelector?.("progress[data-upload-progress]");
    if (bar && event.detail.lengthComputable) bar.value = (event.detail.loaded / event.detail.total) * 100;
  });

  // htmx swaps nothing in for an error answer: show its message at the top of the form instead.
  function showProblem(element, message) {
    const form = element.closest("form") ?? element;
    let box = form.querySelector(":scope > [data-request-problem]");
    if (!box) {
      box = document.createElement("div");
      box.className = "notice bad";
      box.setAttribute("role", "alert");
      box.dataset.requestProblem = "";
      form.prepend(box);
    }
    box.textContent = message;
  }

  document.addEventListener("htmx:responseError", (event) => {
    const { xhr, elt } = event.detail;
    const type = xhr.getResponseHeader("content-type") ?? "";
    let message = "";
    if (type.startsWith("text/html")) {
      // Parsed, never inserted: only the text of the error page's message is taken.
      const page = new DOMParser().parseFromString(xhr.responseText, "text/html");
      message = page.querySelector("main .notice.bad")?.textContent ?? "";
    } else if (type.startsWith("application/json")) {
      try {
        message = JSON.parse(xhr.responseText).error.message;
      } catch {}
    }
    showProblem(elt, message.trim() || `The site answered with an error (HTTP ${xhr.status}). Try again.`);
  });

  // A form marked data-reset-after-request (the reply of a conversation) empties once its answer is in.
  document.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt;
    if (!event.detail.successful || !form.matches?.("form[data-reset-after-request]")) return;
    form.reset();
    form.querySelector(":scope > [data-request-problem]")?.remove();
    for (const preview of form.querySelectorAll("[aria-live]")) preview.textContent = "";
  });

  document.addEventListener("htmx:sendError", (event) => {
    showProblem(event.detail.elt, "The site could not be reached: check your connection and try again.");
  });
})();
