// Shared by the builder and the campaigns list: JSON calls with the session cookie, and the sign-in box.
"use strict";

async function api(method, path, body) {
  const options = { method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const answer = await fetch(path, options);
  let data = null;
  try { data = await answer.json(); } catch (e) { data = null; }
  return { status: answer.status, ok: answer.ok, data };
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child ?? "")));
  return node;
}

function number(value, digits) {
  return Number(value).toLocaleString("en", { maximumFractionDigits: digits ?? 0 });
}

// Load the page's data; on 401/403 show the sign-in box, which keeps the key in an HttpOnly cookie.
async function signedIn(load) {
  const box = document.getElementById("signin");
  const first = await load();
  if (first) return;
  box.style.display = "block";
  document.getElementById("signin-button").addEventListener("click", async () => {
    const key = document.getElementById("signin-key").value.trim();
    const answer = await api("POST", "/v1/session", { key });
    if (!answer.ok) {
      document.getElementById("signin-error").textContent = (answer.data && answer.data.detail) || "key refused";
      return;
    }
    box.style.display = "none";
    await load();
  });
}
