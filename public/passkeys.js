// Passkeys on the two-factor page (adding one) and the log-in's second step (using one), through
// the vendored @simplewebauthn/browser (the global SimpleWebAuthnBrowser). Kept in this file
// because the site's Content-Security-Policy runs no inline script.
(() => {
  const csrf = () => {
    const headers = document.body.getAttribute("hx-headers");
    try {
      return headers ? JSON.parse(headers)["X-CSRF-Token"] : undefined;
    } catch {
      return undefined;
    }
  };

  async function post(url, body) {
    const headers = { "content-type": "application/json" };
    const token = csrf();
    if (token) headers["x-csrf-token"] = token;
    const response = await fetch(url, {
      method: "POST",
      headers,
      body: JSON.stringify(body ?? {}),
      credentials: "same-origin",
    });
    let answer = {};
    try {
      answer = await response.json();
    } catch {}
    if (!response.ok) throw new Error(answer?.error?.message ?? "The site refused this passkey.");
    return answer;
  }

  function show(message) {
    const box = document.getElementById("passkey-problem");
    if (!box) return;
    box.textContent = message;
    box.hidden = false;
  }

  function problemOf(error) {
    if (error?.name === "NotAllowedError") return "The passkey was not used (cancelled or timed out).";
    return error?.message || "The passkey did not work.";
  }

  document.addEventListener("click", async (event) => {
    const button = event.target.closest?.("#passkey-add, #passkey-login");
    if (!button) return;
    const webauthn = window.SimpleWebAuthnBrowser;
    if (!webauthn?.browserSupportsWebAuthn()) {
      show("This browser cannot use passkeys.");
      return;
    }
    button.disabled = true;
    try {
      const optionsJSON = await post(button.dataset.optionsUrl);
      if (button.id === "passkey-add") {
        const response = await webauthn.startRegistration({ optionsJSON });
        const name = document.getElementById("passkey-name")?.value ?? "Passkey";
        const done = await post(button.dataset.verifyUrl, { name, response });
        window.location.assign(done.location);
      } else {
        const response = await webauthn.startAuthentication({ optionsJSON });
        const done = await post(button.dataset.verifyUrl, response);
        window.location.assign(done.location);
      }
    } catch (error) {
      show(problemOf(error));
      button.disabled = false;
    }
  });
})();
