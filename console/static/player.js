// Supervised player: the page only has a <video> once a purpose was stated (recorded server-side first).
// Thumbnail strip for scrubbing, the corrected recorder clock, mark in / out for linking a range.
import { formatZoned } from "./common.js";

const box = document.getElementById("player");
if (box) {
  const video = box.querySelector("video");
  const clock = document.getElementById("clock");
  const marked = document.getElementById("marked");
  const start = Number(box.dataset.startMs || "0");
  const zone = box.dataset.zone;
  let markIn = null;
  let markOut = null;

  const tick = () => {
    clock.textContent = start ? formatZoned(start + video.currentTime * 1000, zone) : video.currentTime.toFixed(1) + " s";
  };
  video.addEventListener("timeupdate", tick);
  video.addEventListener("seeked", tick);
  video.addEventListener("loadedmetadata", tick);

  for (const b of box.querySelectorAll(".thumb")) {
    b.addEventListener("click", () => { video.currentTime = Number(b.dataset.t); });
  }

  const show = () => {
    const fmt = (t) => (t == null ? "–" : t.toFixed(1) + " s");
    marked.textContent = `${fmt(markIn)} → ${fmt(markOut)}`;
    const a = document.getElementById("t_start");
    const z = document.getElementById("t_end");
    if (a) a.value = markIn == null ? "" : markIn.toFixed(3);
    if (z) z.value = markOut == null ? "" : markOut.toFixed(3);
  };
  box.querySelector("[data-action=mark-in]").addEventListener("click", () => { markIn = video.currentTime; show(); });
  box.querySelector("[data-action=mark-out]").addEventListener("click", () => { markOut = video.currentTime; show(); });
}
