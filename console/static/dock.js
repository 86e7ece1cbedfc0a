// Dock station live view: polls the state of every port once a second (no inline script, textContent only).
import { el, readJson } from "./common.js";

const box = document.getElementById("dock-live");
const T = readJson("dock-i18n");

function mb(n) { return (n / 1e6).toFixed(1) + " MB"; }
function eta(s) { return s == null ? "–" : s < 60 ? `${Math.round(s)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`; }

function portCard(p) {
  const verdict = p.running ? T.running : p.safe_to_wipe ? T.safe : T.unsafe;
  const cls = p.running ? "running" : p.safe_to_wipe ? "safe" : "unsafe";
  const card = el("article", { class: "port", "data-testid": "port", "data-port": p.port },
    el("div", { class: `state ${cls}`, "data-testid": "port-state" }, verdict),
    el("p", {}, `${T.port} ${p.port} · ${T.officer} ${p.officer || "–"} · ${T.device} ${p.device || "–"}`),
    el("progress", { max: String(Math.max(p.bytes_total, 1)), value: String(p.bytes_done) }),
    el("p", { "data-testid": "port-progress" },
      `${p.files_done}/${p.files_total} ${T.files} · ${mb(p.bytes_done)} / ${mb(p.bytes_total)} · ` +
      `${(p.mb_s || 0).toFixed(1)} MB/s · ${T.eta} ${eta(p.eta_s)}`));
  if (p.flags && p.flags.length) card.append(el("p", { class: "muted" }, `${T.flags}: ${p.flags.join(", ")}`));
  if (p.reasons && p.reasons.length) {
    const ul = el("ul", { "data-testid": "port-reasons" });
    for (const r of p.reasons) ul.append(el("li", {}, r));
    card.append(ul);
  }
  if (p.receipt_url) card.append(el("a", { href: p.receipt_url }, T.receipt));
  return card;
}

async function refresh() {
  try {
    const res = await fetch(box.dataset.stateUrl, { credentials: "same-origin", cache: "no-store" });
    if (res.status === 401) { window.location.reload(); return; }
    const state = await res.json();
    const grid = el("div", { class: "dock-grid" });
    for (const p of state.ports) grid.append(portCard(p));
    box.replaceChildren(state.ports.length ? grid : el("p", { class: "muted", "data-testid": "dock-empty" }, T.empty));
  } catch (e) {
    box.dataset.error = String(e);
  }
}

if (box) { refresh(); setInterval(refresh, 1000); }
