// The audit page checks the inclusion proof itself (RFC 9162 §2.1.3.2) with WebCrypto, from the bytes it shows:
// leaf hash = SHA-256(0x00 || leaf bytes); fold the proof hashes; compare with the root of the checkpoint
// note printed on the page. The server's verdict is shown separately; this is the browser's own.
import { readJson } from "./common.js";

const out = document.querySelector("[data-testid=proof-browser]");
const P = readJson("proof-data");
const T = readJson("proof-i18n");

const b64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const hex = (u) => [...u].map((x) => x.toString(16).padStart(2, "0")).join("");
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

async function sha256(...parts) {
  const n = parts.reduce((k, p) => k + p.length, 0);
  const buf = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { buf.set(p, o); o += p.length; }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
}

async function rootFromProof(leafHash, index, size, proof) {
  let fn = index, sn = size - 1, r = leafHash;
  for (const p of proof) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(Uint8Array.of(1), p, r);
      if (fn % 2 === 0) { while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); } }
    } else {
      r = await sha256(Uint8Array.of(1), r, p);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

function say(text, ok) {
  out.textContent = text;
  out.className = ok ? "safe" : "unsafe";
  out.dataset.verified = ok ? "yes" : "no";
}

async function check() {
  if (!(window.crypto && crypto.subtle)) { out.textContent = T.nocrypto; out.dataset.verified = "unavailable"; return; }
  const note = document.getElementById("checkpoint-note").textContent.split("\n");
  const [size, root] = [Number(note[1]), b64(note[2])];
  const leafHash = await sha256(Uint8Array.of(0), b64(P.leaf));
  if (!same(leafHash, b64(P.leaf_hash))) { say(T.bad.replace("%(what)s", T.leaf), false); return; }
  const got = size === P.size ? await rootFromProof(leafHash, P.index, P.size, P.hashes.map(b64)) : null;
  if (!got || !same(got, root)) { say(T.bad.replace("%(what)s", T.root), false); return; }
  say(T.ok + " (" + hex(got).slice(0, 16) + "…)", true);
}

if (out && P.leaf) check();
