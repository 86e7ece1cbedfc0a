// Multi-camera view: every clip of an activity, played in sync by corrected recording time.
// One master position (seconds from the activity's start); each video is placed at
// (span start + position - clip start) and nudged back whenever it drifts more than 0.2 s.
import { formatZoned } from "./common.js";

const box = document.getElementById("multicam");
if (box) {
  const spanStart = Number(box.dataset.spanStartMs);
  const zone = box.dataset.zone;
  const cams = [...box.querySelectorAll("video")];
  const seek = box.querySelector("input[type=range]");
  const out = box.querySelector("output");
  let playing = false;
  let pos = 0; // master position, seconds since the span start
  let last = null;

  const local = (v, p) => (spanStart + p * 1000 - Number(v.dataset.startMs)) / 1000;

  function place(p, force) {
    for (const v of cams) {
      const t = local(v, p);
      const inside = t >= 0 && (!v.duration || t <= v.duration);
      v.classList.toggle("outside", !inside);
      if (!inside) { if (!v.paused) v.pause(); continue; }
      if (force || Math.abs(v.currentTime - t) > 0.2) v.currentTime = t;
      if (playing && v.paused) v.play().catch(() => {});
      if (!playing && !v.paused) v.pause();
    }
    out.textContent = formatZoned(spanStart + p * 1000, zone);
    seek.value = String(p);
  }

  function frame(now) {
    if (playing) {
      if (last != null) pos += (now - last) / 1000;
      last = now;
      place(pos, false);
      requestAnimationFrame(frame);
    } else {
      last = null;
    }
  }

  box.querySelector("[data-action=play]").addEventListener("click", () => {
    if (playing) return;
    playing = true; place(pos, true); requestAnimationFrame(frame);
  });
  box.querySelector("[data-action=pause]").addEventListener("click", () => { playing = false; place(pos, false); });
  seek.addEventListener("input", () => { pos = Number(seek.value); place(pos, true); });
  window.liuhenMulticam = { seek: (p) => { pos = p; place(pos, true); }, position: () => pos };
  place(0, true);
}
